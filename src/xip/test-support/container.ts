// Builds XIP containers for tests, correct or broken in one chosen way after
// signing, so that each verification step can be shown to catch its fault.
import { entryKind } from '../../items/read.js';
import { createHash, type KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { loadPrivateKey, parseCertificates, signManifest, type X509 } from '../cms/index.js';
import { issueSigningIdentity, type IssuedIdentity } from '../keys.js';
import { MIMETYPE } from '../layout.js';
import { writeManifest, type PackageInfo } from '../manifest.js';
import { NdjsonLineCounter } from '../pack.js';

export interface TestIdentity {
  readonly issued: IssuedIdentity;
  readonly certificate: X509;
  readonly privateKey: KeyObject;
  /** The CA: what a verifier trusts. */
  readonly trust: readonly X509[];
}

const identities = new Map<string, TestIdentity>();

export function testIdentity(label = 'default', options: { notBefore?: Date; days?: number; signerUsage?: 'signature' | 'encipherment' } = {}): TestIdentity {
  const key = `${label}:${options.notBefore?.toISOString() ?? ''}:${options.days ?? ''}:${options.signerUsage ?? ''}`;
  let id = identities.get(key);
  if (!id) {
    const issued = issueSigningIdentity({ caName: `Test CA ${label}`, signerName: `Test signer ${label}`, organization: 'xip tests', ...options });
    id = {
      issued,
      certificate: parseCertificates(Buffer.from(issued.certificatePem), 'signer')[0]!,
      privateKey: loadPrivateKey(Buffer.from(issued.privateKeyPem), 'key'),
      trust: parseCertificates(Buffer.from(issued.caCertificatePem), 'ca'),
    };
    identities.set(key, id);
  }
  return id;
}

export interface RawEntry {
  readonly name: string;
  readonly data: Buffer | string;
  readonly compress?: boolean;
}

export interface ContainerSpec {
  /** Data entries, signed and written in this order. */
  readonly data: Readonly<Record<string, Buffer | string>>;
  readonly identity?: TestIdentity;
  readonly package?: PackageInfo | null;
  /** null leaves mimetype out; a string replaces its content. */
  readonly mimetype?: string | null;
  readonly mimetypeLast?: boolean;
  readonly manifestName?: string | null;
  readonly signatureName?: string | null;
  /** The name the manifest's SigReference gives (default: signatureName). */
  readonly sigReference?: string;
  /** Entries written but left out of the manifest. */
  readonly unsigned?: Readonly<Record<string, Buffer | string>>;
  /** Entries listed in the manifest but not written. */
  readonly listedOnly?: Readonly<Record<string, Buffer | string>>;
  /** Changes after signing. */
  readonly alterManifest?: (xml: string) => string;
  readonly alterData?: Readonly<Record<string, Buffer | string>>;
  readonly signature?: Buffer;
  /** Extra raw entries (e.g. other META-INF files). */
  readonly extra?: readonly RawEntry[];
  readonly digestAlgorithm?: 'sha256' | 'sha512';
}

export async function tempDir(prefix = 'xip-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The items the data entries hold, counted as `xip pack` counts them: what a source declares. */
function countItems(data: Readonly<Record<string, Buffer | string>>): number {
  let items = 0;
  for (const [name, content] of Object.entries(data)) {
    const kind = entryKind(name);
    if (kind === 'json' || kind === 'eml') items++;
    else if (kind === 'ndjson') {
      const counter = new NdjsonLineCounter(); // as pack counts: what items/read.ts reads as items
      counter.update(Buffer.from(content));
      items += counter.finish();
    }
  }
  return items;
}

export async function buildContainer(path: string, spec: ContainerSpec): Promise<string> {
  const identity = spec.identity ?? testIdentity();
  const algorithm = spec.digestAlgorithm ?? 'sha256';
  const signatureName = spec.signatureName === undefined ? 'META-INF/signature.p7s' : spec.signatureName;
  const manifestName = spec.manifestName === undefined ? 'META-INF/ASiCManifest.xml' : spec.manifestName;
  const listed = { ...spec.data, ...(spec.listedOnly ?? {}) };
  const manifest = writeManifest({
    signatureName: spec.sigReference ?? signatureName ?? 'META-INF/signature.p7s',
    references: Object.entries(listed).map(([name, data]) => ({
      name,
      mimeType: 'application/octet-stream',
      digestAlgorithm: algorithm,
      digest: createHash(algorithm).update(data).digest(),
    })),
    package: spec.package === undefined ? { version: '1', source: 'test', created: '2026-11-22T00:00:00Z', items: countItems(spec.data) } : spec.package,
  });
  const signature = spec.signature ?? (await signManifest(manifest, { certificate: identity.certificate, privateKey: identity.privateKey }));
  const finalManifest = spec.alterManifest ? Buffer.from(spec.alterManifest(manifest.toString('utf8'))) : manifest;

  const zip = new yazl.ZipFile();
  const mtime = new Date('2026-11-22T12:00:00Z');
  const addMimetype = () => {
    if (spec.mimetype !== null) zip.addBuffer(Buffer.from(spec.mimetype ?? MIMETYPE), 'mimetype', { compress: false, forceDosTimestamp: true, mtime });
  };
  if (!spec.mimetypeLast) addMimetype();
  if (manifestName !== null) zip.addBuffer(finalManifest, manifestName, { mtime });
  if (signatureName !== null) zip.addBuffer(signature, signatureName, { compress: false, mtime });
  for (const e of spec.extra ?? []) zip.addBuffer(Buffer.from(e.data), e.name, { compress: e.compress ?? true, mtime });
  for (const [name, data] of Object.entries(spec.data)) {
    zip.addBuffer(Buffer.from(spec.alterData?.[name] ?? data), name, { mtime });
  }
  for (const [name, data] of Object.entries(spec.unsigned ?? {})) zip.addBuffer(Buffer.from(data), name, { mtime });
  if (spec.mimetypeLast) addMimetype();
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
  return path;
}
