// The ZIP reader: step 1 of xip-format.md §4 on open, checked streams after.
// yauzl parses the central directory; our guards surround it (see
// end-of-central-directory.ts, central-directory.ts, local-header.ts and
// checks.ts). Everything is read through the caller's handle, which is never
// closed here: whoever opened the file owns it.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { XipError } from '../../errors.js';
import type { ZipLimits } from '../../limits.js';
import { WindowReader } from './binary.js';
import { readCentralDirectory } from './central-directory.js';
import { firstFailure } from './checks.js';
import { readEndOfCentralDirectory } from './end-of-central-directory.js';
import { openEntryStream } from './entry-stream.js';
import { readLocalRecord, type LocalRecord } from './local-header.js';
import { decodeName } from './names.js';

export type { ZipLimits } from '../../limits.js';

export interface ZipEntry {
  readonly index: number; // position in the central directory
  readonly name: string; // decoded UTF-8 name, already validated safe
  readonly isDirectory: boolean; // name ends with '/'
  readonly compressionMethod: 0 | 8;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  readonly generalPurposeFlags: number;
  readonly localHeaderOffset: number;
  readonly dataOffset: number; // first byte of the compressed data
  readonly localExtraFieldLength: number;
  readonly centralExtraFieldLength: number;
  readonly lastModified: Date;
}

export interface ZipArchive {
  readonly fileSize: number;
  readonly entries: readonly ZipEntry[]; // central-directory order
  /** Uncompressed bytes of an entry, streamed. The stream errors with XipError('ZIP_MALFORMED', …, {entry}) if the inflated size or CRC-32 differs from the central directory, or inflate fails. */
  openEntry(entry: ZipEntry): Readable;
  /** Whole entry in memory; XipError('ZIP_LIMIT') if uncompressedSize > maxBytes. Same checks as openEntry. */
  readEntry(entry: ZipEntry, maxBytes: number): Promise<Buffer>;
}

/** Runs every check of step 1 from the central directory and local headers before any entry data is read; throws the first XipError. Does not close the handle (the caller owns it). */
export async function openZip(handle: FileHandle, limits: ZipLimits): Promise<ZipArchive> {
  let fileSize: number;
  try {
    fileSize = (await handle.stat()).size;
  } catch (cause) {
    throw new XipError('IO_ERROR', `cannot stat the archive: ${(cause as Error).message}`, { cause });
  }
  const end = await readEndOfCentralDirectory(handle, fileSize, limits);
  const { records, end: centralDirectoryEnd } = await readCentralDirectory(handle, fileSize, end);
  // Local headers in file order, so the window reader mostly moves forward.
  const window = new WindowReader(handle, fileSize);
  const locals: LocalRecord[] = new Array<LocalRecord>(records.length);
  for (const record of [...records].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset)) {
    locals[record.index] = await readLocalRecord(window, fileSize, record);
  }
  const names = records.map((record) => decodeName(record.nameRaw, record.flags));
  const failure = firstFailure({ fileSize, end, centralDirectoryEnd, records, locals, names }, limits);
  if (failure) throw failure;

  const entries = records.map((record): ZipEntry => {
    const local = locals[record.index]!;
    const decoded = names[record.index]!;
    const name = 'name' in decoded ? decoded.name : ''; // firstFailure rejected the others
    return Object.freeze({
      index: record.index,
      name,
      isDirectory: name.endsWith('/'),
      compressionMethod: record.method as 0 | 8, // firstFailure rejected the others
      compressedSize: record.compressedSize,
      uncompressedSize: record.uncompressedSize,
      crc32: record.crc32,
      generalPurposeFlags: record.flags,
      localHeaderOffset: record.localHeaderOffset,
      dataOffset: local.dataOffset,
      localExtraFieldLength: local.extraFieldLength,
      centralExtraFieldLength: record.extraFieldLength,
      lastModified: record.lastModified,
    });
  });
  return new Archive(handle, fileSize, Object.freeze(entries));
}

class Archive implements ZipArchive {
  constructor(
    private readonly handle: FileHandle,
    readonly fileSize: number,
    readonly entries: readonly ZipEntry[],
  ) {}

  openEntry(entry: ZipEntry): Readable {
    if (this.entries[entry.index] !== entry) throw new TypeError(`entry ${JSON.stringify(entry.name)} does not belong to this archive`);
    return openEntryStream(this.handle.fd, entry);
  }

  async readEntry(entry: ZipEntry, maxBytes: number): Promise<Buffer> {
    if (entry.uncompressedSize > maxBytes) {
      throw new XipError('ZIP_LIMIT', `${entry.uncompressedSize} bytes, the limit for this entry is ${maxBytes}`, { entry: entry.name });
    }
    // The stream stops with an error before it gives more than uncompressedSize bytes.
    const out = Buffer.allocUnsafe(entry.uncompressedSize);
    let at = 0;
    for await (const chunk of this.openEntry(entry)) {
      at += (chunk as Buffer).copy(out, at);
    }
    return out;
  }
}
