// An entry's uncompressed bytes as a stream, checked against the central
// directory while they flow (xip-format.md §4 step 5: an entry whose inflated
// size or CRC differs from its header is ZIP_MALFORMED). The compressed bytes
// are read through the caller's fd in 1 MiB reads (yauzl's fd-slicer reads
// 16 KiB at a time); DEFLATE goes through zlib's raw inflater, as in yauzl,
// but inside one stream.pipeline so that an error or an early destroy tears
// down every stage (yauzl's openReadStream leaves its inflater behind on
// destroy, see the TODO about issue #27 in its index.js).
import fs from 'node:fs';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { XipError } from '../../errors.js';
import { hex } from './binary.js';

export const READ_CHUNK_SIZE = 1024 * 1024;
const INFLATE_CHUNK_SIZE = 128 * 1024;

/** What the stream needs to know about an entry. */
export interface StreamedEntry {
  readonly name: string;
  readonly compressionMethod: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  readonly dataOffset: number;
}

/** Counts and CRCs the uncompressed bytes; stops as soon as there are too many. */
class ContentCheck {
  private size = 0;
  private crc = 0;

  constructor(private readonly entry: StreamedEntry) {}

  update(chunk: Buffer): XipError | undefined {
    this.size += chunk.length;
    if (this.size > this.entry.uncompressedSize) {
      return malformed(this.entry, `more than the ${this.entry.uncompressedSize} bytes the central directory declares`);
    }
    this.crc = zlib.crc32(chunk, this.crc);
    return undefined;
  }

  finish(): XipError | undefined {
    if (this.size !== this.entry.uncompressedSize) {
      return malformed(this.entry, `${this.size} bytes, the central directory declares ${this.entry.uncompressedSize}`);
    }
    if (this.crc !== this.entry.crc32) {
      return malformed(this.entry, `CRC-32 is ${hex(this.crc)}, the central directory says ${hex(this.entry.crc32)}`);
    }
    return undefined;
  }
}

function malformed(entry: StreamedEntry, detail: string): XipError {
  return new XipError('ZIP_MALFORMED', detail, { entry: entry.name });
}

/** Whatever a stage failed with, as the XipError the consumer sees. */
function asEntryError(entry: StreamedEntry, error: Error): XipError {
  if (error instanceof XipError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return new XipError('ZIP_MALFORMED', `inflate failed: ${error.message}`, { entry: entry.name, cause: error });
  return new XipError('IO_ERROR', `reading entry data: ${error.message}`, { entry: entry.name, cause: error });
}

/** Reads [start, start + length) of the fd; with a check, verifies the bytes as they go (STORED). */
class RangeStream extends Readable {
  private position: number;
  private remaining: number;

  constructor(
    private readonly fd: number,
    private readonly entry: StreamedEntry,
    private readonly check: ContentCheck | undefined,
    private readonly chunkSize: number,
  ) {
    super({ highWaterMark: chunkSize });
    this.position = entry.dataOffset;
    this.remaining = entry.compressedSize;
  }

  override _read(): void {
    const want = Math.min(this.chunkSize, this.remaining);
    if (want === 0) {
      const failure = this.check?.finish();
      if (failure) this.destroy(failure);
      else this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafe(want);
    const ioError = (error: Error) =>
      new XipError('IO_ERROR', `reading entry data: ${error.message}`, { entry: this.entry.name, cause: error });
    const done = (error: Error | null, bytesRead: number) => {
      if (this.destroyed) return;
      if (error) return void this.destroy(ioError(error));
      // openZip checked the bounds; the file has shrunk since.
      if (bytesRead === 0) return void this.destroy(malformed(this.entry, `unexpected end of file at offset ${this.position}`));
      const chunk = bytesRead < want ? buffer.subarray(0, bytesRead) : buffer;
      this.position += bytesRead;
      this.remaining -= bytesRead;
      const failure = this.check?.update(chunk);
      if (failure) return void this.destroy(failure);
      this.push(chunk);
    };
    try {
      fs.read(this.fd, buffer, 0, want, this.position, done);
    } catch (error) {
      // A closed handle's fd is -1: fs.read throws rather than calling back.
      this.destroy(ioError(error as Error));
    }
  }
}

/** Checks inflated bytes; also that the deflate stream used every compressed byte (no hidden tail). */
class InflatedCheck extends Transform {
  private readonly check: ContentCheck;

  constructor(
    private readonly entry: StreamedEntry,
    private readonly inflater: zlib.InflateRaw,
  ) {
    super({ readableHighWaterMark: INFLATE_CHUNK_SIZE });
    this.check = new ContentCheck(entry);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(this.check.update(chunk), chunk);
  }

  override _flush(callback: TransformCallback): void {
    const failure = this.check.finish();
    if (failure) return callback(failure);
    // zlib stops at the end of the deflate stream and drops what follows.
    if (this.inflater.bytesWritten !== this.entry.compressedSize) {
      return callback(
        malformed(this.entry, `the deflate stream ends after ${this.inflater.bytesWritten} of ${this.entry.compressedSize} compressed bytes`),
      );
    }
    callback();
  }

  // pipeline() destroys every stage with the first error: the consumer sees it as a XipError.
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    callback(error ? asEntryError(this.entry, error) : null);
  }
}

export function openEntryStream(fd: number, entry: StreamedEntry, chunkSize = READ_CHUNK_SIZE): Readable {
  if (entry.compressionMethod === 0) {
    // STORED: one stage, no copies; compressedSize === uncompressedSize (yauzl checked).
    return new RangeStream(fd, entry, new ContentCheck(entry), chunkSize);
  }
  const inflater = zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK_SIZE });
  const checked = new InflatedCheck(entry, inflater);
  // Errors reach the consumer through `checked`; the callback has nothing left to do.
  pipeline(new RangeStream(fd, entry, undefined, chunkSize), inflater, checked, () => {});
  return checked;
}
