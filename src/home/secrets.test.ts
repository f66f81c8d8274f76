// Secrets at rest: they round-trip under the installation's key, the key file
// is private and made once (even by two processes at once), the forms of
// XIP_SECRET_KEY, and every failure is SECRET_KEY_INVALID without the key,
// the sealed value or the plaintext in its message.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { isSealed, openSecretBox } from './secrets.js';

let base: string;
let n = 0;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'xip-secrets-'));
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

function newHome(): string {
  n += 1;
  return join(base, `home-${n}`);
}

/** SECRET_KEY_INVALID whose message matches `detail` and holds none of `never`. */
function keyInvalid(detail: RegExp, never: string[] = []) {
  return (e: unknown) => {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    assert.equal(e.code, 'SECRET_KEY_INVALID', e.message);
    assert.match(e.detail ?? '', detail);
    for (const s of never) assert.ok(!e.message.includes(s) && !e.explanation.includes(s), 'the message shows a secret');
    return true;
  };
}

describe('openSecretBox', () => {
  it('seals and opens a secret; each seal differs and is a v1 value', async () => {
    const box = await openSecretBox(newHome(), {});
    const plain = 'p@ssw0rd — ünïcode ✓';
    const a = box.seal(plain);
    const b = box.seal(plain);
    assert.match(a, /^v1:[A-Za-z0-9_-]+$/);
    assert.notEqual(a, b);
    assert.ok(!a.includes(plain));
    assert.equal(box.open(a), plain);
    assert.equal(box.open(b), plain);
    assert.equal(box.open(box.seal('')), '');
    assert.ok(isSealed(a));
    assert.ok(!isSealed(plain) && !isSealed('v1:') && !isSealed('v2:' + a.slice(3)) && !isSealed('v1:short'));
  });

  it('makes keys/secret.key (0600, 64 hex digits) in keys/ (0700) on first use, and uses it again', async () => {
    const home = newHome();
    const first = await openSecretBox(home, {});
    assert.equal((await stat(join(home, 'keys'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(home, 'keys', 'secret.key'))).mode & 0o777, 0o600);
    const text = await readFile(join(home, 'keys', 'secret.key'), 'utf8');
    assert.match(text, /^[0-9a-f]{64}\n$/);
    const again = await openSecretBox(home, {});
    assert.equal(again.open(first.seal('kept')), 'kept');
    // The key is the file's: a box from the same hex in XIP_SECRET_KEY opens it.
    const viaEnv = await openSecretBox(newHome(), { XIP_SECRET_KEY: text.trim() });
    assert.equal(viaEnv.open(first.seal('same key')), 'same key');
  });

  it('XIP_SECRET_KEY in hex or base64 is the key, and no key file is made', async () => {
    const key = randomBytes(32);
    const home = newHome();
    const hex = await openSecretBox(home, { XIP_SECRET_KEY: key.toString('hex') });
    const upper = await openSecretBox(home, { XIP_SECRET_KEY: key.toString('hex').toUpperCase() });
    const b64 = await openSecretBox(home, { XIP_SECRET_KEY: key.toString('base64') });
    const b64url = await openSecretBox(home, { XIP_SECRET_KEY: key.toString('base64url') });
    const sealed = hex.seal('shared');
    for (const box of [upper, b64, b64url]) assert.equal(box.open(sealed), 'shared');
    await assert.rejects(stat(join(home, 'keys')), { code: 'ENOENT' });
  });

  it('a malformed XIP_SECRET_KEY is SECRET_KEY_INVALID naming the accepted forms, never the value', async () => {
    const bad = [
      randomBytes(31).toString('hex'),
      randomBytes(31).toString('base64'),
      randomBytes(33).toString('base64'),
      `${randomBytes(32).toString('hex')}00`,
      'correct horse battery staple',
    ];
    for (const value of bad) {
      await assert.rejects(openSecretBox(newHome(), { XIP_SECRET_KEY: value }), keyInvalid(/64 hex digits, or the base64 of exactly 32 bytes/, [value]));
    }
  });

  it('a secret sealed under another key is SECRET_KEY_INVALID, without the plaintext or the key', async () => {
    const keyA = randomBytes(32).toString('hex');
    const keyB = randomBytes(32).toString('hex');
    const sealed = (await openSecretBox(newHome(), { XIP_SECRET_KEY: keyA })).seal('the sftp password');
    const other = await openSecretBox(newHome(), { XIP_SECRET_KEY: keyB });
    assert.throws(() => other.open(sealed), keyInvalid(/not the key the secrets were stored with/, ['the sftp password', keyA, keyB, sealed]));
  });

  it('a tampered or malformed sealed value is SECRET_KEY_INVALID', async () => {
    const box = await openSecretBox(newHome(), {});
    const sealed = box.seal('azure account key');
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    for (const at of [0, 12, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[at] = (altered[at] ?? 0) ^ 1;
      assert.throws(() => box.open(`v1:${altered.toString('base64url')}`), keyInvalid(/does not open with this key/, ['azure account key']));
    }
    for (const value of ['azure account key', 'v2:' + sealed.slice(3), 'v1:', 'v1:AAAA', `${sealed}!`]) {
      assert.throws(() => box.open(value), keyInvalid(/not a sealed value/, ['azure account key']));
    }
  });

  it('a key file others may read is refused, telling the admin to chmod 600 it', async () => {
    const home = newHome();
    await mkdir(join(home, 'keys'), { recursive: true, mode: 0o700 });
    const key = randomBytes(32).toString('hex');
    const path = join(home, 'keys', 'secret.key');
    await writeFile(path, `${key}\n`, { mode: 0o600 });
    await chmod(path, 0o644);
    await assert.rejects(openSecretBox(home, {}), keyInvalid(/mode 0644\): run chmod 600 /, [key]));
    await chmod(path, 0o600);
    await openSecretBox(home, {});
  });

  it('a key file that does not hold a key is SECRET_KEY_INVALID, never echoed', async () => {
    const home = newHome();
    await mkdir(join(home, 'keys'), { recursive: true, mode: 0o700 });
    const content = 'not-a-key-at-all';
    await writeFile(join(home, 'keys', 'secret.key'), content, { mode: 0o600 });
    await assert.rejects(openSecretBox(home, {}), keyInvalid(/expected 64 hex digits and a newline/, [content]));
  });

  it('a key file just made by another process and not yet written is waited for, not called malformed', async () => {
    const home = newHome();
    await mkdir(join(home, 'keys'), { recursive: true, mode: 0o700 });
    const path = join(home, 'keys', 'secret.key');
    const key = randomBytes(32).toString('hex');
    await writeFile(path, '', { mode: 0o600 });
    const opening = openSecretBox(home, {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writeFile(path, `${key}\n`);
    const box = await opening;
    assert.equal((await openSecretBox(newHome(), { XIP_SECRET_KEY: key })).open(box.seal('waited')), 'waited');
  });

  it('opens the documented format: v1: + base64url(IV ‖ AES-256-GCM ciphertext ‖ tag), AAD "xip-connector secret v1"', async () => {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from('xip-connector secret v1'));
    const body = Buffer.concat([cipher.update('made elsewhere', 'utf8'), cipher.final()]);
    const sealed = `v1:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
    const box = await openSecretBox(newHome(), { XIP_SECRET_KEY: key.toString('hex') });
    assert.equal(box.open(sealed), 'made elsewhere');
  });

  it('two first uses at once end with one key, which opens the seals of both', async () => {
    for (let round = 0; round < 5; round += 1) {
      const home = newHome();
      const [one, two] = await Promise.all([openSecretBox(home, {}), openSecretBox(home, {})]);
      assert.equal(two.open(one.seal('from one')), 'from one');
      assert.equal(one.open(two.seal('from two')), 'from two');
      const again = await openSecretBox(home, {});
      assert.equal(again.open(one.seal('later')), 'later');
    }
  });
});
