// Central directory records, parsed by yauzl (lazyEntries, raw names) with
// our guards around what it hands back: the fields yauzl does not look at
// (disk number start, the records' total size) and the values it trusts
// (0xFFFFFFFF without a zip64 field, several zip64 fields, 64-bit values
// beyond 2^53, offsets past the end of the file).
import type { FileHandle } from 'node:fs/promises';
import yauzl from 'yauzl';
import { XipError } from '../../errors.js';
import { hex, U16_SENTINEL, U32_SENTINEL, WindowReader, ZIP64_EXTRA_ID, type ExtraField } from './binary.js';
import type { EndOfCentralDirectory } from './end-of-central-directory.js';
import { displayName } from './names.js';
import { fromYauzlError } from './yauzl-errors.js';

const CENTRAL_RECORD_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const CENTRAL_DIRECTORY_WINDOW = 1024 * 1024;

export interface CentralRecord {
  readonly index: number;
  readonly recordOffset: number;
  readonly nameRaw: Buffer;
  readonly versionMadeBy: number;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
  readonly diskNumberStart: number;
  readonly externalAttributes: number;
  readonly extraFields: readonly ExtraField[];
  readonly extraFieldLength: number;
  readonly hasZip64Extra: boolean;
  readonly lastModified: Date;
}

export interface CentralDirectory {
  readonly records: readonly CentralRecord[];
  /** Offset just after the last record. */
  readonly end: number;
}

const YAUZL_OPTIONS: yauzl.Options = {
  lazyEntries: true,
  // We never call zipfile.close(), and WindowedReader's close() leaves the
  // handle alone: the caller owns it.
  autoClose: false,
  decodeStrings: false,
  // checks.ts checks a STORED entry's sizes itself, with a message that says what is wrong.
  validateEntrySizes: false,
  strictFileNames: false,
};

/**
 * yauzl's reads (two per central directory record: the fixed part, then the
 * name, extra field and comment) served from one forward window. Through
 * yauzl.fromFd each was an fs.read on the thread pool: a million-entry
 * central directory took two million of them (110 s on a loaded host); here it
 * takes one read per window. The handle stays the caller's: close() does not
 * close it.
 */
class WindowedReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly window: WindowReader,
    private readonly fileSize: number,
  ) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null, bytesRead: number) => void): void {
    // A read past the end is short, as fs.read's would be: yauzl reports "unexpected EOF".
    const available = Math.max(0, Math.min(length, this.fileSize - position));
    this.window.readInto(buffer, offset, position, available).then(
      (bytesRead) => callback(null, bytesRead),
      (error: Error) => callback(error, 0),
    );
  }

  override _readStreamForRange(): never {
    // Entry data is read by entry-stream.ts, never through yauzl.
    throw new Error('yauzl reads no entry data here');
  }
}

function openYauzl(reader: WindowedReader, fileSize: number): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(reader, fileSize, YAUZL_OPTIONS, (error, zipfile) => (error ? reject(error) : resolve(zipfile)));
  });
}

/** One `entry` per call; yauzl emits only in answer to readEntry(), and the first error sticks. */
function entryReader(zipfile: yauzl.ZipFile): () => Promise<yauzl.Entry> {
  let pending: { resolve: (e: yauzl.Entry) => void; reject: (e: unknown) => void } | undefined;
  let failed: unknown;
  const settle = (fn: (p: NonNullable<typeof pending>) => void) => {
    const p = pending;
    pending = undefined;
    if (p) fn(p);
  };
  zipfile.on('entry', (entry: yauzl.Entry) => settle((p) => p.resolve(entry)));
  zipfile.on('error', (error: unknown) => {
    failed ??= error;
    settle((p) => p.reject(error));
  });
  return () =>
    new Promise((resolve, reject) => {
      if (failed !== undefined) return reject(failed);
      pending = { resolve, reject };
      zipfile.readEntry();
    });
}

export async function readCentralDirectory(
  handle: FileHandle,
  fileSize: number,
  end: EndOfCentralDirectory,
): Promise<CentralDirectory> {
  // One window, forward through the central directory, for yauzl and for the guards.
  const window = new WindowReader(handle, fileSize, CENTRAL_DIRECTORY_WINDOW);
  let zipfile: yauzl.ZipFile;
  try {
    zipfile = await openYauzl(new WindowedReader(window, fileSize), fileSize);
  } catch (error) {
    throw fromYauzlError(error);
  }
  // yauzl found the same records we did, or one of us is wrong about the file.
  const yauzlOffset = (zipfile as unknown as { readEntryCursor: number }).readEntryCursor;
  if (zipfile.entryCount !== end.entryCount || yauzlOffset !== end.centralDirectoryOffset) {
    throw new XipError(
      'ZIP_MALFORMED',
      `ambiguous end of central directory: ${zipfile.entryCount} entries at ${yauzlOffset}, or ${end.entryCount} at ${end.centralDirectoryOffset}`,
    );
  }
  const next = entryReader(zipfile);
  const declaredEnd = end.centralDirectoryOffset + end.centralDirectorySize;
  const records: CentralRecord[] = [];
  let cursor = end.centralDirectoryOffset;
  for (let index = 0; index < end.entryCount; index += 1) {
    const where = `central directory record ${index}`;
    let entry: yauzl.Entry;
    try {
      entry = await next();
    } catch (error) {
      throw fromYauzlError(error, where);
    }
    const recordOffset = cursor;
    cursor += CENTRAL_RECORD_SIZE + entry.fileNameLength + entry.extraFieldLength + entry.fileCommentLength;
    if (cursor > declaredEnd) {
      throw new XipError('ZIP_MALFORMED', `${where} runs past the central directory's declared end at ${declaredEnd}`);
    }
    const fixed = await window.view(recordOffset, CENTRAL_RECORD_SIZE); // used at once, not kept
    records.push(guardRecord(entry, index, recordOffset, fixed, fileSize, where));
  }
  return { records, end: cursor };
}

const NO_EXTRA_FIELDS: readonly ExtraField[] = Object.freeze([]);
const ZIP64_FIELDS = [
  ['uncompressedSize', 24],
  ['compressedSize', 20],
  ['localHeaderOffset', 42],
] as const;

function guardRecord(
  entry: yauzl.Entry,
  index: number,
  recordOffset: number,
  fixed: Buffer,
  fileSize: number,
  where: string,
): CentralRecord {
  const malformed = (detail: string) => new XipError('ZIP_MALFORMED', `${where}: ${detail}`, { entry: displayName(entry.fileNameRaw) });
  let zip64: ExtraField | undefined;
  for (const field of entry.extraFields) {
    if (field.id !== ZIP64_EXTRA_ID) continue;
    // Readers differ on which of several zip64 fields wins: refuse the choice.
    if (zip64) throw malformed(`${entry.extraFields.filter((f) => f.id === ZIP64_EXTRA_ID).length} zip64 extra fields`);
    zip64 = field;
  }
  // APPNOTE 4.5.3: the zip64 field holds, in this order, the values whose
  // 32-bit field is 0xFFFFFFFF. Read exactly here (yauzl reads them into
  // doubles, which round beyond 2^53), so a message prints what the file says.
  let zip64Used = 0;
  for (const [field, at] of ZIP64_FIELDS) {
    if (fixed.readUInt32LE(at) !== U32_SENTINEL) continue;
    if (!zip64) throw malformed(`${field} is ${hex(U32_SENTINEL)} but there is no zip64 extra field`);
    if (zip64Used + 8 <= zip64.data.length) {
      const exact = zip64.data.readBigUInt64LE(zip64Used);
      if (exact > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${field} ${exact} exceeds 2^53`);
    }
    zip64Used += 8;
  }
  const disk = fixed.readUInt16LE(34);
  let diskNumberStart = disk;
  if (disk === U16_SENTINEL && zip64) {
    if (zip64Used + 4 > zip64.data.length) throw malformed('zip64 extended information extra field does not include the disk number');
    diskNumberStart = zip64.data.readUInt32LE(zip64Used);
  }
  const values = {
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    localHeaderOffset: entry.relativeOffsetOfLocalHeader,
  };
  if (values.localHeaderOffset + LOCAL_HEADER_SIZE > fileSize) {
    throw malformed(`local header offset ${values.localHeaderOffset} is past the end of the file (${fileSize} bytes)`);
  }
  if (values.compressedSize > fileSize) {
    throw malformed(`compressed size ${values.compressedSize} is larger than the file (${fileSize} bytes)`);
  }
  return {
    index,
    recordOffset,
    nameRaw: Buffer.from(entry.fileNameRaw),
    versionMadeBy: entry.versionMadeBy,
    flags: entry.generalPurposeBitFlag,
    method: entry.compressionMethod,
    crc32: entry.crc32,
    ...values,
    diskNumberStart,
    externalAttributes: entry.externalFileAttributes,
    extraFields: entry.extraFields.length === 0 ? NO_EXTRA_FIELDS : entry.extraFields,
    extraFieldLength: entry.extraFieldLength,
    hasZip64Extra: zip64 !== undefined,
    // DOS times carry no zone; read as UTC so the result does not depend on
    // the server's TZ. An Info-ZIP "UT" or NTFS field, when present, wins.
    lastModified: entry.getLastModDate({ timezone: 'UTC' }),
  };
}
