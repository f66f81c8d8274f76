// Locates the end of central directory record (and the zip64 locator and
// record, APPNOTE 4.3.14-4.3.16) before yauzl is handed the file, so that the
// declared entry count is checked against the limit before a single record is
// read, and so that what yauzl does not look at (the central directory's
// size, the other disk fields, trailing bytes) is checked too.
import type { FileHandle } from 'node:fs/promises';
import { XipError } from '../../errors.js';
import type { ZipLimits } from '../../limits.js';
import { hex, readExactly, readUInt64, U16_SENTINEL, U32_SENTINEL } from './binary.js';

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const LOCATOR_SIGNATURE = 0x07064b50;
const LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
/** Fixed part of the zip64 record; its "size" field counts from byte 12. */
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_RECORD_MIN_SIZE = 46;

export interface Zip64End {
  readonly recordOffset: number;
  /** Bytes of the zip64 extensible data sector (APPNOTE 4.3.14.2). */
  readonly extensibleDataLength: number;
  /** Bytes between the end of the zip64 record and the locator. */
  readonly gapBeforeLocator: number;
  readonly locatorOffset: number;
}

export interface EndOfCentralDirectory {
  readonly eocdOffset: number;
  readonly commentLength: number;
  readonly entryCount: number;
  readonly centralDirectoryOffset: number;
  readonly centralDirectorySize: number;
  /** Where the central directory must end: the zip64 record, or the EOCD. */
  readonly centralDirectoryLimit: number;
  readonly zip64: Zip64End | undefined;
}

const malformed = (detail: string) => new XipError('ZIP_MALFORMED', detail);
const multiDisk = (detail: string) => new XipError('ZIP_UNSUPPORTED', `multi-disk archive: ${detail}`);

export async function readEndOfCentralDirectory(
  handle: FileHandle,
  fileSize: number,
  limits: ZipLimits,
): Promise<EndOfCentralDirectory> {
  if (fileSize === 0) throw malformed('the file is empty');
  if (fileSize < EOCD_SIZE) throw malformed(`the file is ${fileSize} bytes, too short for a ZIP archive`);

  // Same window and search as yauzl, so that both find the same record.
  const tailSize = Math.min(LOCATOR_SIZE + EOCD_SIZE + MAX_COMMENT, fileSize);
  const tailStart = fileSize - tailSize;
  const tail = await readExactly(handle, tailStart, tailSize);
  let at = -1;
  for (let i = tailSize - EOCD_SIZE; i >= 0; i -= 1) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
      at = i;
      break;
    }
  }
  if (at < 0) throw malformed('no end of central directory record: not a ZIP archive, or truncated');
  const eocdOffset = tailStart + at;
  const eocd = tail.subarray(at);
  const commentLength = eocd.readUInt16LE(20);
  const after = fileSize - (eocdOffset + EOCD_SIZE + commentLength);
  if (after > 0) {
    // yauzl cannot go on from here, so this is reported at once.
    throw new XipError('ZIP_EXTRA_DATA', `${after} bytes after the end of central directory record`);
  }
  if (after < 0) throw malformed(`the archive comment runs ${-after} bytes past the end of the file (truncated?)`);

  const disk = eocd.readUInt16LE(4);
  const cdDisk = eocd.readUInt16LE(6);
  const entriesOnDisk = eocd.readUInt16LE(8);
  let entryCount = eocd.readUInt16LE(10);
  let cdSize = eocd.readUInt32LE(12);
  let cdOffset = eocd.readUInt32LE(16);
  let zip64: Zip64End | undefined;
  let centralDirectoryLimit = eocdOffset;

  // yauzl's test: a locator right before the EOCD, inside the same window.
  if (at >= LOCATOR_SIZE && tail.readUInt32LE(at - LOCATOR_SIZE) === LOCATOR_SIGNATURE) {
    const locatorOffset = eocdOffset - LOCATOR_SIZE;
    const locator = tail.subarray(at - LOCATOR_SIZE, at);
    const recordDisk = locator.readUInt32LE(4);
    const recordOffset = readUInt64(locator, 8);
    const totalDisks = locator.readUInt32LE(16);
    if (recordDisk !== 0) throw multiDisk(`the zip64 end of central directory record is on disk ${recordDisk}`);
    // One disk is "1"; a few writers put 0.
    if (totalDisks > 1) throw multiDisk(`the zip64 locator counts ${totalDisks} disks`);
    if (recordOffset === undefined || recordOffset + ZIP64_EOCD_SIZE > locatorOffset) {
      throw malformed(`the zip64 end of central directory record offset ${String(locator.readBigUInt64LE(8))} is out of bounds`);
    }
    const record = await readExactly(handle, recordOffset, ZIP64_EOCD_SIZE);
    const signature = record.readUInt32LE(0);
    if (signature !== ZIP64_EOCD_SIGNATURE) {
      throw malformed(`invalid zip64 end of central directory record signature ${hex(signature)} at offset ${recordOffset}`);
    }
    const remaining = readUInt64(record, 4);
    if (remaining === undefined || remaining < ZIP64_EOCD_SIZE - 12 || recordOffset + 12 + remaining > locatorOffset) {
      throw malformed(`the zip64 end of central directory record size ${String(record.readBigUInt64LE(4))} is out of bounds`);
    }
    const z64Disk = record.readUInt32LE(16);
    const z64CdDisk = record.readUInt32LE(20);
    const z64OnDisk = readUInt64(record, 24);
    const z64Count = readUInt64(record, 32);
    const z64CdSize = readUInt64(record, 40);
    const z64CdOffset = readUInt64(record, 48);
    if (z64Disk !== 0) throw multiDisk(`found disk number ${z64Disk}`);
    if (z64CdDisk !== 0) throw multiDisk(`the central directory starts on disk ${z64CdDisk}`);
    if (z64OnDisk === undefined || z64Count === undefined || z64CdSize === undefined || z64CdOffset === undefined) {
      throw malformed('a zip64 end of central directory field exceeds 2^53');
    }
    if (z64OnDisk !== z64Count) throw multiDisk(`${z64OnDisk} of ${z64Count} entries on this disk`);
    // APPNOTE 4.4.1.4: the 16/32-bit fields hold 0xFFFF... when the zip64 value
    // applies; any other value must agree, or two readers could see two archives.
    const agree: [string, number, number, number][] = [
      ['disk number', disk, U16_SENTINEL, z64Disk],
      ['central directory disk', cdDisk, U16_SENTINEL, z64CdDisk],
      ['entries on this disk', entriesOnDisk, U16_SENTINEL, z64OnDisk],
      ['entry count', entryCount, U16_SENTINEL, z64Count],
      ['central directory size', cdSize, U32_SENTINEL, z64CdSize],
      ['central directory offset', cdOffset, U32_SENTINEL, z64CdOffset],
    ];
    for (const [field, value, sentinel, wide] of agree) {
      if (value !== sentinel && value !== wide) {
        throw malformed(`end of central directory ${field} is ${value}, zip64 record says ${wide}`);
      }
    }
    entryCount = z64Count;
    cdSize = z64CdSize;
    cdOffset = z64CdOffset;
    centralDirectoryLimit = recordOffset;
    zip64 = {
      recordOffset,
      extensibleDataLength: remaining - (ZIP64_EOCD_SIZE - 12),
      gapBeforeLocator: locatorOffset - (recordOffset + 12 + remaining),
      locatorOffset,
    };
  } else {
    if (disk !== 0) throw multiDisk(`found disk number ${disk}`);
    if (cdDisk !== 0) throw multiDisk(`the central directory starts on disk ${cdDisk}`);
    if (entriesOnDisk !== entryCount) throw multiDisk(`${entriesOnDisk} of ${entryCount} entries on this disk`);
  }

  if (cdOffset + cdSize > centralDirectoryLimit) {
    throw malformed(`the central directory (offset ${cdOffset}, ${cdSize} bytes) runs past its end record at ${centralDirectoryLimit}`);
  }
  if (entryCount * CENTRAL_RECORD_MIN_SIZE > cdSize) {
    throw malformed(`${entryCount} entries cannot fit in a central directory of ${cdSize} bytes`);
  }
  // Checked before any record is read, so a huge count costs nothing.
  if (entryCount > limits.maxEntries) {
    throw new XipError('ZIP_LIMIT', `${entryCount} entries, the limit is ${limits.maxEntries}`);
  }
  return {
    eocdOffset,
    commentLength,
    entryCount,
    centralDirectoryOffset: cdOffset,
    centralDirectorySize: cdSize,
    centralDirectoryLimit,
    zip64,
  };
}
