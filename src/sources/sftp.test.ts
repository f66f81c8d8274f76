// The SFTP source against a real OpenSSH server (test/support/sshd.ts):
// listing and fetching with a password or a key, the pinned host key checked
// before any login, each failure's code, and transfers that break off.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, symlink, truncate, appendFile, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isXipError, type XipError } from '../errors.js';
import type { ConnectorSource } from '../ports/container-source.js';
import { freePort } from '../../test/support/server-process.js';
import { startSshd, type Sshd } from '../../test/support/sshd.js';
import { hostKeyFingerprint, sftpSource, type SftpSourceOptions } from './sftp.js';

const execFileP = promisify(execFile);
// A transfer that is never failed would hang its test forever: fail it instead.
const LIMIT = { timeout: 60_000 };

let sshd: Sshd;
const opened: ConnectorSource[] = [];

before(async () => {
  sshd = await startSshd();
});

after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await sshd?.stop();
});

/** A folder of its own under the server's root for each test. */
async function folder(name: string): Promise<string> {
  const path = join(sshd.root, name);
  await mkdir(path, { recursive: true, mode: 0o755 });
  return path;
}

function source(options: Partial<SftpSourceOptions>): ConnectorSource {
  const s = sftpSource({
    host: sshd.host,
    port: sshd.port,
    username: sshd.user,
    password: sshd.password,
    path: sshd.root,
    hostKey: sshd.hostKeyFingerprint,
    timeoutMs: 10_000,
    ...options,
  });
  opened.push(s);
  return s;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Awaits a rejection that is an XipError with exactly `code`, and returns it. */
async function failsWith(p: Promise<unknown>, code: string): Promise<XipError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(isXipError(caught), `an XipError, not ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** What sshd logged from here on. */
function logFrom(): () => string {
  const start = sshd.log().length;
  return () => sshd.log().slice(start);
}

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('SFTP source against OpenSSH', () => {
  it('lists the *.xip regular files of the folder, sorted by name, and fetches their bytes over one password login', LIMIT, async () => {
    const dir = await folder('listing');
    const files = { 'b.xip': randomBytes(70_000), 'a.XIP': randomBytes(1), 'C.xip': Buffer.alloc(0) };
    for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
    await utimes(join(dir, 'b.xip'), new Date('2024-05-06T07:08:09Z'), new Date('2024-05-06T07:08:09Z'));
    await writeFile(join(dir, 'notes.txt'), 'not a container');
    await writeFile(join(dir, 'b.xip.part'), 'still being written');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'deeper.xip'), 'in a sub-folder');
    await mkdir(join(dir, 'folder.xip'));
    await symlink(join(dir, 'b.xip'), join(dir, 'link.xip'));

    const log = logFrom();
    const src = source({ path: dir });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(count(log(), /Connection from/), 0, 'nothing connects before the first list()');
    assert.equal(src.description, `sftp://${sshd.user}@127.0.0.1:${sshd.port}${dir}`);

    const listed = await src.list();
    // By code unit: 'C' (0x43) before 'a' (0x61); a locale order would put C last.
    assert.deepEqual(listed.map((f) => f.name), ['C.xip', 'a.XIP', 'b.xip']);
    assert.deepEqual(listed.map((f) => f.size), [0, 1, 70_000]);
    assert.equal(listed[2]!.modified.toISOString(), '2024-05-06T07:08:09.000Z');
    for (const file of listed) {
      assert.ok(file.modified instanceof Date);
      assert.deepEqual(await readAll(await src.open(file)), files[file.name as keyof typeof files]);
    }
    assert.equal((await src.list()).length, 3);
    assert.equal(count(log(), /Accepted password for xip-sftp/), 1, 'one login serves the listings and downloads');
    await src.close();
    await src.close(); // idempotent
    await assert.rejects(src.list(), /closed/);
  });

  it('logs in with a private key, also an encrypted one with its passphrase', LIMIT, async () => {
    const dir = await folder('key-login');
    await writeFile(join(dir, 'k.xip'), 'key');
    const log = logFrom();
    const listed = await source({ path: dir, password: undefined, privateKey: sshd.privateKeyPem }).list();
    assert.deepEqual(listed.map((f) => f.name), ['k.xip']);
    assert.equal(count(log(), /Accepted publickey for xip-sftp/), 1);

    const encrypted = join(sshd.dir, 'client-encrypted');
    await writeFile(encrypted, sshd.privateKeyPem, { mode: 0o600 });
    await execFileP('ssh-keygen', ['-q', '-p', '-f', encrypted, '-P', '', '-N', 'correct horse']);
    const encryptedPem = await readFile(encrypted, 'utf8');
    const withPassphrase = source({ path: dir, password: undefined, privateKey: encryptedPem, passphrase: 'correct horse' });
    assert.equal((await readAll(await withPassphrase.open(listed[0]!))).toString(), 'key');

    const wrong = await failsWith(source({ path: dir, password: undefined, privateKey: encryptedPem, passphrase: 'wrong battery' }).list(), 'SOURCE_AUTH_FAILED');
    assert.doesNotMatch(wrong.explanation, /wrong battery|PRIVATE KEY/);
  });

  it('refuses a server whose host key is not the pinned one before any login (SOURCE_HOST_KEY_MISMATCH)', LIMIT, async () => {
    // The exported fingerprint is ssh-keygen's: computed from the public key file.
    const pub = (await readFile(join(sshd.dir, 'host_ed25519.pub'), 'utf8')).split(' ')[1]!;
    assert.equal(hostKeyFingerprint(Buffer.from(pub, 'base64')), sshd.hostKeyFingerprint);

    const other = hostKeyFingerprint(randomBytes(51));
    const log = logFrom();
    // A wrong password too: had a login been tried, it would fail as SOURCE_AUTH_FAILED.
    const e = await failsWith(source({ hostKey: other, password: 'a-wrong-password' }).list(), 'SOURCE_HOST_KEY_MISMATCH');
    assert.ok(e.message.includes(sshd.hostKeyFingerprint), e.message);
    assert.ok(e.message.includes(other), e.message);
    assert.doesNotMatch(e.explanation, /a-wrong-password/);
    // And the right password: still refused, and it never reached the server.
    await failsWith(source({ hostKey: other }).list(), 'SOURCE_HOST_KEY_MISMATCH');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(count(log(), /Connection from/), 2, log());
    assert.equal(count(log(), /xip-sftp|Failed|Accepted|[Pp]assword/), 0, `sshd saw a login attempt:\n${log()}`);
    // The pin is compared as ssh-keygen prints it, padding or not.
    assert.ok(Array.isArray(await source({ hostKey: `${sshd.hostKeyFingerprint}=` }).list()));
  });

  it('refuses a pin that is not a SHA256 fingerprint at once (CONFIG_INVALID)', LIMIT, () => {
    assert.throws(() => sftpSource({ host: '127.0.0.1', port: 22, username: 'u', path: '/', hostKey: 'MD5:00:11' }), (e: unknown) => isXipError(e) && e.code === 'CONFIG_INVALID');
  });

  it('reports a refused password as SOURCE_AUTH_FAILED, without the password', LIMIT, async () => {
    const log = logFrom();
    const e = await failsWith(source({ password: 'not-the-password' }).list(), 'SOURCE_AUTH_FAILED');
    assert.doesNotMatch(e.explanation, /not-the-password/);
    assert.match(log(), /Failed password for xip-sftp/);
    // A key the server does not know.
    const { stdout } = await execFileP('sh', ['-c', `d=$(mktemp -d) && ssh-keygen -q -t ed25519 -N '' -f "$d/k" && cat "$d/k" && rm -r "$d"`]);
    await failsWith(source({ password: undefined, privateKey: stdout }).list(), 'SOURCE_AUTH_FAILED');
  });

  it('reports a closed port, a silent server and an unknown name as SOURCE_UNREACHABLE', LIMIT, async () => {
    await failsWith(source({ port: await freePort() }).list(), 'SOURCE_UNREACHABLE');
    await failsWith(source({ host: 'no-such-host.invalid', timeoutMs: 5000 }).list(), 'SOURCE_UNREACHABLE');

    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const started = Date.now();
      const e = await failsWith(source({ port: (silent.address() as { port: number }).port, timeoutMs: 300 }).open({ name: 'x.xip', size: 1, modified: new Date() }), 'SOURCE_UNREACHABLE');
      assert.match(e.message, /[Tt]imed out/);
      assert.ok(Date.now() - started < 5000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('reports a missing folder, or a file in place of the folder, as SOURCE_NOT_FOUND', LIMIT, async () => {
    const dir = await folder('not-found');
    await writeFile(join(dir, 'plain.xip'), 'x');
    const src = source({ path: join(dir, 'missing') });
    const e = await failsWith(src.list(), 'SOURCE_NOT_FOUND');
    assert.match(e.message, /does not exist/);
    await failsWith(source({ path: join(dir, 'plain.xip') }).list(), 'SOURCE_NOT_FOUND');
    // The failed listing did not spoil the session for the next one.
    assert.equal((await source({ path: dir }).list()).length, 1);
  });

  it('fails a download with SOURCE_READ_FAILED when the file was removed, shortened or grew since the listing', LIMIT, async () => {
    const dir = await folder('changed');
    const data = randomBytes(300_000);
    for (const name of ['short.xip', 'long.xip', 'gone.xip']) await writeFile(join(dir, name), data);
    const src = source({ path: dir });
    const [gone, long, short] = await src.list();
    await truncate(join(dir, 'short.xip'), 1000);
    await appendFile(join(dir, 'long.xip'), 'more');
    await writeFile(join(dir, 'gone.xip'), '');
    await execFileP('rm', [join(dir, 'gone.xip')]);

    const cut = await failsWith(readAll(await src.open(short!)), 'SOURCE_READ_FAILED');
    assert.match(cut.message, /after 1000 of 300000 bytes/);
    await failsWith(readAll(await src.open(long!)), 'SOURCE_READ_FAILED');
    await failsWith(src.open(gone!), 'SOURCE_READ_FAILED');
  });

  it('fails a download cut off by the server with SOURCE_READ_FAILED, then fetches it whole again', LIMIT, async () => {
    const dir = await folder('cut');
    const size = 64 * 1024 * 1024;
    const data = randomBytes(size);
    await writeFile(join(dir, 'large.xip'), data);
    const src = source({ path: dir });
    const [file] = await src.list();
    assert.equal(file?.size, size);

    const stream = await src.open(file);
    let received = 0;
    let killed = 0;
    const e = await failsWith(
      (async () => {
        for await (const chunk of stream) {
          received += (chunk as Buffer).length;
          // While this loop waits, the stream stops asking for more: the cut
          // falls in the middle of the file.
          if (received >= 8 * 1024 * 1024 && killed === 0) killed = await sshd.killSessions();
        }
      })(),
      'SOURCE_READ_FAILED',
    );
    assert.ok(killed > 0, 'the session processes were killed');
    assert.ok(received > 0 && received < size, `cut mid-transfer: ${received} of ${size} bytes`);
    assert.match(e.message, /of 67108864 bytes/);

    // The same source opens a new session; a fresh one fetches the whole file.
    assert.equal((await src.list()).length, 1);
    const again = await readAll(await source({ path: dir }).open(file));
    assert.equal(again.length, size);
    assert.equal(sha256(again), sha256(data));
  });
});
