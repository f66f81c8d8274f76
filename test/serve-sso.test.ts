// xip serve's single sign-on flags, through the installed command: each
// mistake is a USAGE error (exit 2) naming the flag or variable, before
// anything starts; an issuer whose metadata cannot be read or names another
// issuer stops the start with SSO_DISCOVERY_FAILED; a right configuration
// serves GET /api/sso and sends /auth/oidc/start to the provider. The
// provider is the contract double (support/oidc-double/), trusted through
// NODE_EXTRA_CA_CERTS as a private CA would be.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../src/xip/test-support/container.js';
import { XIP_BIN } from './support/cli.js';
import { startOidcDouble, type OidcDouble } from './support/oidc-double/index.js';
import { freePort } from './support/server-process.js';

const GROUP = '22222222-bbbb-4bbb-8bbb-000000000001';
let dir: string;
let double: OidcDouble;
let homes = 0;

before(async () => {
  dir = await tempDir('xip-serve-sso-');
  double = await startOidcDouble();
});
after(async () => {
  await double?.close();
  rmSync(dir, { recursive: true, force: true });
});

function flags(overrides: Record<string, string | undefined> = {}): string[] {
  const all: Record<string, string | undefined> = {
    '--oidc-issuer': double.issuer,
    '--oidc-client-id': double.clientId,
    '--oidc-redirect-url': 'https://xip.contoso.example/auth/oidc/callback',
    '--oidc-role-map': `${GROUP}=connector-admin`,
    ...overrides,
  };
  return Object.entries(all).flatMap(([k, v]) => (v === undefined ? [] : [k, v]));
}

const env = (extra: Record<string, string | undefined> = {}) => ({ XIP_HOME: join(dir, `home-${++homes}`), NODE_EXTRA_CA_CERTS: double.caPath, XIP_OIDC_CLIENT_SECRET: double.clientSecret, ...extra });

/**
 * xip serve with these flags must stop with exit 2 before it serves; one that
 * starts instead (it logs "xip serve started") is stopped and fails the test.
 * No clock decides: a slow machine only makes it slower.
 */
async function refused(args: string[], extra: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, [XIP_BIN, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env(extra) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const started = new Promise<'started'>((resolve) =>
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/xip serve started/.test(stderr)) resolve('started');
    }),
  );
  if ((await Promise.race([exited, started])) === 'started') {
    child.kill('SIGTERM');
    await exited;
    assert.fail(`xip serve started instead of refusing: ${stderr}`);
  }
  const r = { code: await exited, stderr };
  assert.equal(r.code, 2, `exit 2: ${r.stderr}`);
  assert.ok(!r.stderr.includes(double.clientSecret), 'the secret is in no message');
  return r.stderr;
}

describe('xip serve --oidc-*', () => {
  it('a single sign-on flag without --oidc-issuer is USAGE, naming it', async () => {
    assert.match(await refused(['--oidc-client-id', 'x', '--oidc-label', 'Entra']), /^USAGE: .*--oidc-client-id, --oidc-label: single sign-on needs --oidc-issuer/m);
  });

  it('--oidc-issuer without the client id, redirect URL or role map, or without XIP_OIDC_CLIENT_SECRET, is USAGE naming what is missing', async () => {
    assert.match(await refused(flags({ '--oidc-redirect-url': undefined, '--oidc-role-map': undefined })), /USAGE: .*--oidc-issuer needs --oidc-redirect-url, --oidc-role-map/);
    assert.match(await refused(flags(), { XIP_OIDC_CLIENT_SECRET: '' }), /USAGE: .*\(XIP_OIDC_CLIENT_SECRET: --oidc-issuer needs the client secret/);
  });

  it('a wrong value is USAGE naming its flag: an http:// issuer, a redirect URL elsewhere than /auth/oidc/callback, an unknown role, a group twice', async () => {
    assert.match(await refused(flags({ '--oidc-issuer': 'http://127.0.0.1:1/tenant/v2.0' })), /USAGE: .*--oidc-issuer: must be https:\/\//);
    assert.match(await refused(flags({ '--oidc-redirect-url': 'https://xip.contoso.example/callback' })), /USAGE: .*--oidc-redirect-url: must end with \/auth\/oidc\/callback/);
    assert.match(await refused(flags({ '--oidc-redirect-url': 'http://xip.contoso.example/auth/oidc/callback' })), /USAGE: .*--oidc-redirect-url: must be https:\/\//);
    assert.match(await refused(flags({ '--oidc-role-map': `${GROUP}=superuser` })), /USAGE: .*--oidc-role-map/);
    assert.match(await refused(flags({ '--oidc-role-map': `${GROUP}` })), /USAGE: .*--oidc-role-map: .* is not GROUP=ROLE/);
    assert.match(await refused(flags({ '--oidc-role-map': `${GROUP}=viewer,${GROUP}=auditor` })), /USAGE: .*--oidc-role-map: names a group twice/);
  });

  it('an issuer whose metadata names another issuer (a tenant by its domain name), or that does not answer, stops the start: SSO_DISCOVERY_FAILED', async () => {
    const byDomain = double.issuer.replace(double.tenantId, double.tenantDomain);
    assert.match(await refused(flags({ '--oidc-issuer': byDomain })), /^SSO_DISCOVERY_FAILED: .*issuer/m);
    assert.match(await refused(flags({ '--oidc-issuer': `https://127.0.0.1:${await freePort()}/tenant/v2.0` })), /^SSO_DISCOVERY_FAILED: .*fetch failed/m);
    assert.match(await refused(flags({ '--oidc-issuer': double.issuer.replace(double.tenantId, 'no-such-tenant') })), /^SSO_DISCOVERY_FAILED: .*HTTP 400/m);
  });

  it('with a right configuration it serves GET /api/sso and sends /auth/oidc/start to the provider', async () => {
    const child = spawn(process.execPath, [XIP_BIN, 'serve', '--port', '0', ...flags({ '--oidc-label': 'Microsoft Entra ID' })], { env: { ...process.env, ...env() }, stdio: ['ignore', 'ignore', 'pipe'] });
    let logs = '';
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    try {
      const deadline = Date.now() + 20_000;
      while (!/"address":"[^"]+"/.test(logs)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`xip serve did not start: ${logs}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const address = /"address":"([^"]+)"/.exec(logs)![1]!;
      assert.deepEqual(await (await fetch(`${address}/api/sso`)).json(), { enabled: true, label: 'Microsoft Entra ID', startUrl: '/auth/oidc/start' });
      const start = await fetch(`${address}/auth/oidc/start`, { redirect: 'manual' });
      assert.equal(start.status, 302);
      const to = new URL(start.headers.get('location')!);
      assert.equal(`${to.origin}${to.pathname}`, `${new URL(double.issuer).origin}/${double.tenantId}/oauth2/v2.0/authorize`);
      assert.equal(to.searchParams.get('redirect_uri'), 'https://xip.contoso.example/auth/oidc/callback');
      assert.ok(!logs.includes(double.clientSecret), 'the secret is in no log line');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
