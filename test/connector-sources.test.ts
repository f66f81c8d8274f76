// Connectors over real remote sources, through the installed command:
// Debian's OpenSSH server (SFTP; password and key logins, a wrong host key
// refused, the server's sessions killed mid-download and the next run
// resuming) and the Azurite emulator (Azure Blob; account key and SAS).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { startRealAzurite, type RealAzurite } from './support/azurite.js';
import { runXip, XIP_BIN, type CliResult } from './support/cli.js';
import { startSshd, type Sshd } from './support/sshd.js';

const ANA = 'ana@corp.example';
const BO = 'bo@corp.example';
const chat = (id: string) => ({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: ANA }, participants: [{ email: BO, role: 'to' }], body: { text: `text of ${id}` } });
const ndjson = (ids: readonly string[]) => ids.map((i) => JSON.stringify(chat(i))).join('\n') + '\n';
const LIMIT = { timeout: 180_000 };

let dir: string;
let trust: string;
let users: string;
let small: string;
let big: string;
before(async () => {
  dir = await tempDir('xip-connector-sources-');
  trust = join(dir, 'ca.pem');
  await writeFile(trust, testIdentity().issued.caCertificatePem);
  users = join(dir, 'users.csv');
  await writeFile(users, `email,name,aliases,litigationHold\n${ANA},Ana,,true\n${BO},Bo,,true\n`);
  small = await buildContainer(join(dir, 'small.bin'), { data: { 'items/s.ndjson': ndjson(['s1', 's2']) } });
  // 64 MiB of random bytes beside the items: long enough on the wire to be cut in the middle.
  big = await buildContainer(join(dir, 'big.bin'), { data: { 'items/b.ndjson': ndjson(['b1', 'b2', 'b3']), 'attachments/blob.bin': randomBytes(64 * 1024 * 1024) } });
});
after(async () => rm(dir, { recursive: true, force: true }));

function installation(name: string) {
  const root = join(dir, name);
  const env = { XIP_HOME: join(root, 'var') };
  const xip = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> => runXip(args, { cwd: dir, env: { ...env, ...extra } });
  return { root, env, xip, mail: join(root, 'mail') };
}

const count = async (path: string) => (await readdir(path).catch(() => [] as string[])).length;

describe('a connector over SFTP (OpenSSH)', () => {
  let sshd: Sshd;
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => sshd?.stop());

  it('runs with a password, refuses a changed host key, and resumes after the server cut a download', LIMIT, async () => {
    const remote = join(sshd.root, 'exports');
    await mkdir(remote, { mode: 0o755 });
    await copyFile(small, join(remote, 'a-small.xip'));
    await copyFile(big, join(remote, 'b-big.xip'));
    const { root, env, xip, mail } = installation('sftp');
    const source = `sftp://${sshd.user}@127.0.0.1:${sshd.port}${remote}`;
    const add = await xip(['connector', 'add', 'social', '--source', source, '--host-key', sshd.hostKeyFingerprint, '--trust', trust, '--directory', users, '--to', `maildir:${mail}`, '--settle-seconds', '0'], { XIP_SFTP_PASSWORD: sshd.password });
    assert.equal(add.code, 0, add.stderr);
    assert.ok(!(await xip(['connector', 'show', 'social'])).stdout.includes(sshd.password), 'the password is never shown');

    // Run, and kill the server's sessions once the big file is part-way into the evidence store.
    const run = spawn(process.execPath, [XIP_BIN, 'connector', 'run', 'social', '--json'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const tmp = join(root, 'var', 'evidence', 'tmp');
    let cutAt = -1;
    const deadline = Date.now() + 60_000;
    while (cutAt < 0 && Date.now() < deadline && run.exitCode === null) {
      for (const f of await readdir(tmp).catch(() => [] as string[])) {
        const size = (await stat(join(tmp, f)).catch(() => ({ size: 0 }))).size;
        if (size > 4 * 1024 * 1024 && size < 60 * 1024 * 1024) {
          cutAt = size;
          await sshd.killSessions();
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const code = await new Promise<number | null>((r) => (run.exitCode !== null ? r(run.exitCode) : run.once('exit', (c) => r(c))));
    assert.ok(cutAt > 0, 'the transfer was cut part-way');
    assert.equal(code, 1, out);
    const cut = JSON.parse(out) as { imported: number; containers: { file: string; ok: boolean; code: string | null }[] };
    assert.deepEqual(cut.containers.map((c) => [c.file, c.ok, c.code]), [['a-small.xip', true, null], ['b-big.xip', false, 'SOURCE_READ_FAILED']]);
    assert.equal(cut.imported, 4);
    assert.deepEqual(await readdir(tmp), [], 'no partial file is left in the evidence store');

    const resumed = await xip(['connector', 'run', 'social', '--json']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const log = JSON.parse(resumed.stdout) as { imported: number; containers: { file: string; ok: boolean }[] };
    assert.deepEqual(log.containers.map((c) => [c.file, c.ok]), [['b-big.xip', true]], 'only the file that broke off is fetched again');
    assert.equal(log.imported, 6);
    assert.equal(await count(join(mail, BO, '.INBOX.XIP', 'cur')), 5);

    const wrongKey = `SHA256:${'A'.repeat(43)}`;
    assert.equal((await xip(['connector', 'edit', 'social', '--host-key', wrongKey])).code, 0);
    const refused = await xip(['connector', 'run', 'social']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^SOURCE_HOST_KEY_MISMATCH: /m);
    const runs = JSON.parse((await xip(['connector', 'runs', 'social', '--json'])).stdout) as { runs: { status: string }[] };
    assert.equal(runs.runs[0]!.status, 'failed (SOURCE_HOST_KEY_MISMATCH)', 'recorded, to be tried again at the next schedule');
  });

  it('runs with a private key', LIMIT, async () => {
    const remote = join(sshd.root, 'keyed');
    await mkdir(remote, { mode: 0o755 });
    await copyFile(small, join(remote, 'day.xip'));
    const { xip, mail } = installation('sftp-key');
    const keyFile = join(dir, 'id_ed25519');
    await writeFile(keyFile, sshd.privateKeyPem, { mode: 0o600 });
    const add = await xip(['connector', 'add', 'keyed', '--source', `sftp://${sshd.user}@127.0.0.1:${sshd.port}${remote}`, '--sftp-key', keyFile, '--host-key', sshd.hostKeyFingerprint, '--trust', trust, '--directory', users, '--to', `maildir:${mail}`, '--settle-seconds', '0']);
    assert.equal(add.code, 0, add.stderr);
    const run = await xip(['connector', 'run', 'keyed', '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal((JSON.parse(run.stdout) as { imported: number }).imported, 4);
  });

  it('an unreachable server fails the run with SOURCE_UNREACHABLE', LIMIT, async () => {
    const { xip, mail } = installation('sftp-down');
    const add = await xip(['connector', 'add', 'down', '--source', `sftp://${sshd.user}@127.0.0.1:1/x`, '--host-key', sshd.hostKeyFingerprint, '--trust', trust, '--directory', users, '--to', `maildir:${mail}`], { XIP_SFTP_PASSWORD: 'x' });
    assert.equal(add.code, 0, add.stderr);
    const run = await xip(['connector', 'run', 'down']);
    assert.match(run.stderr, /^SOURCE_UNREACHABLE: /m);
    assert.equal(run.code, 2);
  });
});

describe('a connector over Azure Blob (Azurite)', () => {
  let azurite: RealAzurite;
  before(async () => {
    azurite = await startRealAzurite();
    const service = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
    const container = service.getContainerClient('exports');
    await container.create();
    await container.getBlockBlobClient('collab/day-1.xip').uploadData(await readFile(small));
    await container.getBlockBlobClient('collab/older/day-0.xip').uploadData(await readFile(small));
  });
  after(async () => azurite?.stop());

  it('runs with the account key and with a SAS; a wrong key is SOURCE_AUTH_FAILED', LIMIT, async () => {
    const url = `${azurite.blobUrl}/exports/collab`;
    for (const [name, secret] of [
      ['by-key', { XIP_AZURE_KEY: azurite.accountKey }],
      [
        'by-sas',
        {
          XIP_AZURE_SAS: generateBlobSASQueryParameters(
            { containerName: 'exports', permissions: ContainerSASPermissions.parse('rl'), startsOn: new Date(Date.now() - 60_000), expiresOn: new Date(Date.now() + 3_600_000) },
            new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
          ).toString(),
        },
      ],
    ] as const) {
      const { xip, mail } = installation(`azure-${name}`);
      const add = await xip(['connector', 'add', 'collab', '--source', url, '--trust', trust, '--directory', users, '--to', `maildir:${mail}`, '--settle-seconds', '0'], secret);
      assert.equal(add.code, 0, add.stderr);
      const run = await xip(['connector', 'run', 'collab', '--json']);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const log = JSON.parse(run.stdout) as { imported: number; containers: { file: string }[] };
      assert.deepEqual(log.containers.map((c) => c.file), ['day-1.xip'], 'blobs under the prefix, not its sub-folders');
      assert.equal(log.imported, 4);
      const shown = (await xip(['connector', 'show', 'collab'])).stdout;
      assert.ok(!shown.includes(Object.values(secret)[0]!), 'the secret is never shown');
    }
    const { xip, mail } = installation('azure-wrong');
    const wrong = randomBytes(64).toString('base64');
    assert.equal((await xip(['connector', 'add', 'collab', '--source', url, '--trust', trust, '--directory', users, '--to', `maildir:${mail}`], { XIP_AZURE_KEY: wrong })).code, 0);
    const refused = await xip(['connector', 'run', 'collab']);
    assert.match(refused.stderr, /^SOURCE_AUTH_FAILED: /m);
    assert.ok(!refused.stderr.includes(wrong));
  });
});
