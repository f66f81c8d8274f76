// The first account: a token made while there is no account, good once.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ensureSetupToken } from '../setup-token.js';
import { PASSWORD, startHarness, type Harness } from '../test-support/harness.js';

let h: Harness;

const setup = (body: unknown) => h.app.inject({ method: 'POST', url: '/api/setup', payload: body as Record<string, unknown> });

describe('POST /api/setup', () => {
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.close());

  it('ensureSetupToken makes a fresh token while there is no account, and none once there is one', async () => {
    const first = await ensureSetupToken(h.accounts, h.clock.now);
    const second = await ensureSetupToken(h.accounts, h.clock.now);
    assert.match(first!, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(first, second, 'each start replaces the token');
    assert.equal((await setup({ token: first, name: 'root', password: PASSWORD })).statusCode, 403, 'the earlier token no longer works');
    assert.equal((await setup({ token: second, name: 'root', password: PASSWORD })).statusCode, 201);
    assert.equal(await ensureSetupToken(h.accounts, h.clock.now), undefined);
  });

  it('creates the first connector-admin once, audited as user-added by "setup"; the token does not work twice', async () => {
    const token = (await ensureSetupToken(h.accounts, h.clock.now))!;
    const r = await setup({ token, name: 'root', password: PASSWORD });
    assert.equal(r.statusCode, 201, r.body);
    assert.deepEqual(r.json(), { name: 'root', role: 'connector-admin' });
    const account = await h.accounts.getAccount('root');
    assert.equal(account?.role, 'connector-admin');
    assert.match(account!.passwordHash!, /^\$argon2id\$/);
    const again = await setup({ token, name: 'second', password: PASSWORD });
    assert.equal(again.statusCode, 403);
    assert.equal((again.json() as { code: string }).code, 'SETUP_TOKEN_INVALID');
    assert.equal(await h.accounts.getAccount('second'), undefined);
    const [refused, added] = await h.accounts.listAudit();
    assert.deepEqual([added!.actor, added!.action, added!.target, added!.detail], ['setup', 'user-added', 'root', { role: 'connector-admin' }]);
    assert.equal(refused!.action, 'setup-refused');
    // And the new account signs in.
    await h.signIn('root');
  });

  it('checks the password before spending the token: a short one is 400 and the token still works', async () => {
    const token = (await ensureSetupToken(h.accounts, h.clock.now))!;
    const weak = await setup({ token, name: 'root', password: 'short' });
    assert.equal(weak.statusCode, 400);
    assert.match((weak.json() as { message: string }).message, /body\.password: the password is too short/);
    assert.equal(h.passwords.verified.length, 0);
    assert.equal((await setup({ token, name: 'root', password: PASSWORD })).statusCode, 201);
  });

  it('is rate-limited per address: the 11th attempt in 15 minutes is 429 with Retry-After', async () => {
    // @fastify/rate-limit keeps its window on the real clock (not the test's): Retry-After is what is left of 900 s since the first attempt.
    const first = Date.now();
    for (let i = 0; i < 10; i++) assert.equal((await setup({ token: `guess-${i}`, name: 'root', password: PASSWORD })).statusCode, 403);
    const r = await setup({ token: 'guess-10', name: 'root', password: PASSWORD });
    assert.equal(r.statusCode, 429);
    assert.equal((r.json() as { code: string }).code, 'RATE_LIMITED');
    const left = Number(r.headers['retry-after']);
    const elapsed = Math.ceil((Date.now() - first) / 1000);
    assert.ok(left <= 900 && left >= 900 - elapsed, `Retry-After ${left}: 900 s less the ${elapsed} s the attempts took`);
  });

  it('refuses a wrong token, a bad name and extra fields', async () => {
    await ensureSetupToken(h.accounts, h.clock.now);
    assert.equal((await setup({ token: 'x'.repeat(43), name: 'root', password: PASSWORD })).statusCode, 403);
    const badName = await setup({ token: 'x', name: 'no spaces allowed', password: PASSWORD });
    assert.equal(badName.statusCode, 400);
    assert.deepEqual((badName.json() as { issues: { path: string }[] }).issues.map((i) => i.path), ['body.name']);
    assert.equal((await setup({ token: 'x', name: 'root', password: PASSWORD, role: 'auditor' })).statusCode, 400);
    assert.equal(await h.accounts.countAccounts(), 0);
  });
});
