// A message as a list of segments: bytes built in memory, and entries streamed
// from the container (base64-encoded attachments, or an .eml as it is). The
// size is the sum of the segments' sizes, known before a byte is written, and
// every open() streams the same bytes again.
import { Readable } from 'node:stream';
import { Encoder } from 'nodemailer/lib/base64';
import { XipError } from '../errors.js';
import type { VerifiedEntries } from '../items/ports.js';
import { BASE64_LINE, base64Size } from './encoding.js';

export interface EntrySegment {
  readonly entry: string;
  /** The entry's declared (uncompressed) size. */
  readonly size: number;
  readonly encoding: 'base64' | 'none';
}

export type Segment = Buffer | EntrySegment;

export function segmentSize(s: Segment): number {
  if (Buffer.isBuffer(s)) return s.length;
  return s.encoding === 'base64' ? base64Size(s.size) : s.size;
}

/** Joins adjacent in-memory segments, so that a message without attachments is one buffer. */
export function compact(segments: readonly (Segment | string)[]): Segment[] {
  const out: Segment[] = [];
  let pending: Buffer[] = [];
  const flush = (): void => {
    if (pending.length > 0) out.push(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending));
    pending = [];
  };
  for (const s of segments) {
    if (typeof s === 'string') pending.push(Buffer.from(s, 'utf8'));
    else if (Buffer.isBuffer(s)) pending.push(s);
    else {
      flush();
      out.push(s);
    }
  }
  flush();
  return out;
}

/**
 * Streams one entry, encoded or not, and holds it to its declared size: a
 * reader that yields more or fewer bytes would make the message's announced
 * size a lie, so the stream fails (ATTACHMENT_SIZE_MISMATCH) instead, before
 * any byte beyond the announced size is passed on.
 */
async function* entryBytes(entries: VerifiedEntries, s: EntrySegment): AsyncGenerator<Buffer> {
  const expected = segmentSize(s);
  const source = entries.openEntry(s.entry);
  let stream: Readable = source;
  if (s.encoding === 'base64') {
    const encoder = new Encoder({ lineLength: BASE64_LINE });
    source.on('error', (e) => encoder.destroy(e));
    stream = source.pipe(encoder);
  }
  let written = 0;
  const mismatch = (got: string): XipError =>
    new XipError('ATTACHMENT_SIZE_MISMATCH', `entry "${s.entry}": declared ${s.size} bytes, ${got}`, { entry: s.entry });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > expected) throw mismatch('got more');
      yield chunk;
    }
    // Base64 output alone cannot tell 1000 input bytes from 1001: count both.
    const read = s.encoding === 'base64' ? (stream as Encoder).inputBytes : written;
    if (written !== expected || read !== s.size) throw mismatch(`got ${read}`);
  } finally {
    source.destroy();
    stream.destroy();
  }
}

async function* allBytes(entries: VerifiedEntries, segments: readonly Segment[]): AsyncGenerator<Buffer> {
  for (const s of segments) {
    if (Buffer.isBuffer(s)) yield s;
    else yield* entryBytes(entries, s);
  }
}

export function openSegments(entries: VerifiedEntries, segments: readonly Segment[]): Readable {
  return Readable.from(allBytes(entries, segments), { objectMode: false });
}
