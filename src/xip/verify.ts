// The verification of xip-format.md §4: five steps in order, stopping at the
// first failure. Nothing of a data entry is handed out before every step has
// passed, except to a `sink` that the caller keeps private until then (the
// single pass used by extraction: the bytes written are the bytes digested).
import { createHash, type Hash } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { XipError } from '../errors.js';
import { resolveZipLimits, type ZipLimits } from '../limits.js';
import { parseSignature, verifySignature, verifyTrust, type CertInfo, type Crl, type X509 } from './cms/index.js';
import { parseManifest, type DigestAlgorithm, type Manifest, type PackageInfo } from './manifest.js';
import { isDataEntryName, MANIFEST_PATTERN, MIMETYPE, SIGNATURE_PATTERN } from './layout.js';
import { showPath } from './show-path.js';
import { openZip, type ZipArchive, type ZipEntry } from './zip/reader.js';

export interface VerifyOptions {
  /** Trust anchors: every certificate here is trusted, self-signed or not (§4 step 4). */
  readonly trust: readonly X509[];
  readonly crls?: readonly Crl[];
  /** A validation time the caller asks for; it wins over a time-stamp and the clock. */
  readonly at?: Date;
  /** The clock, for tests. */
  readonly now?: Date;
  readonly limits?: Partial<ZipLimits>;
  /**
   * Receives each data entry's bytes while step 5 digests them. What it gets
   * is not verified until verification resolves: keep it private until then.
   */
  readonly sink?: (entry: ZipEntry) => Writable | Promise<Writable>;
}

export interface VerifiedEntry {
  readonly name: string;
  readonly size: number;
  /** Hex SHA-256 of the uncompressed bytes (also when the manifest uses SHA-512). */
  readonly sha256: string;
  readonly mimeType: string;
  readonly digestAlgorithm: DigestAlgorithm;
}

export interface VerifyReport {
  readonly ok: true;
  readonly signer: { readonly subject: string; readonly sha256: string };
  readonly chain: readonly CertInfo[];
  readonly validationTime: string;
  readonly validationTimeSource: 'caller' | 'timestamp' | 'now';
  readonly signingTime: string | null;
  readonly package: PackageInfo | null;
  /** Data entries in manifest order. */
  readonly entries: readonly VerifiedEntry[];
  /** Deviations a reader accepts but a writer should not produce. */
  readonly warnings: readonly string[];
}

/** What a verified, still open container offers for reading its data entries again. */
export interface VerifiedArchive {
  readonly report: VerifyReport;
  readonly archive: ZipArchive;
  /** Data entries by name. */
  readonly dataEntries: ReadonlyMap<string, ZipEntry>;
}

/** Runs every step over an open file. The handle stays open (the caller owns it). */
export async function verifyHandle(handle: FileHandle, options: VerifyOptions): Promise<VerifiedArchive> {
  const limits = resolveZipLimits(options.limits);
  const warnings: string[] = [];

  // Step 1: ZIP structure, from the central directory and local headers.
  const archive = await openZip(handle, limits);
  const files = archive.entries.filter((e) => !e.isDirectory);

  // Step 2: layout.
  const mimetype = files.find((e) => e.name === 'mimetype');
  if (!mimetype) throw new XipError('MIMETYPE_MISSING');
  const mimeBytes = await archive.readEntry(mimetype, 1024);
  if (!mimeBytes.equals(Buffer.from(MIMETYPE, 'ascii'))) {
    throw new XipError('MIMETYPE_INVALID', `it holds "${mimeBytes.subarray(0, 64).toString('latin1')}"`, { entry: 'mimetype' });
  }
  if (archive.entries[0] !== mimetype) warnings.push('mimetype is not the first entry');
  if (mimetype.compressionMethod !== 0) warnings.push('mimetype is compressed');
  if (mimetype.localExtraFieldLength !== 0) warnings.push('mimetype has an extra field');

  const manifests = files.filter((e) => MANIFEST_PATTERN.test(e.name));
  if (manifests.length === 0) throw new XipError('MANIFEST_MISSING');
  if (manifests.length > 1) {
    throw new XipError('SIGNATURE_FORMAT_UNSUPPORTED', `${manifests.length} manifests (${manifests.map((m) => m.name).join(', ')}); version 1 has exactly one`);
  }
  const manifestEntry = manifests[0] as ZipEntry;
  const manifestBytes = await archive.readEntry(manifestEntry, limits.maxManifestBytes);
  let manifest: Manifest;
  try {
    manifest = parseManifest(manifestBytes, limits);
  } catch (e) {
    if (e instanceof XipError) throw new XipError(e.code, e.detail, { entry: manifestEntry.name, cause: e });
    throw e;
  }
  const signatures = files.filter((e) => SIGNATURE_PATTERN.test(e.name));
  const signatureEntry = files.find((e) => e.name === manifest.signatureName);
  if (signatures.length === 0 || signatureEntry === undefined) {
    throw new XipError('SIGNATURE_MISSING', `the manifest names "${showPath(manifest.signatureName)}"`);
  }
  if (!SIGNATURE_PATTERN.test(signatureEntry.name)) {
    throw new XipError('MANIFEST_INVALID', `SigReference names "${showPath(signatureEntry.name)}", not a META-INF/signature*.p7s entry`, { entry: manifestEntry.name });
  }
  const others = files.filter((e) => e.name.startsWith('META-INF/') && e !== manifestEntry && e !== signatureEntry);
  if (others.length > 0) {
    throw new XipError('SIGNATURE_FORMAT_UNSUPPORTED', `unexpected ${others.map((e) => e.name).join(', ')}`);
  }
  for (const ref of manifest.references) {
    if (!isDataEntryName(ref.name)) {
      throw new XipError('MANIFEST_INVALID', `DataObjectReference names "${showPath(ref.name)}", which is not a data entry`, { entry: manifestEntry.name });
    }
  }

  // Step 3: the signature over the manifest's exact bytes.
  const signatureBytes = await archive.readEntry(signatureEntry, limits.maxSignatureBytes);
  const signature = parseSignature(signatureBytes);
  verifySignature(signature, manifestBytes);

  // Step 4: trust, at the validation time.
  const trust = verifyTrust(signature, {
    trust: options.trust,
    ...(options.crls ? { crls: options.crls } : {}),
    ...(options.at ? { at: options.at } : {}),
    ...(options.now ? { now: options.now } : {}),
  });

  // Step 5: data. Membership both ways first, then every digest.
  const dataEntries = new Map<string, ZipEntry>();
  for (const e of files) if (isDataEntryName(e.name)) dataEntries.set(e.name, e);
  const listed = new Map(manifest.references.map((r) => [r.name, r]));
  for (const name of dataEntries.keys()) {
    if (!listed.has(name)) throw new XipError('ENTRY_UNSIGNED', `"${showPath(name)}" is not in the manifest`, { entry: name });
  }
  for (const name of listed.keys()) {
    if (!dataEntries.has(name)) throw new XipError('ENTRY_MISSING', `"${showPath(name)}" is listed in the manifest`, { entry: name });
  }
  const sha256ByName = new Map<string, string>();
  // In archive order, so the file is read front to back.
  for (const entry of [...dataEntries.values()].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset)) {
    const ref = listed.get(entry.name)!;
    const digester = new Digester(ref.digestAlgorithm);
    const sink = options.sink ? await options.sink(entry) : new Discard();
    await pipeline(archive.openEntry(entry), digester, sink);
    if (!digester.digest.equals(ref.digest)) {
      throw new XipError('DIGEST_MISMATCH', `"${showPath(entry.name)}": ${ref.digestAlgorithm} is ${digester.digest.toString('base64')}, the manifest says ${ref.digest.toString('base64')}`, { entry: entry.name });
    }
    sha256ByName.set(entry.name, digester.sha256);
  }

  const report: VerifyReport = {
    ok: true,
    signer: { subject: signature.signer.info.subject, sha256: signature.signer.info.sha256 },
    chain: trust.chain,
    validationTime: trust.validationTime.toISOString(),
    validationTimeSource: trust.validationTimeSource,
    signingTime: signature.signingTime ? signature.signingTime.toISOString() : null,
    package: manifest.package,
    entries: manifest.references.map((r) => ({
      name: r.name,
      size: dataEntries.get(r.name)!.uncompressedSize,
      sha256: sha256ByName.get(r.name)!,
      mimeType: r.mimeType,
      digestAlgorithm: r.digestAlgorithm,
    })),
    warnings,
  };
  return { report, archive, dataEntries };
}

/** Opens the file once, verifies it, and closes it. */
export async function verifyFile(path: string, options: VerifyOptions): Promise<VerifyReport> {
  const handle = await openForReading(path);
  try {
    return (await verifyHandle(handle, options)).report;
  } finally {
    await handle.close();
  }
}

/** What a file that is not a regular file is, for a message. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens a container for reading, refusing anything but a regular file with
 * IO_ERROR before it is opened: open(2) of a FIFO for reading waits for a
 * writer (`xip verify` on a FIFO hung forever), and opening a device may do
 * something. O_NONBLOCK covers a path swapped for a FIFO after the check (the
 * open returns at once, and the handle's own fstat refuses it); on a regular
 * file it changes nothing.
 */
export async function openForReading(path: string): Promise<FileHandle> {
  const cannot = (e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    return new XipError('IO_ERROR', `cannot open ${showPath(path)}: ${err.code ?? err.message}`, { cause: e });
  };
  const refuse = (st: Stats) => new XipError('IO_ERROR', `${showPath(path)} is ${kindOf(st)}, not a regular file: nothing was read from it`);
  let before: Stats;
  try {
    before = await stat(path);
  } catch (e) {
    throw cannot(e);
  }
  if (!before.isFile()) throw refuse(before);
  let handle: FileHandle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  } catch (e) {
    throw cannot(e);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw refuse(st);
    if (st.ino !== before.ino || st.dev !== before.dev) throw new XipError('IO_ERROR', `${showPath(path)} was replaced while it was being opened`);
    return handle;
  } catch (e) {
    await handle.close();
    throw e instanceof XipError ? e : cannot(e);
  }
}

/** Passes bytes through while computing the manifest's digest and, when that is not SHA-256, SHA-256 too. */
class Digester extends Transform {
  private readonly main: Hash;
  private readonly sha: Hash | null;
  digest: Buffer = Buffer.alloc(0);
  sha256 = '';
  constructor(algorithm: DigestAlgorithm) {
    super({ highWaterMark: 1024 * 1024 });
    this.main = createHash(algorithm);
    this.sha = algorithm === 'sha256' ? null : createHash('sha256');
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.main.update(chunk);
    this.sha?.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.digest = this.main.digest();
    this.sha256 = (this.sha ? this.sha.digest() : this.digest).toString('hex');
    cb();
  }
}

class Discard extends Writable {
  constructor() {
    super({ highWaterMark: 1024 * 1024 });
  }
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    cb();
  }
  override _writev(_chunks: unknown[], cb: (e?: Error | null) => void): void {
    cb();
  }
}
