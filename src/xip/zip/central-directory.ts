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
  // yauzl's FdSlicer closes the fd when its reference count reaches 0, which
  // only zipfile.close() can cause: we never call it, the caller owns the fd.
  autoClose: false,
  decodeStrings: false,
  validateEntrySizes: true,
  strictFileNames: false,
};

function openYauzl(fd: number): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromFd(fd, YAUZL_OPTIONS, (error, zipfile) => (error ? reject(error) : resolve(zipfile)));
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
  let zipfile: yauzl.ZipFile;
  try {
    zipfile = await openYauzl(handle.fd);
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
  const window = new WindowReader(handle, fileSize);
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
    const fixed = await window.read(recordOffset, CENTRAL_RECORD_SIZE);
    records.push(guardRecord(entry, index, recordOffset, fixed, fileSize, where));
  }
  return { records, end: cursor };
}

function guardRecord(
  entry: yauzl.Entry,
  index: number,
  recordOffset: number,
  fixed: Buffer,
  fileSize: number,
  where: string,
): CentralRecord {
  const malformed = (detail: string) => new XipError('ZIP_MALFORMED', `${where}: ${detail}`, { entry: displayName(entry.fileNameRaw) });
  const zip64Fields = entry.extraFields.filter((f) => f.id === ZIP64_EXTRA_ID);
  // Readers differ on which of several zip64 fields wins: refuse the choice.
  if (zip64Fields.length > 1) throw malformed(`${zip64Fields.length} zip64 extra fields`);
  const zip64 = zip64Fields[0];
  const raw = {
    compressedSize: fixed.readUInt32LE(20),
    uncompressedSize: fixed.readUInt32LE(24),
    disk: fixed.readUInt16LE(34),
    localHeaderOffset: fixed.readUInt32LE(42),
  };
  let zip64Used = 0;
  for (const field of ['uncompressedSize', 'compressedSize', 'localHeaderOffset'] as const) {
    if (raw[field] !== U32_SENTINEL) continue;
    if (!zip64) throw malformed(`${field} is ${hex(U32_SENTINEL)} but there is no zip64 extra field`);
    zip64Used += 8;
  }
  let diskNumberStart = raw.disk;
  if (raw.disk === U16_SENTINEL && zip64) {
    if (zip64Used + 4 > zip64.data.length) throw malformed('zip64 extended information extra field does not include the disk number');
    diskNumberStart = zip64.data.readUInt32LE(zip64Used);
  }
  const values = {
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    localHeaderOffset: entry.relativeOffsetOfLocalHeader,
  };
  for (const [field, value] of Object.entries(values)) {
    // yauzl reads 64-bit values into doubles; beyond 2^53 they are not exact.
    if (!Number.isSafeInteger(value)) throw malformed(`${field} exceeds 2^53`);
  }
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
    extraFields: entry.extraFields,
    extraFieldLength: entry.extraFieldLength,
    hasZip64Extra: zip64 !== undefined,
    // DOS times carry no zone; read as UTC so the result does not depend on
    // the server's TZ. An Info-ZIP "UT" or NTFS field, when present, wins.
    lastModified: entry.getLastModDate({ timezone: 'UTC' }),
  };
}
