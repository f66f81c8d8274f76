// Single sign-on with OpenID Connect, end to end over real HTTP on
// 127.0.0.1: xip serve's server (listening) and the contract double of an
// OpenID Provider shaped like Microsoft Entra ID (support/oidc-double/, over
// HTTPS with a throwaway CA that openid-client is given through its
// customFetch). The test is the browser: it follows each redirect itself
// and keeps the cookies each origin sets.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { checkOidcOptions } from '../src/server/oidc/options.js';
import { discoverOidc } from '../src/server/oidc/provider.js';
import { SESSION_COOKIE } from '../src/server/plugins/auth.js';
import { startHarness, PASSWORD, type Harness } from '../src/server/test-support/harness.js';
import { startOidcDouble, type DoubleUser, type OidcDouble } from './support/oidc-double/index.js';
import { freePort } from './support/server-process.js';

const ADMINS = '11111111-aaaa-4aaa-8aaa-000000000001';
const AUDITORS = '11111111-aaaa-4aaa-8aaa-000000000002';
const VIEWERS = '11111111-aaaa-4aaa-8aaa-000000000003';
const OTHERS = '11111111-aaaa-4aaa-8aaa-000000000009';

interface Hop {
  readonly status: number;
  readonly location: string;
  readonly setCookies: string[];
}

/** A browser: one cookie jar per origin, no redirect followed on its own. */
class Browser {
  readonly jars = new Map<string, Map<string, string>>();
  constructor(private readonly double: OidcDouble) {}

  jar(url: string): Map<string, string> {
    const origin = new URL(url).origin;
    if (!this.jars.has(origin)) this.jars.set(origin, new Map());
    return this.jars.get(origin)!;
  }

  async get(url: string): Promise<Hop> {
    const jar = this.jar(url);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const headers: Record<string, string> = cookie ? { cookie } : {};
    const r = url.startsWith('https:') ? await this.double.fetch(url, { headers }) : await fetch(url, { headers, redirect: 'manual' });
    const setCookies = r.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name!.trim());
      else jar.set(name!.trim(), value.join('='));
    }
    await r.arrayBuffer();
    return { status: r.status, location: r.headers.get('location') ?? '', setCookies };
  }
}

let double: OidcDouble;
let h: Harness;
let base: string;

/** Start → the provider → the callback: each hop, and where the callback sent the browser. */
async function signIn(browser = new Browser(double)) {
  const start = await browser.get(`${base}/auth/oidc/start`);
  assert.equal(start.status, 302, 'start redirects to the provider');
  const authorize = await browser.get(start.location);
  assert.equal(authorize.status, 302, 'the provider redirects back');
  const callbackUrl = authorize.location;
  const callback = await browser.get(callbackUrl);
  assert.equal(callback.status, 302);
  return { browser, start, callbackUrl, callback, landed: callback.location, session: browser.jar(base).get(SESSION_COOKIE) };
}

async function sessionOf(cookie: string | undefined) {
  const r = await fetch(`${base}/api/session`, { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
  return { status: r.status, body: (await r.json()) as { name?: string; role?: string; csrfToken?: string; code?: string } };
}

const as = (user: Partial<DoubleUser> & { sub: string }) => {
  double.user = { preferred_username: `${user.sub}@contoso.example`, groups: [], ...user };
};

async function newest(action: string) {
  return (await h.accounts.listAudit({ limit: 1000 })).find((e) => e.action === action);
}

describe('single sign-on with OpenID Connect (the provider: a contract double of Microsoft Entra ID)', () => {
  before(async () => {
    double = await startOidcDouble();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const redirectUrl = `${base}/auth/oidc/callback`;
    double.redirectUris.add(redirectUrl);
    const options = checkOidcOptions({
      issuer: double.issuer,
      clientId: double.clientId,
      clientSecret: double.clientSecret,
      redirectUrl,
      label: 'Microsoft Entra ID',
      roleMap: [
        { group: ADMINS, role: 'connector-admin' },
        { group: AUDITORS, role: 'auditor' },
        { group: VIEWERS, role: 'viewer' },
      ],
    });
    const oidc = await discoverOidc(options, { fetch: double.fetch });
    h = await startHarness({ oidc });
    await h.app.listen({ port, host: '127.0.0.1' });
  });
  after(async () => {
    await h?.close();
    await double?.close();
  });
  beforeEach(() => {
    double.knobs = {};
  });

  it('GET /api/sso says it is on, with its label and where it starts', async () => {
    const r = await fetch(`${base}/api/sso`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { enabled: true, label: 'Microsoft Entra ID', startUrl: '/auth/oidc/start' });
  });

  it('a sign-in through the callback opens the same session as a password sign-in, with the role of the group, and is audited', async () => {
    as({ sub: 'sub-ana', preferred_username: 'Ana@Contoso.example', groups: [OTHERS, ADMINS] });
    const { start, callback, landed, session } = await signIn();
    // The authorization request: the code flow with PKCE S256, state and nonce, our client and redirect URI.
    const authorize = new URL(start.location);
    assert.equal(authorize.origin + authorize.pathname, `${new URL(double.issuer).origin}/${double.tenantId}/oauth2/v2.0/authorize`);
    const q = authorize.searchParams;
    assert.equal(q.get('client_id'), double.clientId);
    assert.equal(q.get('redirect_uri'), `${base}/auth/oidc/callback`);
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((q.get('state') ?? '').length >= 22 && (q.get('nonce') ?? '').length >= 22);
    assert.deepEqual(q.get('scope')?.split(' '), ['openid', 'profile', 'email']);
    // The sign-in kept server-side under a short-lived cookie that comes back on the provider's cross-site redirect.
    const flow = start.setCookies.find((c) => c.startsWith('xip_oidc='))!;
    assert.match(flow, /HttpOnly/i);
    assert.match(flow, /SameSite=Lax/i);
    assert.match(flow, /Path=\/auth\/oidc(;|$)/);
    assert.match(flow, /Max-Age=600/i);
    assert.match(flow, /Secure/i);

    assert.equal(landed, '/connectors');
    const cookie = callback.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.match(cookie, /Path=\/(;|$)/);
    assert.match(cookie, /Secure/i);
    assert.ok(callback.setCookies.some((c) => /^xip_oidc=;/.test(c)), 'the flow cookie is cleared');
    const expires = new Date(/Expires=([^;]+)/i.exec(cookie)![1]!).getTime();
    assert.equal(expires, h.clock.now.getTime() + 8 * 3600_000, 'the session lasts sessionTtlMs, as a password one');

    const me = await sessionOf(session);
    assert.equal(me.status, 200);
    assert.equal(me.body.name, 'ana@contoso.example', 'named by preferred_username, lower-cased');
    assert.equal(me.body.role, 'connector-admin');
    // The CSRF secret is the session's: its token works for a change (sign-out).
    const out = await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie: `${SESSION_COOKIE}=${session}`, 'x-csrf-token': me.body.csrfToken! } });
    assert.equal(out.status, 204);

    const account = await h.accounts.getAccount('ana@contoso.example');
    assert.equal(account?.passwordHash, null, 'no password');
    assert.equal((await h.accounts.getAccountByIdentity({ issuer: double.issuer, subject: 'sub-ana' }))?.name, 'ana@contoso.example');
    const signInEntry = (await h.accounts.listAudit({ limit: 1000 })).find((e) => e.action === 'sign-in' && e.target === 'ana@contoso.example');
    assert.deepEqual(signInEntry?.detail, { role: 'connector-admin', method: 'oidc' });
    assert.equal(signInEntry?.actor, 'ana@contoso.example');
    const added = await newest('user-added');
    assert.equal(added?.actor, 'sso');
    assert.deepEqual(added?.detail, { role: 'connector-admin', method: 'oidc', group: ADMINS, issuer: double.issuer, subject: 'sub-ana' });
  });

  it('an account in no mapped group is refused (SSO_NO_ROLE), made no account, and the refusal is audited', async () => {
    as({ sub: 'sub-nobody', groups: [OTHERS] });
    const { landed, session } = await signIn();
    assert.equal(landed, '/login?error=SSO_NO_ROLE');
    assert.equal(session, undefined, 'no session cookie');
    assert.equal(await h.accounts.getAccount('sub-nobody@contoso.example'), undefined);
    const refused = await newest('sso-refused');
    assert.equal(refused?.actor, 'anonymous');
    assert.equal(refused?.target, 'sub-nobody@contoso.example');
    assert.deepEqual(refused?.detail, { reason: 'no-role', code: 'SSO_NO_ROLE', issuer: double.issuer, subject: 'sub-nobody', groups: [OTHERS], groupCount: 1 });
  });

  it('a token whose groups did not fit (the overage claim) is refused, not followed to Graph', async () => {
    as({ sub: 'sub-many', groups: undefined, overage: true });
    const { landed } = await signIn();
    assert.equal(landed, '/login?error=SSO_GROUPS_OVERAGE');
    assert.equal((await newest('sso-refused'))?.detail.reason, 'groups-overage');
  });

  it('a callback without the flow cookie, or with a state that is not its own, is refused before the provider is asked', async () => {
    as({ sub: 'sub-ana', preferred_username: 'ana@contoso.example', groups: [ADMINS] });
    const browser = new Browser(double);
    const start = await browser.get(`${base}/auth/oidc/start`);
    const back = await browser.get(start.location);
    const asked = double.tokenRequests.length;

    // Another browser (login CSRF: a victim sent to the attacker's callback URL) has no flow cookie.
    const stranger = await new Browser(double).get(back.location);
    assert.equal(stranger.location, '/login?error=SSO_STATE_INVALID');
    assert.equal((await newest('sso-refused'))?.detail.reason, 'no-flow-cookie');

    // The right cookie, a state altered.
    const altered = new URL(back.location);
    altered.searchParams.set('state', `${altered.searchParams.get('state')}x`);
    const r = await browser.get(altered.href);
    assert.equal(r.location, '/login?error=SSO_STATE_INVALID');
    assert.equal((await newest('sso-refused'))?.detail.reason, 'state-mismatch');
    assert.equal(double.tokenRequests.length, asked, 'no code was exchanged');
    assert.equal(browser.jar(base).get(SESSION_COOKIE), undefined);
  });

  it('a callback replayed is refused: the sign-in is taken once, and the provider refuses a code redeemed already', async () => {
    as({ sub: 'sub-ana', preferred_username: 'ana@contoso.example', groups: [ADMINS] });
    const first = await signIn();
    assert.equal(first.landed, '/connectors');
    const handle = /xip_oidc=([^;]+)/.exec(first.start.setCookies.join('\n'))![1]!;

    // The same URL with the same cookie again (a browser's history, a copied URL): nothing pending under it any more.
    const replay = new Browser(double);
    replay.jar(base).set('xip_oidc', handle);
    const asked = double.tokenRequests.length;
    assert.equal((await replay.get(first.callbackUrl)).location, '/login?error=SSO_STATE_INVALID');
    assert.equal(double.tokenRequests.length, asked);

    // The old code under a new sign-in's state: the provider refuses it (invalid_grant, AADSTS54005) and nothing opens.
    const browser = new Browser(double);
    const start = await browser.get(`${base}/auth/oidc/start`);
    const state = new URL(start.location).searchParams.get('state')!;
    const reused = new URL(first.callbackUrl);
    reused.searchParams.set('state', state);
    const r = await browser.get(reused.href);
    assert.equal(r.location, '/login?error=SSO_FAILED');
    assert.deepEqual(double.tokenRequests.at(-1), { code: new URL(first.callbackUrl).searchParams.get('code'), status: 400, error: 'invalid_grant', aadsts: 54005 }, 'redeemed already');
    assert.match(String((await newest('sso-refused'))?.detail.check), /invalid_grant/);
    assert.equal(browser.jar(base).get(SESSION_COOKIE), undefined);
  });

  for (const [knob, check] of [
    ['wrongAudience', /"aud"/],
    ['wrongNonce', /"nonce"/],
    ['expired', /"exp"|expired|timestamp/i],
    ['foreignKey', /signature|key/i],
  ] as const) {
    it(`an ID token with ${knob} is refused (SSO_FAILED) and audited with the check that failed`, async () => {
      as({ sub: 'sub-ana', preferred_username: 'ana@contoso.example', groups: [ADMINS] });
      double.knobs = { [knob]: true };
      const { landed, session } = await signIn();
      assert.equal(landed, '/login?error=SSO_FAILED');
      assert.equal(session, undefined);
      const refused = await newest('sso-refused');
      assert.equal(refused?.detail.reason, 'check-failed');
      assert.match(String(refused?.detail.check), check);
    });
  }

  it("the role follows the provider's groups at each sign-in; several mapped groups: the role map's first entry wins", async () => {
    as({ sub: 'sub-cy', groups: [ADMINS] });
    const first = await signIn();
    assert.equal((await sessionOf(first.session)).body.role, 'connector-admin');

    as({ sub: 'sub-cy', groups: [VIEWERS, AUDITORS] });
    const second = await signIn();
    assert.equal((await sessionOf(second.session)).body.role, 'auditor', 'auditors come before viewers in the map');
    assert.equal((await sessionOf(first.session)).body.role, 'auditor', 'the role is the account’s: the older session has it too');
    const changed = await newest('user-role-changed');
    assert.equal(changed?.actor, 'sso');
    assert.equal(changed?.target, 'sub-cy@contoso.example');
    assert.deepEqual(changed?.detail, { from: 'connector-admin', to: 'auditor', group: AUDITORS });

    as({ sub: 'sub-cy', preferred_username: 'renamed@contoso.example', groups: [VIEWERS] });
    const third = await signIn();
    const { name, role } = (await sessionOf(third.session)).body;
    assert.deepEqual({ name, role }, { name: 'sub-cy@contoso.example', role: 'viewer' }, 'found by its identity, not its (new) name');
  });

  it('an account of single sign-on cannot sign in with a password; a disabled one is refused at the callback', async () => {
    as({ sub: 'sub-dee', groups: [VIEWERS] });
    assert.equal((await signIn()).landed, '/connectors');
    const local = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'sub-dee@contoso.example', password: PASSWORD }) });
    assert.equal(local.status, 401);
    assert.equal(((await local.json()) as { code: string }).code, 'AUTH_FAILED');

    await h.accounts.setDisabled('sub-dee@contoso.example', true);
    const { landed, session } = await signIn();
    assert.equal(landed, '/login?error=SSO_ACCOUNT_DISABLED');
    assert.equal(session, undefined);
  });

  it('a new identity named like an existing account is refused with ACCOUNT_EXISTS, never merged into it', async () => {
    await h.accounts.createAccount({ name: 'Bo@contoso.example', role: 'auditor', passwordHash: await h.passwords.hash(PASSWORD), at: h.clock.now });
    as({ sub: 'sub-bo', preferred_username: 'bo@contoso.example', groups: [ADMINS] });
    const { landed, session } = await signIn();
    assert.equal(landed, '/login?error=ACCOUNT_EXISTS');
    assert.equal(session, undefined);
    assert.equal((await h.accounts.getAccount('Bo@contoso.example'))?.role, 'auditor', 'the local account is as it was');
    assert.equal(await h.accounts.getAccountByIdentity({ issuer: double.issuer, subject: 'sub-bo' }), undefined);
    const refused = await newest('sso-refused');
    assert.equal(refused?.detail.reason, 'account-exists');
    assert.equal(refused?.target, 'Bo@contoso.example');

    // A name reused by the provider for someone new (another subject): the account stays its first owner's.
    as({ sub: 'sub-ana-2', preferred_username: 'ana@contoso.example', groups: [ADMINS] });
    assert.equal((await signIn()).landed, '/login?error=ACCOUNT_EXISTS');
  });
});

describe('GET /api/sso without single sign-on', () => {
  it('says it is off, and /auth/oidc/start is not there', async () => {
    const h = await startHarness();
    try {
      const r = await h.app.inject({ method: 'GET', url: '/api/sso' });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.json(), { enabled: false, label: null, startUrl: null });
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/oidc/start' })).statusCode, 404);
    } finally {
      await h.close();
    }
  });
});
