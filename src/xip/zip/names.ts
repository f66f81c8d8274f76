// Entry names (xip-format.md §1 and §4 step 1): UTF-8 with flag bit 11
// whenever not plain ASCII, '/'-separated relative paths, nothing a
// file system or another reader could take for something else.
import { crc32 } from 'node:zlib';
import { XipError } from '../../errors.js';
import { FLAG_UTF8, type ExtraField, UNICODE_PATH_EXTRA_ID } from './binary.js';

// ignoreBOM keeps a leading U+FEFF, so the name is exactly the bytes.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** For messages only: a lossy decoding that never throws. */
export function displayName(raw: Buffer): string {
  return raw.toString('utf8');
}

export type DecodedName = { readonly name: string } | { readonly problem: string };

export function decodeName(raw: Buffer, flags: number): DecodedName {
  if (flags & FLAG_UTF8) {
    try {
      return { name: utf8.decode(raw) };
    } catch {
      return { problem: 'the name is not valid UTF-8 although flag bit 11 says it is' };
    }
  }
  // Without bit 11 the name would be CP437 (APPNOTE appendix D); the spec
  // says writers set the bit for anything but ASCII, so anything else is a
  // name two readers could decode differently.
  for (const byte of raw) {
    if (byte >= 0x80) return { problem: 'the name is not ASCII and flag bit 11 (UTF-8) is not set' };
  }
  return { name: raw.toString('latin1') };
}

/** Why a decoded name is unsafe, or undefined. */
export function unsafeReason(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  for (let i = 0; i < name.length; i += 1) {
    const unit = name.charCodeAt(i);
    // NUL, C0, DEL and C1 controls.
    if (unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f)) {
      return `the name contains the control character U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
    }
  }
  if (name.includes('\\')) return 'the name contains a backslash';
  if (name.startsWith('/')) return 'the name is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'the name starts with a drive letter';
  const segments = name.split('/');
  if (name.endsWith('/')) segments.pop(); // a directory's trailing '/'
  for (const segment of segments) {
    if (segment === '') return 'the name has an empty path segment';
    if (segment === '.' || segment === '..') return `the name has a "${segment}" segment`;
  }
  return undefined;
}

/**
 * Info-ZIP's Unicode Path extra field (0x7075) gives some readers (yauzl with
 * decodeStrings, Info-ZIP unzip) another name for the entry: if it applies
 * (version 1, CRC of the header name matches) it must say the same thing.
 */
export function unicodePathConflict(raw: Buffer, name: string, extraFields: readonly ExtraField[]): string | undefined {
  for (const field of extraFields) {
    if (field.id !== UNICODE_PATH_EXTRA_ID || field.data.length < 6 || field.data[0] !== 1) continue;
    if (field.data.readUInt32LE(1) !== crc32(raw)) continue;
    const other = field.data.subarray(5).toString('utf8');
    if (other !== name) return `an Info-ZIP Unicode Path extra field names it ${JSON.stringify(other)}`;
  }
  return undefined;
}

/** Names equal under this key are the same file on a case-insensitive, normalising file system. */
export function duplicateKey(name: string): string {
  const folded = name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
  // "a" and "a/" cannot both be extracted.
  return folded.endsWith('/') ? folded.slice(0, -1) : folded;
}

/**
 * For writers: throws the XipError the reader would give for these names
 * (ZIP_UNSAFE_PATH, ZIP_DUPLICATE_ENTRY), so nothing is written that
 * openZip would refuse. Names are written as UTF-8 with flag bit 11.
 */
export function checkEntryNames(names: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const name of names) {
    // A lone surrogate would be written as U+FFFD and read back as another name.
    const reason = /\p{Surrogate}/u.test(name) ? 'the name is not valid Unicode (lone surrogate)' : unsafeReason(name);
    if (reason) throw new XipError('ZIP_UNSAFE_PATH', `${JSON.stringify(name)}: ${reason}`, { entry: name });
    const key = duplicateKey(name);
    const other = seen.get(key);
    if (other !== undefined) {
      const how = other === name ? 'twice' : `and as ${JSON.stringify(other)}`;
      throw new XipError('ZIP_DUPLICATE_ENTRY', `${JSON.stringify(name)} appears ${how}`, { entry: name });
    }
    seen.set(key, name);
  }
}
