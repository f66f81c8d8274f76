// Single sign-on across workers (issue 12): two `xip serve`
// processes on one database, as behind one load balancer. A sign-in started
// on one worker is finished on the other (the pending sign-in is in the
// database, src/server/oidc/pending.ts), its callback replayed on either is
// refused before the provider is asked, and the database holds neither the
// flow cookie's handle nor the state. The test is the browser and the load
// balancer: it sends each request to the worker it chooses, under the public
// redirect URL's path. The provider is the contract double
// (support/oidc-double/), trusted through NODE_EXTRA_CA_CERTS.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../src/server/plugins/auth.js';
import { tempDir } from '../src/xip/test-support/container.js';
import { XIP_BIN } from './support/cli.js';
import { startOidcDouble, type OidcDouble } from './support/oidc-double/index.js';
import { startPostgres, type Postgres } from './support/postgres.js';

const ADMINS = '44444444-dddd-4ddd-8ddd-000000000001';
/** The load balancer's address, which the provider sends the browser back to. */
const PUBLIC_CALLBACK = 'https://xip.contoso.example/auth/oidc/callback';

interface Worker {
  readonly child: ChildProcess;
  readonly address: string;
}

let dir: string;
let double: OidcDouble;
let postgres: Postgres;
let url: string;
const workers: Worker[] = [];

async function serve(env: NodeJS.ProcessEnv): Promise<Worker> {
  const args = ['serve', '--port', '0', '--oidc-issuer', double.issuer, '--oidc-client-id', double.clientId, '--oidc-redirect-url', PUBLIC_CALLBACK, '--oidc-role-map', `${ADMINS}=connector-admin`];
  const child = spawn(process.execPath, [XIP_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!/"address":"[^"]+"/.test(logs)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`xip serve did not start: ${logs}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const worker = { child, address: /"address":"([^"]+)"/.exec(logs)![1]! };
  workers.push(worker);
  return worker;
}

/** One request as a browser sends it: the cookies given, no redirect followed; where it sends the browser and what it sets. */
async function get(href: string, cookies: Record<string, string> = {}): Promise<{ status: number; location: string; cookies: Record<string, string> }> {
  const cookie = Object.entries(cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  const r = href.startsWith('https:') ? await double.fetch(href, { headers: cookie ? { cookie } : {} }) : await fetch(href, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  await r.arrayBuffer();
  const set: Record<string, string> = {};
  for (const line of r.headers.getSetCookie()) {
    const [name, ...value] = line.split(';')[0]!.split('=');
    set[name!.trim()] = value.join('=');
  }
  return { status: r.status, location: r.headers.get('location') ?? '', cookies: set };
}

/** /auth/oidc/start on `worker`, then the provider: the flow cookie's handle, the authorization request, and the callback's query. */
async function startOn(worker: Worker) {
  const start = await get(`${worker.address}/auth/oidc/start`);
  assert.equal(start.status, 302, 'start redirects to the provider');
  const handle = start.cookies.xip_oidc!;
  assert.match(handle, /^[A-Za-z0-9_-]{43}$/);
  const back = await get(start.location);
  assert.equal(back.status, 302, 'the provider redirects back');
  const callback = new URL(back.location);
  assert.equal(callback.origin + callback.pathname, PUBLIC_CALLBACK);
  return { handle, authorize: new URL(start.location).searchParams, search: callback.search };
}

/** The callback, sent by the load balancer to `worker`. */
const callbackOn = (worker: Worker, search: string, handle: string) => get(`${worker.address}/auth/oidc/callback${search}`, { xip_oidc: handle });

async function rows(sql: string): Promise<string[][]> {
  const out = await postgres.psql(sql, { database: 'sso' });
  return out.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('|'));
}

async function sessionOn(worker: Worker, session: string) {
  const r = await fetch(`${worker.address}/api/session`, { headers: { cookie: `${SESSION_COOKIE}=${session}` } });
  return { status: r.status, body: (await r.json()) as { name?: string; role?: string } };
}

before(async () => {
  dir = await tempDir('xip-sso-workers-');
  [double, postgres] = await Promise.all([startOidcDouble(), startPostgres()]);
  double.redirectUris.add(PUBLIC_CALLBACK);
  double.user = { sub: 'sub-wanda', preferred_username: 'wanda@contoso.example', groups: [ADMINS] };
  url = await postgres.createDatabase('sso');
});

after(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await double?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('single sign-on on two workers sharing one PostgreSQL', () => {
  it('a sign-in started on one worker is finished on the other; its callback replayed on either is refused; the database holds no handle and no state', { timeout: 120_000 }, async () => {
    const env = { XIP_HOME: join(dir, 'home'), XIP_DATABASE_URL: url, XIP_SECRET_KEY: '', NODE_EXTRA_CA_CERTS: double.caPath, XIP_OIDC_CLIENT_SECRET: double.clientSecret };
    const a = await serve(env);
    const b = await serve(env);

    const first = await startOn(a);
    // What the database keeps of it: the handle's SHA-256, and nothing of the request in the clear.
    const kept = await rows('select handle_sha256, sealed from sso_pending');
    assert.equal(kept.length, 1);
    const [handleHash, sealed] = kept[0]!;
    assert.equal(handleHash, createHash('sha256').update(first.handle).digest('hex'));
    assert.ok(!sealed!.includes(first.handle), 'not the handle');
    for (const key of ['state', 'nonce']) assert.ok(!sealed!.includes(first.authorize.get(key)!), `not the ${key}`);

    const asked = double.tokenRequests.length;
    const done = await callbackOn(b, first.search, first.handle);
    assert.equal(done.location, '/connectors', 'finished on the other worker');
    assert.deepEqual(double.tokenRequests.slice(asked).map((t) => t.status), [200], 'the code redeemed once, with the verifier kept at the start');
    const session = done.cookies[SESSION_COOKIE]!;
    const me = await sessionOn(a, session);
    assert.equal(me.status, 200);
    assert.deepEqual({ name: me.body.name, role: me.body.role }, { name: 'wanda@contoso.example', role: 'connector-admin' }, 'the session is good on the first worker too');
    assert.deepEqual(await rows('select count(*) from sso_pending'), [['0']], 'taken');

    // Replayed (the same URL, the same cookie) on either worker: nothing pending under the handle, the provider not asked.
    for (const worker of [a, b]) {
      const replay = await callbackOn(worker, first.search, first.handle);
      assert.equal(replay.location, '/login?error=SSO_STATE_INVALID');
      assert.equal(replay.cookies[SESSION_COOKIE], undefined);
    }
    assert.equal(double.tokenRequests.length, asked + 1, 'no code sent to the provider again');
    const refused = await rows("select detail from audit where action = 'sso-refused' order by seq");
    assert.deepEqual(
      refused.map(([detail]) => (JSON.parse(detail!) as { reason: string }).reason),
      ['sign-in-unknown', 'sign-in-unknown'],
    );

    // The other way round, and two callbacks of one sign-in at once on both workers: one of them signs in.
    const second = await startOn(b);
    const both = await Promise.all([callbackOn(a, second.search, second.handle), callbackOn(b, second.search, second.handle)]);
    assert.deepEqual(both.map((r) => r.location).sort(), ['/connectors', '/login?error=SSO_STATE_INVALID']);
    assert.equal(double.tokenRequests.length, asked + 2, 'the code redeemed once');
  });
});
