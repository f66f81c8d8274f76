// Step 1 of xip-format.md §4, run over the parsed archive before any entry
// data is read. Each check looks at every entry; they run in the order the
// spec lists the codes (but see hiddenData and archiveComment), so the code
// reported does not depend on where in the archive the fault is, and within a
// check the first entry in central directory (or file) order is reported.
import { XipError } from '../../errors.js';
import type { ZipLimits } from '../../limits.js';
import { FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, FLAG_MASKED_HEADERS, FLAG_STRONG_ENCRYPTION, FLAG_UTF8, hex } from './binary.js';
import type { CentralRecord } from './central-directory.js';
import type { EndOfCentralDirectory } from './end-of-central-directory.js';
import type { LocalRecord } from './local-header.js';
import { showPath } from '../show-path.js';
import { displayName, duplicateKey, unicodePathConflict, unsafeReason, type DecodedName } from './names.js';

export interface ArchiveModel {
  readonly fileSize: number;
  readonly end: EndOfCentralDirectory;
  /** Offset just after the last central directory record. */
  readonly centralDirectoryEnd: number;
  readonly records: readonly CentralRecord[];
  /** Indexed like `records`. */
  readonly locals: readonly LocalRecord[];
  readonly names: readonly DecodedName[];
}

type Check = (model: ArchiveModel, limits: ZipLimits) => XipError | undefined;

const METHOD_AES = 99;
const UNIX_HOSTS = new Set([3 /* Unix */, 19 /* OS X (Darwin) */]);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const FILE_TYPES: Readonly<Record<number, string>> = {
  0o010000: 'a FIFO',
  0o020000: 'a character device',
  0o060000: 'a block device',
  0o120000: 'a symbolic link',
  0o140000: 'a socket',
};

function nameOf(model: ArchiveModel, index: number): string {
  const decoded = model.names[index];
  if (decoded && 'name' in decoded) return decoded.name;
  return displayName(model.records[index]!.nameRaw);
}

function isDirectoryName(record: CentralRecord): boolean {
  return record.nameRaw.length > 0 && record.nameRaw[record.nameRaw.length - 1] === 0x2f;
}

interface Range {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

// Sorted once per model: two checks walk it, and a million entries make it costly.
const rangesByModel = new WeakMap<ArchiveModel, readonly Range[]>();

/** Entries by position in the file: local header through data descriptor. */
function byOffset(model: ArchiveModel): readonly Range[] {
  let ranges = rangesByModel.get(model);
  if (!ranges) {
    ranges = model.locals
      .map((local, index): Range => ({ index, start: local.offset, end: local.end }))
      .sort((a, b) => a.start - b.start || a.index - b.index);
    rangesByModel.set(model, ranges);
  }
  return ranges;
}

const malformedSizes: Check = (model) => {
  for (const record of model.records) {
    const entry = nameOf(model, record.index);
    if (isDirectoryName(record) && record.uncompressedSize !== 0) {
      return new XipError('ZIP_MALFORMED', `directory entry with ${record.uncompressedSize} bytes of content`, { entry });
    }
    // A STORED entry's data is its content. (yauzl checks this too, but says
    // "size mismatch 1 != 1" for an encrypted entry, whose 12-byte encryption
    // header it counts without printing: encrypted entries are ZIP_ENCRYPTED's.)
    const isEncrypted = ((record.flags | model.locals[record.index]!.flags) & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0;
    if (record.method === 0 && !isEncrypted && record.compressedSize !== record.uncompressedSize) {
      return new XipError(
        'ZIP_MALFORMED',
        `a STORED entry of ${record.uncompressedSize} bytes with ${record.compressedSize} bytes of data (they must be equal)`,
        { entry },
      );
    }
  }
  return undefined;
};

const unsupported: Check = (model) => {
  for (const record of model.records) {
    const entry = nameOf(model, record.index);
    if (record.diskNumberStart !== 0) {
      return new XipError('ZIP_UNSUPPORTED', `multi-disk archive: the entry starts on disk ${record.diskNumberStart}`, { entry });
    }
    if (record.method !== 0 && record.method !== 8 && record.method !== METHOD_AES) {
      return new XipError('ZIP_UNSUPPORTED', `unsupported compression method ${record.method}`, { entry });
    }
  }
  return undefined;
};

const extra = (detail: string, entry?: string) => new XipError('ZIP_EXTRA_DATA', detail, { entry });

/**
 * Every byte before the central directory belongs to an entry. Checked after
 * ZIP_HEADER_MISMATCH and ZIP_OVERLAP: when a record points at a local header
 * that is not its own, or into another entry's bytes, the bytes it should
 * have covered are left uncovered, and that is the fault to report, not the
 * gap it leaves.
 */
const hiddenData: Check = (model) => {
  const { end } = model;
  let covered = 0;
  let previous: number | undefined;
  for (const range of byOffset(model)) {
    // An entry starting in the central directory or after it is ZIP_OVERLAP's.
    if (range.start >= end.centralDirectoryOffset) break;
    if (range.start > covered) {
      return previous === undefined
        ? extra(`${range.start} bytes before the first local header`)
        : extra(`${range.start - covered} bytes of hidden data after entry ${JSON.stringify(showPath(nameOf(model, previous)))}`, nameOf(model, previous));
    }
    if (range.end > covered) {
      covered = range.end;
      previous = range.index;
    }
  }
  if (covered < end.centralDirectoryOffset) {
    return previous === undefined
      ? extra(`${end.centralDirectoryOffset} bytes before the central directory of an archive without entries`)
      : extra(`${end.centralDirectoryOffset - covered} bytes between the last entry and the central directory`);
  }
  return undefined;
};

/** Every byte from the central directory on belongs to it or to its end records (the comment aside). */
const extraData: Check = (model) => {
  const { end } = model;
  const declaredEnd = end.centralDirectoryOffset + end.centralDirectorySize;
  if (model.centralDirectoryEnd < declaredEnd) {
    return extra(`${declaredEnd - model.centralDirectoryEnd} bytes in the central directory after its last record`);
  }
  if (declaredEnd < end.centralDirectoryLimit) {
    return extra(`${end.centralDirectoryLimit - declaredEnd} bytes between the central directory and its end record`);
  }
  if (end.zip64 && end.zip64.extensibleDataLength > 0) {
    return extra(`a zip64 extensible data sector of ${end.zip64.extensibleDataLength} bytes`);
  }
  if (end.zip64 && end.zip64.gapBeforeLocator > 0) {
    return extra(`${end.zip64.gapBeforeLocator} bytes between the zip64 end of central directory record and its locator`);
  }
  return undefined;
};

/**
 * Also ZIP_EXTRA_DATA, but checked last: a comment hides nothing from a
 * reader, and some producers (DigiDoc4j) sign every container with one, so
 * checked first it would mask the fault that matters (interop case
 * dd4j-2-mimetypes must report ZIP_DUPLICATE_ENTRY).
 */
const archiveComment: Check = (model) => {
  const { commentLength } = model.end;
  return commentLength > 0 ? new XipError('ZIP_EXTRA_DATA', `an archive comment of ${commentLength} bytes`) : undefined;
};

const encrypted: Check = (model) => {
  for (const record of model.records) {
    const entry = nameOf(model, record.index);
    const flags = record.flags | model.locals[record.index]!.flags;
    if (record.method === METHOD_AES) return new XipError('ZIP_ENCRYPTED', 'the entry is AES-encrypted (method 99)', { entry });
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
      return new XipError('ZIP_ENCRYPTED', `the entry is encrypted (flags ${hex(flags, 4)})`, { entry });
    }
    if (flags & FLAG_MASKED_HEADERS) {
      return new XipError('ZIP_ENCRYPTED', 'the local header is masked (flag bit 13, central directory encryption)', { entry });
    }
  }
  return undefined;
};

const unsafePaths: Check = (model) => {
  for (const record of model.records) {
    const decoded = model.names[record.index]!;
    const entry = nameOf(model, record.index);
    const reason =
      'problem' in decoded
        ? decoded.problem
        : (unsafeReason(decoded.name) ??
          unicodePathConflict(record.nameRaw, decoded.name, record.extraFields) ??
          unicodePathConflict(record.nameRaw, decoded.name, model.locals[record.index]!.extraFields));
    if (reason) return new XipError('ZIP_UNSAFE_PATH', `${JSON.stringify(showPath(entry))}: ${reason}`, { entry });
  }
  return undefined;
};

const duplicates: Check = (model) => {
  const seen = new Map<string, number>();
  for (const record of model.records) {
    const name = nameOf(model, record.index);
    const key = duplicateKey(name);
    const first = seen.get(key);
    if (first !== undefined) {
      const other = nameOf(model, first);
      const how = other === name ? 'twice' : `and as ${JSON.stringify(showPath(other))}`;
      return new XipError('ZIP_DUPLICATE_ENTRY', `${JSON.stringify(showPath(name))} appears ${how} (entries ${first} and ${record.index})`, {
        entry: name,
      });
    }
    seen.set(key, record.index);
  }
  return undefined;
};

const specialEntries: Check = (model) => {
  for (const record of model.records) {
    if (!UNIX_HOSTS.has(record.versionMadeBy >> 8)) continue;
    const mode = record.externalAttributes >>> 16;
    const type = mode & S_IFMT;
    if (type === 0 || type === S_IFREG || (type === S_IFDIR && isDirectoryName(record))) continue;
    const what = type === S_IFDIR ? 'a directory whose name does not end with "/"' : (FILE_TYPES[type] ?? `file type ${hex(type, 6)}`);
    return new XipError('ZIP_SPECIAL_ENTRY', `the external attributes (mode 0o${mode.toString(8)}) make it ${what}`, {
      entry: nameOf(model, record.index),
    });
  }
  return undefined;
};

const headerMismatch: Check = (model) => {
  for (const record of model.records) {
    const local = model.locals[record.index]!;
    const mismatch = (detail: string) => new XipError('ZIP_HEADER_MISMATCH', detail, { entry: nameOf(model, record.index) });
    const bits: [number, string][] = [
      [FLAG_ENCRYPTED, 'encryption (bit 0)'],
      [FLAG_DATA_DESCRIPTOR, 'data descriptor (bit 3)'],
      [FLAG_UTF8, 'UTF-8 (bit 11)'],
    ];
    for (const [bit, what] of bits) {
      if ((local.flags & bit) !== (record.flags & bit)) {
        const state = (flags: number) => (flags & bit ? 'sets' : 'clears');
        return mismatch(`local header ${state(local.flags)} the ${what} flag, central directory ${state(record.flags)} it`);
      }
    }
    if (local.method !== record.method) {
      return mismatch(`local header says method ${local.method}, central directory says ${record.method}`);
    }
    if (!local.nameRaw.equals(record.nameRaw)) {
      return mismatch(`local header names ${JSON.stringify(showPath(displayName(local.nameRaw)))}, central directory ${JSON.stringify(showPath(displayName(record.nameRaw)))}`);
    }
    // With bit 3 a streaming writer may not know these yet and writes 0.
    const deferred = (record.flags & FLAG_DATA_DESCRIPTOR) !== 0;
    const fields: [string, number, number, (v: number) => string][] = [
      ['CRC-32', local.crc32, record.crc32, (v) => hex(v)],
      ['compressed size', local.compressedSize, record.compressedSize, String],
      ['uncompressed size', local.uncompressedSize, record.uncompressedSize, String],
    ];
    for (const [what, found, expected, show] of fields) {
      if (found !== expected && !(deferred && found === 0)) {
        return mismatch(`local header says ${what} ${show(found)}, central directory says ${show(expected)}`);
      }
    }
    const descriptor = local.descriptor;
    if (descriptor) {
      const described: [string, bigint, bigint, (v: bigint) => string][] = [
        ['CRC-32', BigInt(descriptor.crc32), BigInt(record.crc32), (v) => hex(Number(v))],
        ['compressed size', descriptor.compressedSize, BigInt(record.compressedSize), String],
        ['uncompressed size', descriptor.uncompressedSize, BigInt(record.uncompressedSize), String],
      ];
      for (const [what, found, expected, show] of described) {
        if (found !== expected) return mismatch(`data descriptor says ${what} ${show(found)}, central directory says ${show(expected)}`);
      }
    }
  }
  return undefined;
};

const overlaps: Check = (model) => {
  const cdStart = model.end.centralDirectoryOffset;
  let furthest: { index: number; end: number } | undefined;
  for (const range of byOffset(model)) {
    const entry = nameOf(model, range.index);
    if (furthest && range.start < furthest.end) {
      return new XipError(
        'ZIP_OVERLAP',
        `entry ${JSON.stringify(showPath(entry))} (bytes ${range.start}-${range.end - 1}) overlaps entry ${JSON.stringify(showPath(nameOf(model, furthest.index)))} (ending at ${furthest.end - 1})`,
        { entry },
      );
    }
    if (range.end > cdStart) {
      return new XipError('ZIP_OVERLAP', `entry ${JSON.stringify(showPath(entry))} (bytes ${range.start}-${range.end - 1}) overlaps the central directory at ${cdStart}`, {
        entry,
      });
    }
    if (!furthest || range.end > furthest.end) furthest = range;
  }
  return undefined;
};

/** `part` / `whole` with one decimal, exactly (bigint): "infinite" when `whole` is 0. */
function ratioText(part: bigint, whole: bigint): string {
  if (whole === 0n) return 'infinite';
  const tenths = (part * 10n) / whole;
  return `${tenths / 10n}.${tenths % 10n}`;
}

const limitsExceeded: Check = (model, limits) => {
  // Sums in bigint: a thousand entries of 2^52 bytes each pass 2^53, where doubles stop counting exactly.
  let total = 0n;
  let stored = 0n;
  for (const record of model.records) {
    total += BigInt(record.uncompressedSize);
    stored += BigInt(record.compressedSize);
  }
  if (total > BigInt(limits.maxTotalUncompressed)) {
    return new XipError('ZIP_LIMIT', `${total} bytes uncompressed in all, the limit is ${limits.maxTotalUncompressed} (maxTotalUncompressed)`);
  }
  for (const record of model.records) {
    const { uncompressedSize, compressedSize } = record;
    if (uncompressedSize <= limits.ratioMinSize) continue;
    const ratio = uncompressedSize / compressedSize; // Infinity when compressedSize is 0
    if (ratio > limits.maxCompressionRatio) {
      return new XipError(
        'ZIP_LIMIT',
        `compression ratio ${ratio === Infinity ? 'infinite' : ratio.toFixed(1)} (${uncompressedSize} from ${compressedSize} bytes), the limit is ${limits.maxCompressionRatio} (maxCompressionRatio)`,
        { entry: nameOf(model, record.index) },
      );
    }
  }
  // Entries up to ratioMinSize escape the per-entry ratio above, so 2,000 of
  // them, each 1 MiB of zeros, would make 2 GB of 2.26 MB: the whole archive's
  // declared bytes against its stored bytes are bounded too.
  if (total > BigInt(limits.ratioMinSize) && total * 10n > stored * BigInt(Math.round(limits.maxTotalCompressionRatio * 10))) {
    return new XipError(
      'ZIP_LIMIT',
      `compression ratio ${ratioText(total, stored)} over the whole archive (${total} bytes declared from ${stored} stored), the limit is ${limits.maxTotalCompressionRatio} (maxTotalCompressionRatio)`,
    );
  }
  return undefined;
};

/** The checks of step 1 after parsing, in the order of the spec's codes. */
export const STEP_ONE_CHECKS: readonly Check[] = [
  malformedSizes,
  unsupported,
  extraData,
  encrypted,
  unsafePaths,
  duplicates,
  specialEntries,
  headerMismatch,
  overlaps,
  hiddenData,
  limitsExceeded,
  archiveComment,
];

export function firstFailure(model: ArchiveModel, limits: ZipLimits): XipError | undefined {
  for (const check of STEP_ONE_CHECKS) {
    const failure = check(model, limits);
    if (failure) return failure;
  }
  return undefined;
}
