// The XIP writer (xip-format.md §1–3): every file under a directory becomes a
// data entry, then the manifest and a CAdES baseline-B signature are written
// ahead of them, in the spec's entry order. Files stream through twice (once
// to digest them for the manifest, which precedes the data, once into the
// archive) and are never held whole in memory.
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, lstat, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deflateRawSync } from 'node:zlib';
import yazl from 'yazl';
import { XipError } from '../errors.js';
import { entryKind } from '../items/read.js';
import { resolveZipLimits, type ZipLimits } from '../limits.js';
import { signManifest, type X509 } from './cms/index.js';
import { checkValidity } from './cms/chain.js';
import { writeManifest, type DigestAlgorithm, type ManifestReference, type PackageInfo } from './manifest.js';
import { MANIFEST_NAME, MIMETYPE, SIGNATURE_NAME } from './layout.js';
import { isAlreadyCompressed, mediaTypeFor } from './media-types.js';
import { duplicateKey, unsafeReason } from './zip/names.js';
import { openZip } from './zip/reader.js';

export interface PackOptions {
  /** Directory whose files become the data entries. */
  readonly dir: string;
  /**
   * The XIP file to write, which appears only once complete. Something
   * already there is PACK_OUTPUT_EXISTS, unless `force` and it is a regular
   * file: a folder, device, link, FIFO or socket is never replaced.
   */
  readonly output: string;
  readonly force?: boolean;
  /**
   * Sign even with a certificate verification would reject at the signing
   * time (CERT_EXPIRED, CERT_NOT_YET_VALID, CERT_USAGE): the refusal becomes
   * one of the result's warnings.
   */
  readonly allowInvalidCertificate?: boolean;
  readonly certificate: X509;
  readonly privateKey: KeyObject;
  readonly chain?: readonly X509[];
  /** The source platform's name for `xip:Package` (else `source` of DIR/xip.json; else no package extension). */
  readonly source?: string;
  readonly created?: Date;
  readonly digestAlgorithm?: DigestAlgorithm;
  /** 'auto' (default): DEFLATE, but STORED for already-compressed types and for data that would trip the reader's ratio limit. */
  readonly compression?: 'auto' | 'store' | 'deflate';
  /** An RFC 3161 token source for the signature value (CAdES baseline T). */
  readonly timestamp?: (signatureValue: Buffer) => Promise<Buffer>;
  /** The limits the written file must pass (the reader's defaults unless given). */
  readonly limits?: Partial<ZipLimits>;
}

export interface PackedEntry {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly stored: boolean;
}

export interface PackResult {
  readonly output: string;
  readonly entries: readonly PackedEntry[];
  readonly package: PackageInfo | null;
  /** What a verifier will object to, signed anyway (allowInvalidCertificate). */
  readonly warnings: readonly string[];
}

interface SourceFile {
  readonly name: string;
  readonly path: string;
  size: number;
  digest: Buffer;
  sha256: string;
  store: boolean;
  mtime: Date;
}

const SAMPLE_BYTES = 1024 * 1024;

/** Lists regular files under dir, as sorted `/`-separated names; anything else is refused. */
async function listFiles(dir: string, exclude: ReadonlySet<string>): Promise<{ name: string; path: string }[]> {
  const out: { name: string; path: string }[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const dirent of await readdir(abs, { withFileTypes: true })) {
      const path = join(abs, dirent.name);
      const name = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      if (exclude.has(path)) continue;
      if (dirent.isDirectory()) await walk(path, name);
      else if (dirent.isFile()) out.push({ name, path });
      else throw new XipError('PACK_INPUT_INVALID', `"${name}" is not a regular file (symbolic link, device or socket)`);
    }
  };
  await walk(dir, '');
  // Sorted by UTF-8 bytes, so the same tree always packs in the same order.
  out.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  return out;
}

/** Counts the items of an .ndjson entry as xip-items.md §1 and items/read.ts do: its lines that are not blank (spaces, tabs, CR only). */
export class NdjsonLineCounter {
  private count = 0;
  private lineHasContent = false;
  update(chunk: Buffer): void {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        if (this.lineHasContent) this.count++;
        this.lineHasContent = false;
      } else if (byte !== 0x0d && byte !== 0x20 && byte !== 0x09) {
        this.lineHasContent = true;
      }
    }
  }
  finish(): number {
    return this.count + (this.lineHasContent ? 1 : 0);
  }
}

async function digestFile(path: string, algorithm: DigestAlgorithm, counter: NdjsonLineCounter | null): Promise<{ size: number; digest: Buffer; sha256: string; sample: Buffer }> {
  const hash = createHash(algorithm);
  const sha256 = algorithm === 'sha256' ? hash : createHash('sha256');
  const sampleParts: Buffer[] = [];
  let sampled = 0;
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (sha256 !== hash) sha256.update(chunk);
    counter?.update(chunk);
    if (sampled < SAMPLE_BYTES) {
      const part = chunk.subarray(0, SAMPLE_BYTES - sampled);
      sampleParts.push(part);
      sampled += part.length;
    }
    size += chunk.length;
  }
  const digest = hash.digest();
  return { size, digest, sha256: (sha256 === hash ? digest : sha256.digest()).toString('hex'), sample: Buffer.concat(sampleParts) };
}

/** Checks, while yazl reads a file the second time, that it is the file that was digested. */
class DigestCheck extends Transform {
  private readonly hash = createHash('sha256');
  constructor(private readonly file: SourceFile) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const now = this.hash.digest('hex');
    cb(now === this.file.sha256 ? null : new XipError('PACK_INPUT_INVALID', `"${this.file.name}" changed while it was being packed`));
  }
}

async function readSourceFromXipJson(dir: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, 'xip.json'), 'utf8')) as unknown;
    const source = (parsed as { source?: unknown } | null)?.source;
    return typeof source === 'string' && source !== '' ? source : undefined;
  } catch {
    return undefined;
  }
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** What an existing path is, in words, for a refusal. */
function kindOf(st: Awaited<ReturnType<typeof lstat>>): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Refuses an output path that something already holds: always when it is not
 * a regular file (renaming over a device node as root replaces the device's
 * name), and without `force` when it is one.
 */
async function checkOutput(output: string, force: boolean): Promise<void> {
  let st;
  try {
    st = await lstat(output);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return;
    throw new XipError('IO_ERROR', `cannot use ${output} as the output: ${errnoOf(e) ?? (e as Error).message}`, { cause: e });
  }
  if (!st.isFile()) throw new XipError('PACK_OUTPUT_EXISTS', `${output} is ${kindOf(st)}, which is never replaced`);
  if (!force) throw new XipError('PACK_OUTPUT_EXISTS', `${output} is a file already there`);
}

/**
 * The certificate checks of verification step 4 that do not need a trust
 * store (cms/trust.ts), at the signing time: every certificate given valid
 * (CERT_EXPIRED, CERT_NOT_YET_VALID), the signer's keyUsage allowing
 * signatures (CERT_USAGE). A container signed otherwise is rejected by every
 * verifier, so it is refused, unless the caller asks for it on purpose.
 */
function certificateProblem(certificate: X509, chain: readonly X509[], at: Date): XipError | undefined {
  try {
    checkValidity([certificate, ...chain], at);
  } catch (e) {
    if (e instanceof XipError) return e;
    throw e;
  }
  const usage = certificate.keyUsage;
  if (usage && !usage.has('digitalSignature') && !usage.has('nonRepudiation')) {
    return new XipError('CERT_USAGE', `"${certificate.info.subject}" has keyUsage ${[...usage].join(', ') || '(none)'}, which allows neither digitalSignature nor nonRepudiation`);
  }
  return undefined;
}

export async function packDirectory(options: PackOptions): Promise<PackResult> {
  const dir = resolve(options.dir);
  const output = resolve(options.output);
  const limits = resolveZipLimits(options.limits);
  const algorithm = options.digestAlgorithm ?? 'sha256';
  const compression = options.compression ?? 'auto';
  const temp = `${output}.partial-${process.pid}`;
  const force = options.force ?? false;
  const created = options.created ?? new Date();
  const warnings: string[] = [];

  await checkOutput(output, force);
  const certProblem = certificateProblem(options.certificate, options.chain ?? [], created);
  if (certProblem && !options.allowInvalidCertificate) {
    throw new XipError(certProblem.code, `${certProblem.detail ?? ''}; verification would reject the container (--allow-invalid-cert signs anyway)`);
  }
  if (certProblem) warnings.push(`${certProblem.code}: ${certProblem.detail ?? ''}; verification will reject this container`);

  const dirStat = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
    throw new XipError('IO_ERROR', `cannot read ${dir}: ${e.code ?? e.message}`, { cause: e });
  });
  if (!dirStat.isDirectory()) throw new XipError('USAGE', `${dir} is not a directory`);

  const listed = await listFiles(dir, new Set([output, temp]));
  // The reader would refuse these names, so the writer refuses them first (§1, §4 step 1).
  const keys = new Map<string, string>();
  for (const { name } of listed) {
    const unsafe = unsafeReason(name);
    if (unsafe) throw new XipError('PACK_INPUT_INVALID', `"${name}": ${unsafe}`);
    const twin = keys.get(duplicateKey(name));
    if (twin !== undefined) throw new XipError('PACK_INPUT_INVALID', `"${name}" and "${twin}" differ only in case or Unicode normalisation`);
    keys.set(duplicateKey(name), name);
    if (name === 'mimetype' || name.startsWith('META-INF/')) {
      throw new XipError('PACK_INPUT_INVALID', `"${name}" is reserved for the container itself (mimetype, META-INF/)`);
    }
  }
  if (listed.length > limits.maxEntries - 3) throw new XipError('ZIP_LIMIT', `${listed.length} files exceed the limit of ${limits.maxEntries} entries`);

  // Pass 1: digests for the manifest, the item count, and the compression choice.
  const files: SourceFile[] = [];
  let items = 0;
  let total = 0;
  for (const { name, path } of listed) {
    const kind = entryKind(name);
    const counter = kind === 'ndjson' ? new NdjsonLineCounter() : null;
    const st = await lstat(path);
    const { size, digest, sha256, sample } = await digestFile(path, algorithm, counter);
    if (counter) items += counter.finish();
    else if (kind === 'json' || kind === 'eml') items += 1;
    total += size;
    let store = compression === 'store' || (compression === 'auto' && (size === 0 || isAlreadyCompressed(name)));
    if (!store && compression === 'auto' && size > limits.ratioMinSize) {
      // A sample that deflates far past the reader's ratio limit would make the
      // whole entry a "ZIP bomb" to a reader: store it instead.
      const ratio = sample.length / Math.max(1, deflateRawSync(sample, { level: 1 }).length);
      if (ratio > limits.maxCompressionRatio / 2) store = true;
    }
    files.push({ name, path, size, digest, sha256, store, mtime: st.mtime });
  }
  if (total > limits.maxTotalUncompressed) throw new XipError('ZIP_LIMIT', `${total} bytes exceed the limit of ${limits.maxTotalUncompressed} uncompressed bytes`);

  const source = options.source ?? (await readSourceFromXipJson(dir));
  const pkg: PackageInfo | null = source
    ? { version: '1', source, created: created.toISOString(), items }
    : null;
  const references: ManifestReference[] = files.map((f) => ({ name: f.name, mimeType: mediaTypeFor(f.name), digestAlgorithm: algorithm, digest: f.digest }));
  const manifest = writeManifest({ signatureName: SIGNATURE_NAME, references, package: pkg });
  const signature = await signManifest(manifest, {
    certificate: options.certificate,
    privateKey: options.privateKey,
    chain: options.chain ?? [],
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });

  // Pass 2: an entry whose deflated ratio exceeds the reader's limit after all
  // (the sample did not show it) is written again STORED, until the file passes.
  for (;;) {
    await writeArchive(temp, manifest, signature, files);
    const tooDense = await entryOverRatio(temp, limits);
    if (tooDense === null) break;
    const file = files.find((f) => f.name === tooDense && !f.store);
    if (!file) {
      await unlink(temp).catch(() => undefined);
      throw new XipError('ZIP_LIMIT', `entry "${tooDense}" exceeds the reader's limits even when stored`, { entry: tooDense });
    }
    file.store = true;
    await unlink(temp); // ours: written with O_EXCL just now
  }
  await place(temp, output, force);
  return { output, entries: files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, stored: f.store })), package: pkg, warnings };
}

/**
 * Gives the finished file its name. Without `force` by link(2), which fails
 * with EEXIST rather than replace what appeared there meanwhile; with it by
 * rename(2), after looking once more that only a regular file is replaced.
 */
async function place(temp: string, output: string, force: boolean): Promise<void> {
  try {
    if (force) {
      await checkOutput(output, true);
      await rename(temp, output);
      return;
    }
    try {
      await link(temp, output);
    } catch (e) {
      if (errnoOf(e) === 'EEXIST') throw new XipError('PACK_OUTPUT_EXISTS', `${output} appeared while the container was written`);
      throw new XipError('IO_ERROR', `cannot write ${output}: ${errnoOf(e) ?? (e as Error).message}`, { cause: e });
    }
    await unlink(temp);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

async function writeArchive(temp: string, manifest: Buffer, signature: Buffer, files: readonly SourceFile[]): Promise<void> {
  const zip = new yazl.ZipFile();
  const now = new Date();
  // §1: mimetype first, STORED, no extra field (forceDosTimestamp omits yazl's timestamp field).
  zip.addBuffer(Buffer.from(MIMETYPE, 'ascii'), 'mimetype', { compress: false, forceDosTimestamp: true, mtime: now });
  zip.addBuffer(manifest, MANIFEST_NAME, { compress: true, mtime: now });
  zip.addBuffer(signature, SIGNATURE_NAME, { compress: false, mtime: now });
  for (const f of files) {
    zip.addReadStreamLazy(f.name, { size: f.size, compress: !f.store, mtime: f.mtime }, (cb) => {
      const check = new DigestCheck(f);
      const source = createReadStream(f.path, { highWaterMark: 1024 * 1024 });
      source.on('error', (e) => check.destroy(e));
      cb(null, source.pipe(check));
    });
  }
  zip.end();
  // O_EXCL: a file (or a link planted) at the temporary name is not ours to
  // truncate or to remove.
  let fh;
  try {
    fh = await open(temp, 'wx', 0o644);
  } catch (e) {
    throw new XipError('IO_ERROR', `cannot create ${temp}: ${errnoOf(e) ?? (e as Error).message}`, { cause: e });
  }
  try {
    // The stream closes the handle when it ends or fails.
    await pipeline(zip.outputStream.pipe(new PassThrough({ highWaterMark: 1024 * 1024 })), fh.createWriteStream());
    const written = await open(temp, 'r+');
    try {
      await written.sync();
    } finally {
      await written.close();
    }
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    if (e instanceof XipError) throw e;
    throw new XipError('IO_ERROR', `cannot write ${temp}: ${errnoOf(e) ?? (e as Error).message}`, { cause: e });
  }
}

/** The entry the reader's ratio limit refuses in the file just written, or null when the file passes step 1. */
async function entryOverRatio(path: string, limits: ZipLimits): Promise<string | null> {
  const fh = await open(path, 'r');
  try {
    await openZip(fh, limits);
    return null;
  } catch (e) {
    if (e instanceof XipError && e.code === 'ZIP_LIMIT' && e.entry !== undefined) return e.entry;
    await unlink(path).catch(() => undefined);
    throw e;
  } finally {
    await fh.close();
  }
}
