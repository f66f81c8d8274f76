// Signing in and out: the cookie, the CSRF token bound to the session, the
// same path for every failure, the limit on failures, expiry, the audit.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../secrets.js';
import { PASSWORD, startHarness, type Harness } from '../test-support/harness.js';

let h: Harness;

const signInRequest = (name: string, password: string, remoteAddress = '192.0.2.10') => h.app.inject({ method: 'POST', url: '/api/session', payload: { name, password }, remoteAddress });

describe('sessions', () => {
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.close());

  it('sign-in sets an HttpOnly, SameSite=Strict, Secure cookie of 32 random bytes whose SHA-256 only is stored, and returns the role and a CSRF token', async () => {
    await h.accounts.createAccount({ name: 'ana', role: 'viewer', passwordHash: await h.passwords.hash(PASSWORD), at: h.clock.now });
    const r = await signInRequest('ana', PASSWORD);
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json() as { name: string; role: string; csrfToken: string; expiresAt: string };
    assert.equal(body.name, 'ana');
    assert.equal(body.role, 'viewer');
    assert.ok(body.csrfToken.length > 20);
    assert.equal(body.expiresAt, new Date(h.clock.now.getTime() + 8 * 3600_000).toISOString(), '8 hours by default');
    const cookie = r.cookies.find((c) => c.name === 'xip_session')!;
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.secure, true);
    assert.equal(cookie.path, '/');
    const stored = await h.accounts.liveSession(sha256Hex(cookie.value), h.clock.now);
    assert.deepEqual([stored?.account, stored?.role, stored?.address], ['ana', 'viewer', '192.0.2.10'], 'stored by the SHA-256 of the cookie');
    for (const file of ['xip.db', 'xip.db-wal']) {
      const bytes = await readFile(join(h.state.home.root, file)).catch(() => Buffer.alloc(0));
      assert.equal(bytes.includes(cookie.value), false, `the cookie value itself is not in ${file}`);
    }

    const me = await h.app.inject({ method: 'GET', url: '/api/session', cookies: { xip_session: cookie.value } });
    assert.equal(me.statusCode, 200);
    assert.equal((me.json() as { name: string }).name, 'ana');
    assert.equal(me.headers['cache-control'], 'no-store');
    const audit = await h.accounts.listAudit();
    assert.deepEqual(audit.map((e) => [e.action, e.actor, e.target, e.address]), [['sign-in', 'ana', 'ana', '192.0.2.10']]);
  });

  it('without secureCookies the cookie has no Secure flag (plain HTTP on localhost)', async () => {
    const plain = await startHarness({ options: { secureCookies: false } });
    try {
      await plain.accounts.createAccount({ name: 'ana', role: 'viewer', passwordHash: await plain.passwords.hash(PASSWORD), at: plain.clock.now });
      const r = await plain.app.inject({ method: 'POST', url: '/api/session', payload: { name: 'ana', password: PASSWORD } });
      assert.equal(r.cookies.find((c) => c.name === 'xip_session')!.secure, undefined);
      assert.doesNotMatch(String(r.headers['content-security-policy']), /upgrade-insecure-requests/);
      assert.equal(r.headers['strict-transport-security'], undefined);
    } finally {
      await plain.close();
    }
  });

  it('a failed sign-in is 401 AUTH_FAILED whether the account is unknown, the password wrong or the account disabled, and always checks a password', async () => {
    await h.accounts.createAccount({ name: 'ana', role: 'viewer', passwordHash: await h.passwords.hash(PASSWORD), at: h.clock.now });
    await h.accounts.createAccount({ name: 'gone', role: 'viewer', passwordHash: await h.passwords.hash(PASSWORD), at: h.clock.now });
    await h.accounts.setDisabled('gone', true);
    const answers = [await signInRequest('nobody', PASSWORD, '192.0.2.1'), await signInRequest('ana', 'wrong password!!', '192.0.2.2'), await signInRequest('gone', PASSWORD, '192.0.2.3')];
    for (const r of answers) {
      assert.equal(r.statusCode, 401);
      assert.deepEqual(r.json(), answers[0]!.json(), 'the same answer for each cause');
      assert.equal((r.json() as { code: string }).code, 'AUTH_FAILED');
      assert.equal(r.cookies.length, 0);
    }
    // verifyOrDummy: the unknown account is checked against no hash (a dummy), the others against theirs.
    assert.equal(h.passwords.verified.length, 3);
    assert.equal(h.passwords.verified[0], null);
    assert.match(String(h.passwords.verified[1]), /^\$argon2id\$/);
    const audit = await h.accounts.listAudit();
    assert.deepEqual(audit.map((e) => [e.action, e.target, e.detail.reason]).reverse(), [
      ['sign-in-failed', 'nobody', 'unknown-account'],
      ['sign-in-failed', 'ana', 'wrong-password'],
      ['sign-in-failed', 'gone', 'disabled'],
    ]);
    assert.ok(!JSON.stringify(audit).includes(PASSWORD) && !JSON.stringify(audit).includes('wrong password'), 'no password in the trail');
  });

  it('the 6th attempt on an account after 5 failures is 429 with Retry-After, even with the right password, until the window has passed', async () => {
    await h.accounts.createAccount({ name: 'ana', role: 'viewer', passwordHash: await h.passwords.hash(PASSWORD), at: h.clock.now });
    for (let i = 0; i < 5; i++) assert.equal((await signInRequest('ana', `guess number ${i}`, `198.51.100.${i}`)).statusCode, 401);
    const verifiedBefore = h.passwords.verified.length;
    const sixth = await signInRequest('ana', PASSWORD, '198.51.100.99');
    assert.equal(sixth.statusCode, 429);
    assert.equal((sixth.json() as { code: string }).code, 'RATE_LIMITED');
    assert.equal(sixth.headers['retry-after'], '900');
    assert.equal(h.passwords.verified.length, verifiedBefore, 'a refused attempt checks no password');
    h.clock.now = new Date(h.clock.now.getTime() + 15 * 60_000);
    assert.equal((await signInRequest('ana', PASSWORD, '198.51.100.99')).statusCode, 200, 'allowed again once the failures left the window');
    const actions = (await h.accounts.listAudit()).map((e) => e.action);
    assert.equal(actions.filter((a) => a === 'sign-in-rate-limited').length, 1, 'the lock-out audited once');
  });

  it('failures are also counted per address, whatever the account names', async () => {
    for (let i = 0; i < 5; i++) await signInRequest(`user${i}`, 'some password here', '203.0.113.5');
    const r = await signInRequest('user9', 'some password here', '203.0.113.5');
    assert.equal(r.statusCode, 429);
    assert.equal((await signInRequest('user9', 'some password here', '203.0.113.6')).statusCode, 401, 'another address is not held back');
  });

  it('a session ends when it expires: 401 AUTH_REQUIRED', async () => {
    const ana = await h.account('ana', 'viewer');
    assert.equal((await ana.inject('GET', '/api/session')).statusCode, 200);
    h.clock.now = new Date(h.clock.now.getTime() + 8 * 3600_000);
    const r = await ana.inject('GET', '/api/session');
    assert.equal(r.statusCode, 401);
    assert.equal((r.json() as { code: string }).code, 'AUTH_REQUIRED');
  });

  it('sign-out revokes the session (CSRF token required), clears the cookie and is audited', async () => {
    const ana = await h.account('ana', 'viewer');
    assert.equal((await ana.inject('DELETE', '/api/session', undefined, { 'x-csrf-token': 'forged' })).statusCode, 403);
    assert.equal((await ana.inject('GET', '/api/session')).statusCode, 200, 'a forged token signs no one out');
    const out = await ana.inject('DELETE', '/api/session');
    assert.equal(out.statusCode, 204);
    assert.equal(out.cookies.find((c) => c.name === 'xip_session')?.value, '');
    assert.equal((await ana.inject('GET', '/api/session')).statusCode, 401);
    assert.deepEqual((await h.accounts.listAudit()).map((e) => e.action), ['sign-out', 'sign-in']);
  });

  it('a CSRF token works for its own session only', async () => {
    const ana = await h.account('ana', 'connector-admin');
    const bo = await h.account('bo', 'connector-admin');
    const r = await ana.inject('POST', '/api/connectors/x/pause', undefined, { 'x-csrf-token': bo.csrf });
    assert.equal(r.statusCode, 403);
    assert.equal((r.json() as { code: string }).code, 'CSRF_INVALID');
    const fresh = (await ana.inject('GET', '/api/session')).json() as { csrfToken: string };
    assert.equal((await ana.inject('POST', '/api/connectors/x/pause', undefined, { 'x-csrf-token': fresh.csrfToken })).statusCode, 404, 'a fresh token of the same session passes (then: no such connector)');
  });

  it('sign-in takes JSON only: a form post is 415, and a session of the browser is replaced', async () => {
    const form = await h.app.inject({ method: 'POST', url: '/api/session', payload: 'name=ana&password=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.statusCode, 415);
    const text = await h.app.inject({ method: 'POST', url: '/api/session', payload: JSON.stringify({ name: 'ana', password: PASSWORD }), headers: { 'content-type': 'text/plain' } });
    assert.equal(text.statusCode, 415);
    const ana = await h.account('ana', 'viewer');
    const again = await h.app.inject({ method: 'POST', url: '/api/session', payload: { name: 'ana', password: PASSWORD }, cookies: { xip_session: ana.cookie } });
    assert.equal(again.statusCode, 200);
    assert.equal((await ana.inject('GET', '/api/session')).statusCode, 401, 'the earlier session is revoked');
  });
});

describe('sessions: options', () => {
  let short: Harness;
  before(async () => {
    short = await startHarness({ options: { sessionTtlMs: 60_000, loginRateLimit: { max: 2, windowMs: 1000 } } });
  });
  after(async () => short.close());

  it('sessionTtlMs and loginRateLimit are taken from the options', async () => {
    const ana = await short.account('ana', 'viewer');
    short.clock.now = new Date(short.clock.now.getTime() + 60_000);
    assert.equal((await ana.inject('GET', '/api/session')).statusCode, 401);
    for (let i = 0; i < 2; i++) await short.app.inject({ method: 'POST', url: '/api/session', payload: { name: 'ana', password: 'not the password' } });
    const r = await short.app.inject({ method: 'POST', url: '/api/session', payload: { name: 'ana', password: PASSWORD } });
    assert.equal(r.statusCode, 429);
    assert.equal(r.headers['retry-after'], '1');
  });
});
