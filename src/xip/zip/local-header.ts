// Local file headers (APPNOTE 4.3.7) and data descriptors (4.3.9), read by us
// through the caller's handle: yauzl reads a local header only when an entry
// is opened, and then only for its lengths. What is parsed here is compared
// with the central directory in checks.ts; what cannot be parsed is
// ZIP_MALFORMED at once.
import { XipError } from '../../errors.js';
import { FLAG_DATA_DESCRIPTOR, hex, parseExtraFields, readUInt64, type ExtraField, U32_SENTINEL, WindowReader, ZIP64_EXTRA_ID } from './binary.js';
import type { CentralRecord } from './central-directory.js';
import { displayName } from './names.js';

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;

export interface DataDescriptor {
  readonly offset: number;
  readonly length: number;
  readonly signature: boolean;
  /** 8-byte sizes (zip64). */
  readonly wide: boolean;
  readonly crc32: number;
  /** Exact: 8-byte sizes may pass 2^53, and a message must print what the file says. */
  readonly compressedSize: bigint;
  readonly uncompressedSize: bigint;
}

export interface LocalRecord {
  readonly offset: number;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  /** After zip64 resolution. */
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly nameRaw: Buffer;
  readonly extraFields: readonly ExtraField[];
  readonly extraFieldLength: number;
  readonly dataOffset: number;
  /** Offset just after the entry: after the data descriptor if there is one. */
  readonly end: number;
  /** Present when the local header sets flag bit 3. */
  readonly descriptor: DataDescriptor | undefined;
}

const NO_EXTRA_FIELDS: readonly ExtraField[] = Object.freeze([]);

export async function readLocalRecord(window: WindowReader, fileSize: number, cd: CentralRecord): Promise<LocalRecord> {
  const malformed = (detail: string) => new XipError('ZIP_MALFORMED', detail, { entry: displayName(cd.nameRaw) });
  const offset = cd.localHeaderOffset; // offset + 30 <= fileSize: central-directory.ts checked
  // Fields are read at once from the window; only what differs from the
  // central directory is copied, so a million records hold little memory.
  const head = await window.view(offset, LOCAL_HEADER_SIZE);
  const signature = head.readUInt32LE(0);
  if (signature !== LOCAL_HEADER_SIGNATURE) {
    throw malformed(`invalid local file header signature ${hex(signature)} at offset ${offset}`);
  }
  const flags = head.readUInt16LE(6);
  const method = head.readUInt16LE(8);
  const crc32 = head.readUInt32LE(14);
  let compressedSize = head.readUInt32LE(18);
  let uncompressedSize = head.readUInt32LE(22);
  const nameLength = head.readUInt16LE(26);
  const extraFieldLength = head.readUInt16LE(28);
  const dataOffset = offset + LOCAL_HEADER_SIZE + nameLength + extraFieldLength;
  if (dataOffset > fileSize) throw malformed(`the local header at offset ${offset} runs past the end of the file`);
  const variable = await window.read(offset + LOCAL_HEADER_SIZE, nameLength + extraFieldLength);
  const parsedExtraFields = parseExtraFields(variable.subarray(nameLength));
  if (!parsedExtraFields) throw malformed('local extra field length exceeds extra field buffer size');
  const extraFields = parsedExtraFields.length === 0 ? NO_EXTRA_FIELDS : parsedExtraFields;
  const localName = variable.subarray(0, nameLength);

  const zip64Fields = extraFields.filter((f) => f.id === ZIP64_EXTRA_ID);
  if (zip64Fields.length > 1) throw malformed(`${zip64Fields.length} zip64 extra fields in the local header`);
  const zip64 = zip64Fields[0];
  if (compressedSize === U32_SENTINEL || uncompressedSize === U32_SENTINEL) {
    // APPNOTE 4.5.3: in a local header the field holds both sizes; some
    // writers put only the ones they replaced, in the same order.
    if (!zip64) throw malformed(`local header size is ${hex(U32_SENTINEL)} but there is no zip64 extra field`);
    const data = zip64.data;
    const read = (at: number, what: string): number => {
      if (at + 8 > data.length) throw malformed(`local zip64 extra field does not include the ${what}`);
      const value = readUInt64(data, at);
      if (value === undefined) throw malformed(`local zip64 ${what} ${data.readBigUInt64LE(at)} exceeds 2^53`);
      return value;
    };
    const usizeAt = 0;
    const csizeAt = data.length >= 16 || uncompressedSize === U32_SENTINEL ? 8 : 0;
    if (uncompressedSize === U32_SENTINEL) uncompressedSize = read(usizeAt, 'uncompressed size');
    if (compressedSize === U32_SENTINEL) compressedSize = read(csizeAt, 'compressed size');
  }

  // The central directory's size is the one that counts (with bit 3 the
  // local one may be 0); that it agrees is checked later.
  const dataEnd = dataOffset + cd.compressedSize;
  if (dataEnd > fileSize) {
    throw malformed(`file data overflows file bounds: ${dataOffset} + ${cd.compressedSize} > ${fileSize}`);
  }
  const descriptor =
    flags & FLAG_DATA_DESCRIPTOR ? await readDataDescriptor(window, fileSize, dataEnd, cd, zip64 !== undefined, malformed) : undefined;
  return {
    offset,
    flags,
    method,
    crc32,
    compressedSize,
    uncompressedSize,
    // The same bytes as the central directory's name: share its buffer.
    nameRaw: localName.equals(cd.nameRaw) ? cd.nameRaw : localName,
    extraFields,
    extraFieldLength,
    dataOffset,
    end: dataEnd + (descriptor?.length ?? 0),
    descriptor,
  };
}

/**
 * APPNOTE 4.3.9: crc-32 and both sizes, after an optional signature, with
 * 8-byte sizes for zip64 entries. The form is not declared anywhere, so the
 * one whose values match the central directory is taken; when none does, the
 * form the bytes suggest is kept and the mismatch is reported by checks.ts.
 */
async function readDataDescriptor(
  window: WindowReader,
  fileSize: number,
  offset: number,
  cd: CentralRecord,
  localZip64: boolean,
  malformed: (detail: string) => XipError,
): Promise<DataDescriptor> {
  const available = Math.min(24, fileSize - offset);
  if (available < 12) throw malformed(`the data descriptor at offset ${offset} runs past the end of the file`);
  const bytes = await window.view(offset, available); // read at once, not kept
  const hasSignature = bytes.readUInt32LE(0) === DATA_DESCRIPTOR_SIGNATURE;
  // Java writes 8-byte sizes for large entries without a local zip64 field.
  const wideFirst = localZip64 || cd.hasZip64Extra;
  const forms: { signature: boolean; wide: boolean }[] = [];
  for (const signature of hasSignature ? [true, false] : [false]) {
    forms.push({ signature, wide: wideFirst }, { signature, wide: !wideFirst });
  }
  const parsed: DataDescriptor[] = [];
  for (const form of forms) {
    const at = form.signature ? 4 : 0;
    const length = at + (form.wide ? 20 : 12);
    if (length > available) continue;
    const size = (i: number) => (form.wide ? bytes.readBigUInt64LE(at + 4 + i * 8) : BigInt(bytes.readUInt32LE(at + 4 + i * 4)));
    parsed.push({ offset, length, ...form, crc32: bytes.readUInt32LE(at), compressedSize: size(0), uncompressedSize: size(1) });
  }
  const matching = parsed.find(
    (d) => d.crc32 === cd.crc32 && d.compressedSize === BigInt(cd.compressedSize) && d.uncompressedSize === BigInt(cd.uncompressedSize),
  );
  const chosen = matching ?? parsed.find((d) => d.signature === hasSignature && d.wide === wideFirst);
  if (!chosen) throw malformed(`the data descriptor at offset ${offset} runs past the end of the file`);
  return chosen;
}
