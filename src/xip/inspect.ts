// Inspection: the structure, manifest and signer of a container as found,
// with no trust decision and without reading any data entry — for someone
// looking at a file that was sent to them. Each part reports its own problem
// (with the verification code it would fail with) and the rest still shows.
import { XipError } from '../errors.js';
import { resolveZipLimits, type ZipLimits } from '../limits.js';
import { parseSignature, type CertInfo } from './cms/index.js';
import { MANIFEST_PATTERN, SIGNATURE_PATTERN } from './layout.js';
import { parseManifest, type PackageInfo } from './manifest.js';
import { openForReading } from './verify.js';
import { openZip, type ZipArchive, type ZipEntry } from './zip/reader.js';

export interface Problem {
  readonly ok: false;
  readonly code: string;
  readonly message: string;
}

export interface InspectReport {
  readonly file: string;
  readonly size: number;
  readonly zip:
    | { readonly ok: true; readonly entries: readonly InspectedEntry[] }
    | Problem;
  readonly manifest:
    | {
        readonly ok: true;
        readonly name: string;
        readonly signatureName: string;
        readonly references: readonly { name: string; mimeType: string; digestAlgorithm: string; digest: string }[];
        readonly package: PackageInfo | null;
      }
    | Problem
    | null;
  readonly signature:
    | {
        readonly ok: true;
        readonly name: string;
        readonly signer: CertInfo;
        readonly certificates: readonly CertInfo[];
        readonly digestAlgorithm: string;
        readonly signingTime: string | null;
        readonly timestampToken: boolean;
      }
    | Problem
    | null;
}

export interface InspectedEntry {
  readonly name: string;
  readonly method: 'stored' | 'deflate';
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: string;
  readonly offset: number;
  readonly modified: string;
}

function problem(e: unknown): Problem {
  if (e instanceof XipError) return { ok: false, code: e.code, message: e.explanation };
  throw e;
}

export async function inspectFile(path: string, limits: Partial<ZipLimits> = {}): Promise<InspectReport> {
  const resolved = resolveZipLimits(limits);
  const handle = await openForReading(path);
  try {
    const size = (await handle.stat()).size;
    let archive: ZipArchive;
    try {
      archive = await openZip(handle, resolved);
    } catch (e) {
      return { file: path, size, zip: problem(e), manifest: null, signature: null };
    }
    const entries: InspectedEntry[] = archive.entries.map((e) => ({
      name: e.name,
      method: e.compressionMethod === 0 ? 'stored' : 'deflate',
      compressedSize: e.compressedSize,
      size: e.uncompressedSize,
      crc32: e.crc32.toString(16).padStart(8, '0'),
      offset: e.localHeaderOffset,
      modified: e.lastModified.toISOString(),
    }));
    const files = archive.entries.filter((e) => !e.isDirectory);
    const manifest = await readPart(archive, files.filter((e) => MANIFEST_PATTERN.test(e.name)), 'MANIFEST_MISSING', resolved.maxManifestBytes, (entry, bytes) => {
      const m = parseManifest(bytes, resolved);
      return {
        ok: true as const,
        name: entry.name,
        signatureName: m.signatureName,
        references: m.references.map((r) => ({ name: r.name, mimeType: r.mimeType, digestAlgorithm: r.digestAlgorithm, digest: r.digest.toString('base64') })),
        package: m.package,
      };
    });
    const signature = await readPart(archive, files.filter((e) => SIGNATURE_PATTERN.test(e.name)), 'SIGNATURE_MISSING', resolved.maxSignatureBytes, (entry, bytes) => {
      const s = parseSignature(bytes);
      return {
        ok: true as const,
        name: entry.name,
        signer: s.signer.info,
        certificates: s.certificates.map((c) => c.info),
        digestAlgorithm: s.digestAlgorithm,
        signingTime: s.signingTime ? s.signingTime.toISOString() : null,
        timestampToken: s.timestampToken !== undefined,
      };
    });
    return { file: path, size, zip: { ok: true, entries }, manifest, signature };
  } finally {
    await handle.close();
  }
}

async function readPart<T>(
  archive: ZipArchive,
  candidates: readonly ZipEntry[],
  missing: 'MANIFEST_MISSING' | 'SIGNATURE_MISSING',
  maxBytes: number,
  read: (entry: ZipEntry, bytes: Buffer) => T,
): Promise<T | Problem> {
  try {
    if (candidates.length === 0) throw new XipError(missing);
    if (candidates.length > 1) throw new XipError('SIGNATURE_FORMAT_UNSUPPORTED', `${candidates.length} candidates: ${candidates.map((c) => c.name).join(', ')}`);
    const entry = candidates[0] as ZipEntry;
    return read(entry, await archive.readEntry(entry, maxBytes));
  } catch (e) {
    return problem(e);
  }
}
