// `xip serve` as an admin starts it on a new installation: it listens, prints
// a one-time setup token, the first connector-admin is created with it, signs
// in and reads the API; over TLS (--tls-cert/--tls-key) the session cookie is
// Secure; SIGTERM stops it cleanly.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../src/xip/test-support/container.js';
import { XIP_BIN } from './support/cli.js';

let dir: string;
before(async () => {
  dir = await tempDir('xip-serve-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Serving {
  readonly child: ChildProcess;
  readonly address: string;
  readonly token: string | undefined;
  logs(): string;
}

async function serve(home: string, args: string[] = []): Promise<Serving> {
  const child = spawn(process.execPath, [XIP_BIN, 'serve', '--port', '0', ...args], { env: { ...process.env, XIP_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!/"address":"[^"]+"/.test(logs) || (/No account yet/.test(logs) && !/"token":"[^"]+"/.test(logs))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`xip serve did not start: ${logs}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const address = /"address":"([^"]+)"/.exec(logs)![1]!;
  const token = /"token":"([^"]+)"/.exec(logs)?.[1];
  return { child, address, token, logs: () => logs };
}

async function stop(s: Serving): Promise<number | null> {
  s.child.kill('SIGTERM');
  return new Promise((r) => s.child.once('exit', (c) => r(c)));
}

describe('xip serve', () => {
  it('prints a one-time setup token on a new installation; the first connector-admin is made with it, signs in and reads the connectors; SIGTERM stops it', async () => {
    const s = await serve(join(dir, 'home'));
    try {
      assert.match(s.address, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(s.token, 'a setup token was printed');
      assert.equal((await fetch(`${s.address}/healthz`)).status, 200);
      assert.equal((await fetch(`${s.address}/api/connectors`)).status, 401, 'no session, no API');
      const setup = await fetch(`${s.address}/api/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: s.token, name: 'admin', password: 'a long enough passphrase' }) });
      assert.ok(setup.ok, `setup: ${setup.status} ${await setup.clone().text()}`);
      const again = await fetch(`${s.address}/api/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: s.token, name: 'other', password: 'a long enough passphrase' }) });
      assert.ok(again.status >= 400, 'the token works once');
      const signIn = await fetch(`${s.address}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: 'a long enough passphrase' }) });
      assert.equal(signIn.status, 200);
      const cookie = signIn.headers.get('set-cookie')!;
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Strict/i);
      assert.doesNotMatch(cookie, /Secure/i, 'plain HTTP on loopback: not Secure');
      const list = await fetch(`${s.address}/api/connectors`, { headers: { cookie: cookie.split(';')[0]! } });
      assert.equal(list.status, 200);
      assert.deepEqual(await list.json(), { connectors: [] });
      assert.equal((await fetch(`${s.address}/openapi.json`)).status, 200);
      assert.doesNotMatch(s.logs(), /a long enough passphrase/, 'the password is in no log line');
    } finally {
      assert.equal(await stop(s), 0);
    }
    const restarted = await serve(join(dir, 'home'));
    try {
      assert.equal(restarted.token, undefined, 'no setup token once an account exists');
    } finally {
      await stop(restarted);
    }
  });

  it('serves HTTPS with --tls-cert and --tls-key, and marks the session cookie Secure', async () => {
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const s = await serve(join(dir, 'tls-home'), ['--tls-cert', cert, '--tls-key', key]);
    try {
      assert.match(s.address, /^https:\/\/127\.0\.0\.1:\d+$/);
      const { readFileSync } = await import('node:fs');
      const ca = readFileSync(cert);
      const body = JSON.stringify({ token: s.token, name: 'admin', password: 'a long enough passphrase' });
      const post = (path: string, payload: string) =>
        new Promise<{ status: number; cookie: string | undefined }>((resolve, reject) => {
          const r = httpsRequest(`${s.address}${path}`, { method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.[0] }));
          });
          r.on('error', reject);
          r.end(payload);
        });
      assert.ok((await post('/api/setup', body)).status < 300);
      const signIn = await post('/api/session', JSON.stringify({ name: 'admin', password: 'a long enough passphrase' }));
      assert.equal(signIn.status, 200);
      assert.match(signIn.cookie ?? '', /;\s*Secure/i);
    } finally {
      await stop(s);
    }
  });
});
