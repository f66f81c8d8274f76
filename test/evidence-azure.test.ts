// The evidence store in Azure Blob Storage, through the installed command:
// with XIP_EVIDENCE_URL pointing at a container of the real Azurite emulator,
// `xip connector run` keeps the fetched container there (not under XIP_HOME),
// and `xip evidence list`, `show` and `export` read it from there; a blob
// altered in the container is reported by `show`; a URL without a credential
// is refused before the run starts.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { startRealAzurite, type RealAzurite } from './support/azurite.js';
import { runXip } from './support/cli.js';

const ANA = 'ana@corp.example';
const BO = 'bo@corp.example';
const chat = (id: string) => ({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: ANA }, participants: [{ email: BO, role: 'to' }], body: { text: `text of ${id}` } });
const LIMIT = { timeout: 120_000 };

let dir: string;
let azurite: RealAzurite;
let container: ContainerClient;
let file: string;

before(async () => {
  dir = await tempDir('xip-evidence-azure-');
  azurite = await startRealAzurite();
  container = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('evidence');
  await container.create();
  file = await buildContainer(join(dir, 'day-1.bin'), { data: { 'items/1.ndjson': `${JSON.stringify(chat('a'))}\n${JSON.stringify(chat('b'))}\n` } });
});
after(async () => {
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function blobNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  return names.sort();
}

describe('xip with XIP_EVIDENCE_URL on Azurite', () => {
  it('connector run stores the fetched container in the container; evidence list, show and export read it from there', LIMIT, async () => {
    const home = join(dir, 'var');
    const drop = join(dir, 'drop');
    const mail = join(dir, 'mail');
    await mkdir(drop);
    await copyFile(file, join(drop, 'day-1.xip'));
    const trust = join(dir, 'ca.pem');
    await writeFile(trust, testIdentity().issued.caCertificatePem);
    const users = join(dir, 'users.csv');
    await writeFile(users, `email,name,aliases,litigationHold\n${ANA},Ana,,true\n${BO},Bo,,true\n`);
    const env = { XIP_HOME: home, XIP_SECRET_KEY: '', XIP_EVIDENCE_URL: `${azurite.blobUrl}/evidence/site-a`, XIP_EVIDENCE_ACCOUNT_KEY: azurite.accountKey };
    const xip = (args: string[], extra: NodeJS.ProcessEnv = {}) => runXip(args, { cwd: dir, env: { ...env, ...extra } });

    const add = await xip(['connector', 'add', 'chat', '--source', drop, '--trust', trust, '--directory', users, '--to', `maildir:${mail}`, '--settle-seconds', '0']);
    assert.equal(add.code, 0, add.stderr);

    // Without a credential the run is refused before it starts, naming the variables.
    const refused = await xip(['connector', 'run', 'chat'], { XIP_EVIDENCE_ACCOUNT_KEY: '' });
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /^USAGE: .*XIP_EVIDENCE_ACCOUNT_KEY .*XIP_EVIDENCE_SAS/m);
    assert.deepEqual(await blobNames(), []);

    const run = await xip(['connector', 'run', 'chat', '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal((JSON.parse(run.stdout) as { imported: number }).imported, 4, 'two items, each to Ana and Bo');

    const bytes = await readFile(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    assert.deepEqual(await blobNames(), [`site-a/sha256/${sha256.slice(0, 2)}/${sha256}`], 'the container as received, and no tmp/ blob left');
    assert.ok((await container.getBlobClient(`site-a/sha256/${sha256.slice(0, 2)}/${sha256}`).downloadToBuffer()).equals(bytes));
    assert.deepEqual(await readdir(join(home, 'evidence')).catch(() => []), [], 'nothing stored under XIP_HOME/evidence');

    const list = await xip(['evidence', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { files: { sha256: string; size: number }[] }).files.map((f) => [f.sha256, f.size]), [[sha256, bytes.length]]);

    const show = await xip(['evidence', 'show', sha256, '--json']);
    assert.equal(show.code, 0, show.stderr);
    assert.equal((JSON.parse(show.stdout) as { intact: boolean }).intact, true);

    const out = join(dir, 'exported.xip');
    const exported = await xip(['evidence', 'export', sha256, '-o', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok((await readFile(out)).equals(bytes));

    // Altered in the container behind the store: show reads the blob, not a local copy.
    await container.getBlockBlobClient(`site-a/sha256/${sha256.slice(0, 2)}/${sha256}`).uploadData(Buffer.from('altered'));
    const altered = await xip(['evidence', 'show', sha256]);
    assert.notEqual(altered.code, 0);
    assert.match(altered.stderr, /^EVIDENCE_CORRUPT: /m);
  });
});
