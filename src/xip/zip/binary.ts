// Bounded reads through the caller's file handle, and little-endian helpers.
// Every read here is preceded by a bounds check in the caller (yauzl's
// index.js discipline); these functions only guard against the file changing
// under us (a short read is ZIP_MALFORMED) and report I/O faults as IO_ERROR,
// never as the container's fault.
import type { FileHandle } from 'node:fs/promises';
import { XipError } from '../../errors.js';

/** Reads exactly `length` bytes at `position`. */
export async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, done, length - done, position + done));
    } catch (cause) {
      throw new XipError('IO_ERROR', `reading ${length} bytes at offset ${position}: ${(cause as Error).message}`, { cause });
    }
    if (bytesRead === 0) {
      throw new XipError('ZIP_MALFORMED', `unexpected end of file reading ${length} bytes at offset ${position}`);
    }
    done += bytesRead;
  }
  return buffer;
}

/**
 * Serves many small reads that mostly move forward (central directory
 * records, local headers in offset order) from one 64 KiB window, so a
 * million-entry archive costs a few thousand reads rather than millions.
 * Buffers returned by read() are copies: callers may keep them; view()
 * lends the window itself, for fields read at once.
 */
export class WindowReader {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
    private readonly windowSize = 64 * 1024,
  ) {}

  /** Copies `length` bytes at `position` into `target` at `offset`: no buffer of its own. */
  async readInto(target: Buffer, offset: number, position: number, length: number): Promise<number> {
    if (length > this.windowSize) return (await this.read(position, length)).copy(target, offset);
    await this.load(position, length);
    const from = position - this.windowStart;
    return this.window.copy(target, offset, from, from + length);
  }

  /** `length` bytes at `position` (at most the window's size), valid only until the next call: read them at once. */
  async view(position: number, length: number): Promise<Buffer> {
    if (length > this.windowSize) throw new RangeError(`a view of ${length} bytes is larger than the window`);
    await this.load(position, length);
    const from = position - this.windowStart;
    return this.window.subarray(from, from + length);
  }

  async read(position: number, length: number): Promise<Buffer> {
    if (length > this.windowSize) {
      this.guard(position, length);
      return readExactly(this.handle, position, length);
    }
    await this.load(position, length);
    const from = position - this.windowStart;
    return Buffer.from(this.window.subarray(from, from + length));
  }

  private guard(position: number, length: number): void {
    if (!(position >= 0 && length >= 0 && position + length <= this.fileSize)) {
      // The callers bounds-check against the file size first; this is a bug guard.
      throw new RangeError(`read of ${length} bytes at ${position} outside a file of ${this.fileSize} bytes`);
    }
  }

  private async load(position: number, length: number): Promise<void> {
    this.guard(position, length);
    if (position >= this.windowStart && position + length <= this.windowStart + this.window.length) return;
    this.window = await readExactly(this.handle, position, Math.min(this.windowSize, this.fileSize - position));
    this.windowStart = position;
  }
}

/** A 64-bit little-endian unsigned integer, or undefined above Number.MAX_SAFE_INTEGER. */
export function readUInt64(buffer: Buffer, offset: number): number | undefined {
  const value = buffer.readBigUInt64LE(offset);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
}

export function hex(value: number, digits = 8): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** One extra field (APPNOTE 4.5.1): header ID and its data. */
export interface ExtraField {
  readonly id: number;
  readonly data: Buffer;
}

/**
 * Parses an extra field block as yauzl's parseExtraFields does (up to 3
 * trailing padding bytes are ignored, as zipalign and others write them);
 * returns undefined when a field's length runs past the block.
 */
export function parseExtraFields(block: Buffer): ExtraField[] | undefined {
  const fields: ExtraField[] = [];
  let i = 0;
  while (i + 4 <= block.length) {
    const id = block.readUInt16LE(i);
    const size = block.readUInt16LE(i + 2);
    const end = i + 4 + size;
    if (end > block.length) return undefined;
    fields.push({ id, data: block.subarray(i + 4, end) });
    i = end;
  }
  return fields;
}

export const ZIP64_EXTRA_ID = 0x0001;
export const UNICODE_PATH_EXTRA_ID = 0x7075;
export const U32_SENTINEL = 0xffffffff;
export const U16_SENTINEL = 0xffff;

// General-purpose bit flags (APPNOTE 4.4.4).
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_UTF8 = 0x0800;
export const FLAG_MASKED_HEADERS = 0x2000;
