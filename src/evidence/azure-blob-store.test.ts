// The evidence store on Azure Blob Storage, against the real Azurite emulator
// (test/support/azurite.ts): the EvidenceStore contract (with the account key,
// in a container and under a prefix), two workers storing the same bytes at
// once, a SAS with the documented permissions, memory that does not grow with
// the file, the errors (never quoting the key or the SAS), and
// evidenceStoreFor's reading of XIP_EVIDENCE_*.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { startRealAzurite, type RealAzurite } from '../../test/support/azurite.js';
import { freePort } from '../../test/support/server-process.js';
import { XipError, type ErrorCode } from '../errors.js';
import { evidenceStoreFor } from '../home/evidence.js';
import { parseAzureUrl, type AzureCredential } from '../sources/azure-blob.js';
import { azureEvidenceStore } from './azure-blob-store.js';
import { chunked, evidenceStoreContract, listAll, readAll, sha, type StoreUnderTest } from './test-support/contract.js';

let azurite: RealAzurite;
let service: BlobServiceClient;
let n = 0;

before(async () => {
  azurite = await startRealAzurite();
  service = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
});
after(async () => azurite?.stop());

/** A new container (and, every other time, a prefix in it), as the URL an operator would give. */
async function newContainer(): Promise<{ container: ContainerClient; url: string; prefix: string }> {
  n += 1;
  const container = service.getContainerClient(`evidence-${n}`);
  await container.create();
  const prefix = n % 2 === 0 ? 'site-a/evidence/' : '';
  return { container, prefix, url: `${azurite.blobUrl}/evidence-${n}${prefix === '' ? '' : `/${prefix}`}` };
}

const key = (): AzureCredential => ({ kind: 'key', accountKey: azurite.accountKey });

function sasFor(container: ContainerClient, permissions: string, accountKey = azurite.accountKey): string {
  return generateBlobSASQueryParameters(
    { containerName: container.containerName, permissions: ContainerSASPermissions.parse(permissions), expiresOn: new Date(Date.now() + 3600_000) },
    new StorageSharedKeyCredential(azurite.accountName, accountKey),
  ).toString();
}

async function names(container: ContainerClient, prefix: string): Promise<string[]> {
  const out: string[] = [];
  // Blocks staged but never committed count too: they are a leftover.
  for await (const blob of container.listBlobsFlat({ prefix, includeUncommitedBlobs: true })) out.push(blob.name);
  return out.sort();
}

async function storeUnderTest(): Promise<StoreUnderTest & { container: ContainerClient; prefix: string }> {
  const { container, url, prefix } = await newContainer();
  const blobOf = (sha256: string) => container.getBlockBlobClient(`${prefix}sha256/${sha256.slice(0, 2)}/${sha256}`);
  return {
    container,
    prefix,
    store: azureEvidenceStore(parseAzureUrl(url), key()),
    backdate: async (sha256, when) => {
      await blobOf(sha256).setMetadata({ storedat: when.toISOString() });
    },
    tamper: async (sha256, bytes) => {
      const blob = blobOf(sha256);
      const { metadata } = await blob.getProperties();
      await blob.upload(bytes, bytes.length, { metadata: metadata ?? {} });
    },
    stray: async (sha256) => {
      await container.getBlockBlobClient(`${prefix}sha256/${sha256.slice(0, 2)}/stray.txt`).upload('x', 1);
      await container.getBlockBlobClient(`${prefix}sha256/${sha256.slice(2, 4)}/${sha256}`).upload('y', 1); // under the wrong fan-out
    },
    leftovers: () => names(container, `${prefix}tmp/`),
    storedNames: async (fanOut) => (await names(container, `${prefix}sha256/${fanOut}/`)).map((name) => name.slice(`${prefix}sha256/${fanOut}/`.length)),
  };
}

evidenceStoreContract({ name: 'Azure Blob Storage (Azurite), with the account key', fresh: storeUnderTest });

/** Awaits the rejection; checks its code and that neither message, explanation nor stack holds one of the secrets. */
async function rejectsWithout(promise: Promise<unknown>, code: ErrorCode, secrets: readonly string[]): Promise<XipError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    const text = `${e.message} ${e.explanation} ${e.stack ?? ''}`;
    for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked into: ${text}`);
    assert.ok(!/sig=(?!\[secret\])/i.test(text), `a SAS signature leaked into: ${text}`);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

describe('azureEvidenceStore on Azurite', () => {
  it('two workers (two store instances) put the same bytes at once: one created, one not, one blob under sha256/, no tmp blob', async () => {
    const t = await storeUnderTest();
    const url = `${azurite.blobUrl}/${t.container.containerName}${t.prefix === '' ? '' : `/${t.prefix}`}`;
    const workers = [azureEvidenceStore(parseAzureUrl(url), key()), azureEvidenceStore(parseAzureUrl(url), key())] as const;
    const bytes = randomBytes(3 * 1024 * 1024);
    const [a, b] = await Promise.all(workers.map((w) => w.put(chunked(bytes, 64 * 1024))));
    assert.deepEqual([a?.created, b?.created].sort(), [false, true]);
    assert.equal(a?.storedAt.getTime(), b?.storedAt.getTime());
    assert.deepEqual(await names(t.container, ''), [`${t.prefix}sha256/${sha(bytes).slice(0, 2)}/${sha(bytes)}`]);
  });

  it('stores the time in the metadata (storedat), and a file larger than one block whole', async () => {
    const t = await storeUnderTest();
    const bytes = randomBytes(20 * 1024 * 1024 + 5); // three blocks of 8 MiB, the last short
    const before = Date.now();
    const put = await t.store.put(chunked(bytes, 1024 * 1024));
    const props = await t.container.getBlobClient(`${t.prefix}sha256/${put.sha256.slice(0, 2)}/${put.sha256}`).getProperties();
    assert.equal(props.metadata?.storedat, put.storedAt.toISOString());
    assert.ok(put.storedAt.getTime() >= before && put.storedAt.getTime() <= Date.now());
    assert.equal(props.contentLength, bytes.length);
    assert.ok((await readAll(await t.store.open(put.sha256))).equals(bytes));
  });

  it('a stream that fails after several blocks leaves no blob at all (no committed or uncommitted tmp blob)', async () => {
    const t = await storeUnderTest();
    const broken = new Error('source cut');
    const source = Readable.from((async function* () {
      for (let i = 0; i < 3; i += 1) yield randomBytes(8 * 1024 * 1024);
      throw broken;
    })());
    await assert.rejects(t.store.put(source), (e) => e === broken);
    assert.deepEqual(await names(t.container, ''), []);
  });

  it('works with a SAS allowing read, add, create, write, delete and list (the documented permissions)', async () => {
    const { container, url } = await newContainer();
    const store = azureEvidenceStore(parseAzureUrl(url), { kind: 'sas', sas: sasFor(container, 'racwdl') });
    const bytes = Buffer.from('evidence stored with a SAS');
    const put = await store.put(chunked(bytes, 7));
    assert.equal(put.created, true);
    assert.equal((await store.put(chunked(bytes, 7))).created, false);
    assert.ok((await readAll(await store.open(put.sha256))).equals(bytes));
    assert.equal(await store.check(put.sha256), true);
    assert.deepEqual((await listAll(store.list())).map((f) => f.sha256), [put.sha256]);
    assert.deepEqual((await names(container, '')).filter((name) => name.includes('tmp/')), []);
  });

  it('never quotes the key or the SAS: a wrong key, a SAS signed with another key, a read-only SAS → IO_ERROR', async () => {
    const { container, url } = await newContainer();
    const location = parseAzureUrl(url);
    const wrongKey = randomBytes(64).toString('base64');
    const keyed = azureEvidenceStore(location, { kind: 'key', accountKey: wrongKey });
    const refused = await rejectsWithout(keyed.put(Readable.from([Buffer.from('x')])), 'IO_ERROR', [wrongKey]);
    assert.match(refused.message, /refused XIP_EVIDENCE_ACCOUNT_KEY/);
    await rejectsWithout(listAll(keyed.list()), 'IO_ERROR', [wrongKey]);
    await rejectsWithout(keyed.stat(sha('x')), 'IO_ERROR', [wrongKey]);

    const forged = sasFor(container, 'racwdl', wrongKey);
    const forgedSig = new URLSearchParams(forged).get('sig') ?? '';
    const bySas = azureEvidenceStore(location, { kind: 'sas', sas: forged });
    const e = await rejectsWithout(bySas.put(Readable.from([Buffer.from('x')])), 'IO_ERROR', [forged, forgedSig, encodeURIComponent(forgedSig)]);
    assert.match(e.message, /refused XIP_EVIDENCE_SAS/);

    const readOnly = sasFor(container, 'rl');
    const sig = new URLSearchParams(readOnly).get('sig') ?? '';
    await rejectsWithout(azureEvidenceStore(location, { kind: 'sas', sas: readOnly }).put(Readable.from([Buffer.from('x')])), 'IO_ERROR', [readOnly, sig, encodeURIComponent(sig)]);
  });

  it('a container that does not exist → IO_ERROR saying to create it', async () => {
    const store = azureEvidenceStore(parseAzureUrl(`${azurite.blobUrl}/no-such-container`), key());
    await rejectsWithout(store.put(Readable.from([Buffer.from('x')])), 'IO_ERROR', [azurite.accountKey]).then((e) => assert.match(e.message, /container does not exist/));
    await rejectsWithout(listAll(store.list()), 'IO_ERROR', [azurite.accountKey]);
  });

  it('a closed port → IO_ERROR within seconds', async () => {
    const port = await freePort();
    const store = azureEvidenceStore(parseAzureUrl(`http://127.0.0.1:${port}/${azurite.accountName}/evidence`), key(), { timeoutMs: 2000 });
    const started = Date.now();
    await rejectsWithout(store.stat(sha('x')), 'IO_ERROR', [azurite.accountKey]);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });

  it('a 50 MB put holds less than 40 MB of it at any time (the bytes are never held whole)', { timeout: 120_000 }, async () => {
    // The brief was the peak RSS under 64 MB, but the RSS follows the garbage
    // collector's pace: 39 MB growth for this store at 50 MB, 53 MB for a put
    // holding all 50 MB (under the bound: the test could not fail), 70 to 92
    // MB for this store at 160 MB. What the store keeps referenced is
    // measured instead (test-support/azure-put-child.ts): about three 8 MiB
    // blocks, against 50 MB for a put that held the whole file.
    const size = 50 * 1024 * 1024;
    const { url } = await newContainer();
    // In a process of its own: this one's heap holds what the other cases left.
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./test-support/azure-put-child.ts', import.meta.url)), url, String(size)], {
      env: { ...process.env, XIP_TEST_AZURE_KEY: azurite.accountKey },
      encoding: 'utf8',
      timeout: 110_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout) as { size: number; created: boolean; liveGrowthBytes: number; rssGrowthBytes: number };
    assert.deepEqual([result.size, result.created], [size, true]);
    assert.ok(result.liveGrowthBytes < 40 * 1024 * 1024, `the store held ${Math.round(result.liveGrowthBytes / 1024 / 1024)} MB at once`);
  });
});

describe('evidenceStoreFor (XIP_EVIDENCE_*)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xip-evidence-for-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const usage = (env: NodeJS.ProcessEnv, detail: RegExp) =>
    assert.throws(() => evidenceStoreFor({ evidence: join(dir, 'unused') }, env), (e: unknown) => {
      assert.ok(e instanceof XipError && e.code === 'USAGE', String(e));
      assert.match(e.message, detail);
      for (const secret of [env.XIP_EVIDENCE_ACCOUNT_KEY, env.XIP_EVIDENCE_SAS]) if (secret) assert.ok(!e.message.includes(secret), e.message);
      return true;
    });

  it('without XIP_EVIDENCE_URL: the file store under home.evidence', async () => {
    const evidence = join(dir, 'evidence');
    const put = await evidenceStoreFor({ evidence }, {}).put(Readable.from([Buffer.from('local')]));
    assert.deepEqual(await readdir(join(evidence, 'sha256', put.sha256.slice(0, 2))), [put.sha256]);
    assert.equal((await evidenceStoreFor({ evidence }, { XIP_EVIDENCE_URL: '' }).stat(put.sha256))?.size, 5);
  });

  it('with XIP_EVIDENCE_URL and a key or a SAS: the container', async () => {
    const { container, url, prefix } = await newContainer();
    const evidence = join(dir, 'not-used');
    const byKey = evidenceStoreFor({ evidence }, { XIP_EVIDENCE_URL: url, XIP_EVIDENCE_ACCOUNT_KEY: azurite.accountKey });
    const put = await byKey.put(Readable.from([Buffer.from('remote')]));
    assert.deepEqual(await names(container, `${prefix}sha256/`), [`${prefix}sha256/${put.sha256.slice(0, 2)}/${put.sha256}`]);
    const bySas = evidenceStoreFor({ evidence }, { XIP_EVIDENCE_URL: url, XIP_EVIDENCE_SAS: `?${sasFor(container, 'racwdl')}` });
    assert.equal(await bySas.check(put.sha256), true);
    await assert.rejects(readdir(evidence), { code: 'ENOENT' });
  });

  it('USAGE, naming the variables, for a missing or doubled credential and a URL that is not an Azure container', () => {
    const url = 'https://acme01.blob.core.windows.net/evidence';
    const sas = 'sv=2024-01-01&sp=racwdl&sig=c2VjcmV0c2lnbmF0dXJl';
    usage({ XIP_EVIDENCE_URL: url }, /exactly one of XIP_EVIDENCE_ACCOUNT_KEY .* or XIP_EVIDENCE_SAS/);
    usage({ XIP_EVIDENCE_URL: url, XIP_EVIDENCE_ACCOUNT_KEY: azurite.accountKey, XIP_EVIDENCE_SAS: sas }, /exactly one of .*not both/);
    usage({ XIP_EVIDENCE_URL: 'http://acme01.blob.core.windows.net/evidence', XIP_EVIDENCE_SAS: sas }, /XIP_EVIDENCE_URL: plain http:\/\/ is allowed only for the Azurite emulator on 127.0.0.1 or localhost/);
    usage({ XIP_EVIDENCE_URL: 'http://files.example.com/evidence', XIP_EVIDENCE_SAS: sas }, /plain http:\/\/ is allowed only/);
    usage({ XIP_EVIDENCE_URL: '/var/evidence', XIP_EVIDENCE_SAS: sas }, /XIP_EVIDENCE_URL must be an https:\/\/ Azure container URL/);
    usage({ XIP_EVIDENCE_URL: 'https://example.com/evidence', XIP_EVIDENCE_SAS: sas }, /^XIP_EVIDENCE_URL: "example.com" is not an Azure blob endpoint/);
    usage({ XIP_EVIDENCE_URL: 'https://acme01.blob.core.windows.net/', XIP_EVIDENCE_SAS: sas }, /^XIP_EVIDENCE_URL: the URL names no container/);
    usage({ XIP_EVIDENCE_URL: url, XIP_EVIDENCE_SAS: 'sv=2024-01-01&sp=racwdl' }, /^XIP_EVIDENCE_SAS: the SAS has no "sig=" parameter/);
    usage({ XIP_EVIDENCE_URL: url, XIP_EVIDENCE_ACCOUNT_KEY: 'not a key!' }, /^XIP_EVIDENCE_ACCOUNT_KEY: the account key must be/);
  });

  it('plain http:// on 127.0.0.1 or localhost (Azurite) is accepted', () => {
    for (const host of ['127.0.0.1:10000', 'localhost:10000']) {
      assert.ok(evidenceStoreFor({ evidence: dir }, { XIP_EVIDENCE_URL: `http://${host}/devstoreaccount1/evidence`, XIP_EVIDENCE_ACCOUNT_KEY: azurite.accountKey }));
    }
  });
});
