// Assembles ZIP archives byte by byte, with every field settable, to make
// the broken files the reader must refuse (APPNOTE 4.3). Defaults give a
// well-formed archive: STORED, Unix regular files, UTF-8 names, no extras.
import zlib from 'node:zlib';

export interface LocalOverrides {
  readonly signature?: number;
  readonly versionNeeded?: number;
  readonly flags?: number;
  readonly method?: number;
  readonly crc32?: number;
  readonly compressedSize?: number;
  readonly uncompressedSize?: number;
  readonly name?: Buffer;
  readonly extra?: Buffer;
}

export interface DescriptorSpec {
  /** Write the optional 0x08074b50 signature (default true). */
  readonly signature?: boolean;
  /** 8-byte sizes (default: the entry's zip64). */
  readonly wide?: boolean;
  readonly crc32?: number;
  readonly compressedSize?: number;
  readonly uncompressedSize?: number;
}

export interface EntrySpec {
  readonly name: string | Buffer;
  readonly data?: Buffer | string;
  /** Default 0 (STORED); 8 deflates `data` unless `compressed` is given. */
  readonly method?: number;
  /** The bytes written as file data, in place of data/deflate(data). */
  readonly compressed?: Buffer;
  /** Central directory flags (default: bit 11 when the name is not ASCII; bit 3 with a descriptor). */
  readonly flags?: number;
  readonly crc32?: number;
  readonly compressedSize?: number;
  readonly uncompressedSize?: number;
  readonly versionMadeBy?: number;
  readonly externalAttributes?: number;
  readonly centralExtra?: Buffer;
  readonly comment?: Buffer;
  readonly diskNumberStart?: number;
  /** Central directory's local header offset, in place of where the record was written. */
  readonly localHeaderOffset?: number;
  /** zip64 extra fields with 0xFFFFFFFF in the 32-bit fields, central and local. */
  readonly zip64?: boolean;
  readonly local?: LocalOverrides;
  /** Flag bit 3 and a data descriptor after the data; local CRC and sizes 0. */
  readonly descriptor?: DescriptorSpec;
  /** Write no local record in sequence (it is somewhere else, see localHeaderOffset). */
  readonly omitLocal?: boolean;
  /** Bytes written after this entry's local record. */
  readonly after?: Buffer;
}

export interface Zip64EndSpec {
  readonly signature?: number;
  readonly extensibleData?: Buffer;
  readonly gapBeforeLocator?: Buffer;
  readonly disk?: number;
  readonly cdDisk?: number;
  readonly entriesOnDisk?: number;
  readonly entryCount?: number;
  readonly cdSize?: number;
  readonly cdOffset?: number;
  readonly recordSize?: number;
  readonly locatorDisk?: number;
  readonly totalDisks?: number;
  readonly recordOffset?: number;
}

export interface EocdSpec {
  readonly disk?: number;
  readonly cdDisk?: number;
  readonly entriesOnDisk?: number;
  readonly entryCount?: number;
  readonly cdSize?: number;
  readonly cdOffset?: number;
  readonly commentLength?: number;
}

export interface ArchiveSpec {
  readonly entries: readonly EntrySpec[];
  readonly prefix?: Buffer;
  /** Central directory order, as indexes into `entries` (default: as given). */
  readonly cdOrder?: readonly number[];
  /** Bytes inside the declared central directory, after the last record. */
  readonly cdPadding?: Buffer;
  /** Bytes between the central directory and the end records. */
  readonly afterCentralDirectory?: Buffer;
  readonly zip64?: boolean | Zip64EndSpec;
  readonly eocd?: EocdSpec;
  readonly comment?: Buffer;
  readonly trailing?: Buffer;
}

const SENTINEL32 = 0xffffffff;
const SENTINEL16 = 0xffff;
const DOS_TIME = (12 << 11) | (30 << 5); // 12:30:00
const DOS_DATE = ((2024 - 1980) << 9) | (5 << 5) | 17; // 2024-05-17

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
}
function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}
function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
}

export function extraField(id: number, data: Buffer): Buffer {
  return Buffer.concat([u16(id), u16(data.length), data]);
}

interface Resolved {
  readonly spec: EntrySpec;
  readonly name: Buffer;
  readonly payload: Buffer;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
}

function resolve(spec: EntrySpec): Resolved {
  const name = typeof spec.name === 'string' ? Buffer.from(spec.name, 'utf8') : spec.name;
  const data = typeof spec.data === 'string' ? Buffer.from(spec.data) : (spec.data ?? Buffer.alloc(0));
  const method = spec.method ?? 0;
  const payload = spec.compressed ?? (method === 8 ? zlib.deflateRawSync(data) : data);
  const ascii = typeof spec.name !== 'string' || /^[\x20-\x7e]*$/.test(spec.name);
  const flags = spec.flags ?? ((ascii ? 0 : 0x0800) | (spec.descriptor ? 0x0008 : 0));
  return {
    spec,
    name,
    payload,
    method,
    flags,
    crc32: spec.crc32 ?? zlib.crc32(data),
    compressedSize: spec.compressedSize ?? payload.length,
    uncompressedSize: spec.uncompressedSize ?? data.length,
  };
}

/** Local header, file data and data descriptor of one entry. */
export function localRecord(spec: EntrySpec): Buffer {
  return localBytes(resolve(spec));
}

function localBytes(e: Resolved): Buffer {
  const o = e.spec.local ?? {};
  const d = e.spec.descriptor;
  const zip64 = e.spec.zip64 ?? false;
  const crc = o.crc32 ?? (d ? 0 : e.crc32);
  const csize = d ? 0 : e.compressedSize;
  const usize = d ? 0 : e.uncompressedSize;
  const extra = o.extra ?? (zip64 ? extraField(0x0001, Buffer.concat([u64(usize), u64(csize)])) : Buffer.alloc(0));
  const name = o.name ?? e.name;
  const header = Buffer.concat([
    u32(o.signature ?? 0x04034b50),
    u16(o.versionNeeded ?? (zip64 ? 45 : 20)),
    u16(o.flags ?? e.flags),
    u16(o.method ?? e.method),
    u16(DOS_TIME),
    u16(DOS_DATE),
    u32(crc),
    u32(o.compressedSize ?? (zip64 ? SENTINEL32 : csize)),
    u32(o.uncompressedSize ?? (zip64 ? SENTINEL32 : usize)),
    u16(name.length),
    u16(extra.length),
    name,
    extra,
  ]);
  const parts = [header, e.payload];
  if (d) {
    const wide = d.wide ?? zip64;
    const size = wide ? u64 : u32;
    if (d.signature ?? true) parts.push(u32(0x08074b50));
    parts.push(u32(d.crc32 ?? e.crc32), size(d.compressedSize ?? e.compressedSize), size(d.uncompressedSize ?? e.uncompressedSize));
  }
  return Buffer.concat(parts);
}

function centralBytes(e: Resolved, offset: number): Buffer {
  const s = e.spec;
  const zip64 = s.zip64 ?? false;
  const isDir = e.name.length > 0 && e.name[e.name.length - 1] === 0x2f;
  const extra = Buffer.concat([
    zip64 ? extraField(0x0001, Buffer.concat([u64(e.uncompressedSize), u64(e.compressedSize), u64(offset)])) : Buffer.alloc(0),
    s.centralExtra ?? Buffer.alloc(0),
  ]);
  const comment = s.comment ?? Buffer.alloc(0);
  return Buffer.concat([
    u32(0x02014b50),
    u16(s.versionMadeBy ?? ((3 << 8) | 45)),
    u16(zip64 ? 45 : 20),
    u16(e.flags),
    u16(e.method),
    u16(DOS_TIME),
    u16(DOS_DATE),
    u32(e.crc32),
    u32(zip64 ? SENTINEL32 : e.compressedSize),
    u32(zip64 ? SENTINEL32 : e.uncompressedSize),
    u16(e.name.length),
    u16(extra.length),
    u16(comment.length),
    u16(s.diskNumberStart ?? 0),
    u16(0),
    u32(s.externalAttributes ?? (((isDir ? 0o040755 : 0o100644) << 16) >>> 0)),
    u32(zip64 ? SENTINEL32 : offset),
    e.name,
    extra,
    comment,
  ]);
}

export function buildZip(spec: ArchiveSpec): Buffer {
  const parts: Buffer[] = [];
  let cursor = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    cursor += b.length;
  };
  if (spec.prefix) push(spec.prefix);
  const resolved = spec.entries.map(resolve);
  const offsets: number[] = [];
  for (const e of resolved) {
    offsets.push(e.spec.localHeaderOffset ?? cursor);
    if (!e.spec.omitLocal) push(localBytes(e));
    if (e.spec.after) push(e.spec.after);
  }
  const cdOffset = cursor;
  const order = spec.cdOrder ?? resolved.map((_, i) => i);
  for (const i of order) push(centralBytes(resolved[i]!, offsets[i]!));
  if (spec.cdPadding) push(spec.cdPadding);
  const cdSize = cursor - cdOffset;
  if (spec.afterCentralDirectory) push(spec.afterCentralDirectory);
  const count = order.length;
  const z = spec.zip64 === true ? {} : spec.zip64 || undefined;
  const eo = spec.eocd ?? {};
  if (z) {
    const recordOffset = cursor;
    const extensible = z.extensibleData ?? Buffer.alloc(0);
    push(
      Buffer.concat([
        u32(z.signature ?? 0x06064b50),
        u64(z.recordSize ?? 44 + extensible.length),
        u16((3 << 8) | 45),
        u16(45),
        u32(z.disk ?? 0),
        u32(z.cdDisk ?? 0),
        u64(z.entriesOnDisk ?? count),
        u64(z.entryCount ?? count),
        u64(z.cdSize ?? cdSize),
        u64(z.cdOffset ?? cdOffset),
        extensible,
      ]),
    );
    if (z.gapBeforeLocator) push(z.gapBeforeLocator);
    push(Buffer.concat([u32(0x07064b50), u32(z.locatorDisk ?? 0), u64(z.recordOffset ?? recordOffset), u32(z.totalDisks ?? 1)]));
  }
  const comment = spec.comment ?? Buffer.alloc(0);
  push(
    Buffer.concat([
      u32(0x06054b50),
      u16(eo.disk ?? (z ? SENTINEL16 : 0)),
      u16(eo.cdDisk ?? (z ? SENTINEL16 : 0)),
      u16(eo.entriesOnDisk ?? (z ? SENTINEL16 : count)),
      u16(eo.entryCount ?? (z ? SENTINEL16 : count)),
      u32(eo.cdSize ?? (z ? SENTINEL32 : cdSize)),
      u32(eo.cdOffset ?? (z ? SENTINEL32 : cdOffset)),
      u16(eo.commentLength ?? comment.length),
      comment,
    ]),
  );
  if (spec.trailing) push(spec.trailing);
  return Buffer.concat(parts);
}
