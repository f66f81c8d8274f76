// Line-by-line reading of an .ndjson entry (xip-items.md §1: UTF-8, "\n" or
// "\r\n", blank lines ignored) without holding more than one line in memory.
// A line longer than the limit is skipped over (counted, not kept) and
// reported as such, so the lines after it are still read.
import type { Readable } from 'node:stream';

export type Line =
  | { readonly line: number; readonly bytes: Buffer; readonly tooLong?: undefined }
  | { readonly line: number; readonly tooLong: true; readonly length: number };

/** Yields each line (1-based numbers, line ending removed), the last one even without a final "\n". */
export async function* splitLines(stream: AsyncIterable<Buffer> | Readable, maxBytes: number): AsyncGenerator<Line> {
  let pieces: Buffer[] = [];
  let length = 0;
  let overflow = false;
  let lastByte = -1;
  let line = 1;

  const append = (piece: Buffer): void => {
    if (piece.length === 0) return;
    length += piece.length;
    lastByte = piece[piece.length - 1] as number;
    if (overflow) return;
    if (length > maxBytes + 1) { // + 1: the "\r" of a "\r\n" ending is not part of the line
      overflow = true;
      pieces = [];
      return;
    }
    pieces.push(piece);
  };

  const take = (): Line => {
    let result: Line;
    if (overflow || length > maxBytes + 1) {
      result = { line, tooLong: true, length: lastByte === 0x0d ? length - 1 : length };
    } else {
      let bytes = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, length);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      result = bytes.length > maxBytes ? { line, tooLong: true, length: bytes.length } : { line, bytes };
    }
    pieces = [];
    length = 0;
    overflow = false;
    lastByte = -1;
    line++;
    return result;
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) {
        append(start === 0 ? chunk : chunk.subarray(start));
        break;
      }
      append(chunk.subarray(start, nl));
      yield take();
      start = nl + 1;
    }
  }
  if (length > 0 || overflow) yield take();
}
