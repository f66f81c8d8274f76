// The account store on both engines (test-support/engines.ts): what is
// stored is read back through another connection, as ISO text on both.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AccountStore, Session } from '../ports/account-store.js';
import { storeEngines, type FreshState } from './test-support/engines.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const HOUR = 3_600_000;

for (const engine of storeEngines()) describe(`KyselyAccountStore (${engine.name})`, () => {
  let db: FreshState;
  let accounts: AccountStore;
  beforeEach(async () => {
    db = await engine.fresh();
    accounts = db.accounts;
  });
  afterEach(() => db.dispose());

  const session = (idHash: string, account: string, expiresAt = later(HOUR)): Omit<Session, 'revokedAt'> => ({
    idHash,
    account,
    role: 'viewer', // what the caller thinks; the store answers with the account's
    csrfSecret: `csrf-${idHash}`,
    createdAt: T0,
    expiresAt,
    address: '192.0.2.7',
  });

  it('creates, reads and lists accounts, and refuses a taken name', async () => {
    assert.equal(await accounts.countAccounts(), 0);
    await accounts.createAccount({ name: 'zoe', role: 'viewer', passwordHash: '$argon2id$zoe', at: T0 });
    await accounts.createAccount({ name: 'ana@corp.example', role: 'connector-admin', passwordHash: null, at: later(1000) });
    assert.deepEqual(await accounts.getAccount('zoe'), { name: 'zoe', role: 'viewer', passwordHash: '$argon2id$zoe', createdAt: T0, disabled: false });
    assert.equal(await accounts.getAccount('nobody'), undefined);
    assert.deepEqual(
      (await accounts.listAccounts()).map((a) => [a.name, a.role, a.passwordHash, a.createdAt.toISOString(), a.disabled]),
      [
        ['ana@corp.example', 'connector-admin', null, '2026-03-01T10:00:01.000Z', false],
        ['zoe', 'viewer', '$argon2id$zoe', '2026-03-01T10:00:00.000Z', false],
      ],
    );
    assert.equal(await accounts.countAccounts(), 2);
    await assert.rejects(accounts.createAccount({ name: 'zoe', role: 'auditor', passwordHash: 'other', at: T0 }), { code: 'ACCOUNT_EXISTS' });
    assert.equal((await accounts.getAccount('zoe'))?.role, 'viewer', 'the first account is untouched');
    assert.deepEqual(await db.rows('select created_at from accounts order by name'), [{ created_at: '2026-03-01T10:00:01.000Z' }, { created_at: '2026-03-01T10:00:00.000Z' }], 'ISO text');
  });

  it('changes a password, a role and the disabled flag, and says when the account does not exist', async () => {
    await accounts.createAccount({ name: 'bo', role: 'viewer', passwordHash: 'h1', at: T0 });
    await accounts.setPassword('bo', 'h2');
    await accounts.setRole('bo', 'auditor');
    await accounts.setDisabled('bo', true);
    assert.deepEqual(await accounts.getAccount('bo'), { name: 'bo', role: 'auditor', passwordHash: 'h2', createdAt: T0, disabled: true });
    await accounts.setDisabled('bo', false);
    assert.equal((await accounts.getAccount('bo'))?.disabled, false);
    await assert.rejects(accounts.setPassword('nobody', 'h'), { code: 'ACCOUNT_NOT_FOUND' });
    await assert.rejects(accounts.setRole('nobody', 'viewer'), { code: 'ACCOUNT_NOT_FOUND' });
    await assert.rejects(accounts.setDisabled('nobody', true), { code: 'ACCOUNT_NOT_FOUND' });
    await assert.rejects(accounts.setRole('bo', 'root' as never), { code: 'USAGE' });
  });

  it('never gives a password to an account bound to a single sign-on identity (ACCOUNT_SSO), and leaves it without one', async () => {
    await accounts.createSsoAccount({ name: 'eve', role: 'viewer', identity: { issuer: 'https://idp.example/v2.0', subject: 'sub-eve' }, at: T0 });
    await assert.rejects(accounts.setPassword('eve', 'h'), { code: 'ACCOUNT_SSO' });
    assert.equal((await accounts.getAccount('eve'))?.passwordHash, null);
  });

  it('answers a live session with its account’s current role, and nothing for an expired, revoked or disabled one', async () => {
    await accounts.createAccount({ name: 'ana', role: 'connector-admin', passwordHash: 'h', at: T0 });
    await accounts.createSession(session('s1', 'ana'));
    const live = await accounts.liveSession('s1', later(1000));
    assert.deepEqual(live, { idHash: 's1', account: 'ana', role: 'connector-admin', csrfSecret: 'csrf-s1', createdAt: T0, expiresAt: later(HOUR), revokedAt: null, address: '192.0.2.7' });
    assert.equal(await accounts.liveSession('unknown', later(1000)), undefined);

    await accounts.setRole('ana', 'auditor');
    assert.equal((await accounts.liveSession('s1', later(1000)))?.role, 'auditor', 'the role is read at each request');

    assert.equal(await accounts.liveSession('s1', later(HOUR)), undefined, 'expired at expiresAt');
    assert.ok(await accounts.liveSession('s1', later(HOUR - 1)));

    await accounts.setDisabled('ana', true);
    assert.equal(await accounts.liveSession('s1', later(1000)), undefined, 'a disabled account has no live session');
    await accounts.setDisabled('ana', false);
    assert.ok(await accounts.liveSession('s1', later(1000)));

    await accounts.revokeSession('s1', later(2000));
    assert.equal(await accounts.liveSession('s1', later(3000)), undefined);
    await accounts.revokeSession('s1', later(5000));
    assert.deepEqual(await db.rows('select revoked_at from sessions'), [{ revoked_at: '2026-03-01T10:00:02.000Z' }], 'the first revocation stays');

    await assert.rejects(accounts.createSession(session('s2', 'nobody')), { code: 'ACCOUNT_NOT_FOUND' });
    await assert.rejects(accounts.createSession(session('s1', 'ana')), { code: 'LEDGER_ERROR' }, 'a session id is never reused');
  });

  it('revokes every live session of one account, and counts them', async () => {
    await accounts.createAccount({ name: 'ana', role: 'viewer', passwordHash: 'h', at: T0 });
    await accounts.createAccount({ name: 'bo', role: 'viewer', passwordHash: 'h', at: T0 });
    await accounts.createSession(session('a1', 'ana'));
    await accounts.createSession(session('a2', 'ana'));
    await accounts.createSession(session('a3', 'ana', later(10))); // expired by the time of revocation
    await accounts.createSession(session('a4', 'ana'));
    await accounts.revokeSession('a4', later(20)); // already revoked
    await accounts.createSession(session('b1', 'bo'));
    assert.equal(await accounts.revokeSessions('ana', later(1000)), 2);
    assert.equal(await accounts.liveSession('a1', later(2000)), undefined);
    assert.equal(await accounts.liveSession('a2', later(2000)), undefined);
    assert.ok(await accounts.liveSession('b1', later(2000)), "another account's session stays");
    assert.equal(await accounts.revokeSessions('ana', later(3000)), 0);
    assert.equal(await accounts.revokeSessions('nobody', later(3000)), 0);
  });

  it('gives the setup token once, and never once an account exists', async () => {
    assert.equal(await accounts.consumeSetupToken('t1'), false, 'no token set');
    await accounts.setSetupToken('t1', T0);
    await accounts.setSetupToken('t2', later(1000)); // a restart makes a new one: the old one is gone
    assert.deepEqual(await db.rows('select token_hash, created_at from setup_token'), [{ token_hash: 't2', created_at: '2026-03-01T10:00:01.000Z' }]);
    assert.equal(await accounts.consumeSetupToken('t1'), false);
    // Another connection to the same database (as another process would be; one thread cannot wait on a second
    // synchronous SQLite connection, so the two ask one after the other).
    const other = await db.another();
    try {
      assert.equal(await other.accounts.consumeSetupToken('t2'), true);
      assert.equal(await accounts.consumeSetupToken('t2'), false, 'once, whichever connection asks');
    } finally {
      await other.ledger.close();
    }
    assert.equal(await accounts.consumeSetupToken('t2'), false);

    await accounts.setSetupToken('t3', T0);
    await accounts.createAccount({ name: 'ana', role: 'connector-admin', passwordHash: 'h', at: T0 });
    assert.equal(await accounts.consumeSetupToken('t3'), false, 'refused once an account exists');
    assert.deepEqual(await db.rows('select token_hash from setup_token'), [{ token_hash: 't3' }], 'a refused token is not taken');
  });

  const pendingSignIn = (handleHash: string, createdAt = T0, ttlMs = 600_000) => ({ handleHash, sealed: `sealed-${handleHash}`, createdAt, expiresAt: new Date(createdAt.getTime() + ttlMs) });

  it('keeps a pending sign-in under its handle hash and gives it once', async () => {
    await accounts.putPendingSignIn(pendingSignIn('h1'), 100);
    await accounts.putPendingSignIn(pendingSignIn('h2'), 100);
    assert.deepEqual(
      await db.rows('select handle_sha256, sealed, created_at, expires_at from sso_pending order by handle_sha256'),
      [
        { handle_sha256: 'h1', sealed: 'sealed-h1', created_at: '2026-03-01T10:00:00.000Z', expires_at: '2026-03-01T10:10:00.000Z' },
        { handle_sha256: 'h2', sealed: 'sealed-h2', created_at: '2026-03-01T10:00:00.000Z', expires_at: '2026-03-01T10:10:00.000Z' },
      ],
      'ISO text',
    );
    assert.equal(await accounts.takePendingSignIn('h1', later(1000)), 'sealed-h1');
    assert.equal(await accounts.takePendingSignIn('h1', later(2000)), undefined, 'taken already');
    assert.equal(await accounts.takePendingSignIn('unknown', later(2000)), undefined);
    assert.deepEqual(await db.rows('select handle_sha256 from sso_pending'), [{ handle_sha256: 'h2' }], 'the other stays');
  });

  it('gives no pending sign-in at or after its expiry, and prunes the expired ones when another starts', async () => {
    await accounts.putPendingSignIn(pendingSignIn('old', T0, 60_000), 100);
    await accounts.putPendingSignIn(pendingSignIn('young', later(30_000), 60_000), 100);
    assert.equal(await accounts.takePendingSignIn('old', later(60_000)), undefined, 'expired at expiresAt');
    await accounts.putPendingSignIn(pendingSignIn('new', later(60_000), 60_000), 100);
    assert.deepEqual(await db.rows('select handle_sha256 from sso_pending order by handle_sha256'), [{ handle_sha256: 'new' }, { handle_sha256: 'young' }], 'the expired one pruned');
    assert.equal(await accounts.takePendingSignIn('young', later(89_999)), 'sealed-young', 'good until its expiry');
  });

  it('keeps at most `max` pending sign-ins: the oldest go first', async () => {
    for (let i = 1; i <= 5; i++) await accounts.putPendingSignIn(pendingSignIn(`h${i}`, later(i * 1000)), 3);
    assert.deepEqual(await db.rows('select handle_sha256 from sso_pending order by handle_sha256'), [{ handle_sha256: 'h3' }, { handle_sha256: 'h4' }, { handle_sha256: 'h5' }]);
    assert.equal(await accounts.takePendingSignIn('h2', later(6000)), undefined);
    assert.equal(await accounts.takePendingSignIn('h5', later(6000)), 'sealed-h5');
  });

  it('gives a pending sign-in to one of two stores over one database taking it at once', async () => {
    // On SQLite the two synchronous connections answer one after the other; on PostgreSQL the two deletes race.
    const other = await db.another();
    try {
      for (let i = 0; i < 8; i++) {
        await accounts.putPendingSignIn(pendingSignIn(`race-${i}`), 100);
        const both = await Promise.all(i % 2 === 0 ? [accounts.takePendingSignIn(`race-${i}`, later(1000)), other.accounts.takePendingSignIn(`race-${i}`, later(1000))] : [other.accounts.takePendingSignIn(`race-${i}`, later(1000)), accounts.takePendingSignIn(`race-${i}`, later(1000))]);
        assert.deepEqual(both.filter((s) => s !== undefined), [`sealed-race-${i}`], `race ${i}: one store gets it`);
      }
      await other.accounts.putPendingSignIn(pendingSignIn('started-on-b'), 100);
      assert.equal(await accounts.takePendingSignIn('started-on-b', later(1000)), 'sealed-started-on-b', 'started through one, finished through the other');
    } finally {
      await other.ledger.close();
    }
    assert.deepEqual(await db.rows('select handle_sha256 from sso_pending'), []);
  });

  it('keeps at most one setup token row, whatever writes the table', async () => {
    const T = "'2026-01-01T00:00:00.000Z'";
    await db.exec(`insert into setup_token (id, token_hash, created_at) values (1, 'x', ${T})`);
    await assert.rejects(db.exec(`insert into setup_token (id, token_hash, created_at) values (2, 'y', ${T})`), /CHECK constraint failed|violates check constraint/);
    // SQLite numbers the row 2 (the rowid) and the check refuses it; PostgreSQL's id has no default at all.
    await assert.rejects(db.exec(`insert into setup_token (token_hash, created_at) values ('y', ${T})`), /constraint failed|violates (check|not-null) constraint/);
    assert.deepEqual(await db.rows('select id, token_hash from setup_token'), [{ id: 1, token_hash: 'x' }]);
  });

  it('appends to the audit trail and lists it newest first, by page and by actor or target', async () => {
    const seqs: number[] = [];
    for (let i = 0; i < 7; i++) {
      seqs.push(
        await accounts.audit({
          at: later(i * 1000),
          actor: i % 2 === 0 ? 'ana' : 'cli:root',
          action: i === 0 ? 'sign-in' : 'connector-edited',
          target: i === 0 ? null : `c${i % 3}`,
          detail: i === 0 ? {} : { field: 'schedule', n: i, nested: { ok: true } },
          address: i % 2 === 0 ? '192.0.2.7' : null,
        }),
      );
    }
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7], 'increasing from 1, no gap');

    const all = await accounts.listAudit();
    assert.deepEqual(
      all.map((e) => e.seq),
      [7, 6, 5, 4, 3, 2, 1],
    );
    assert.deepEqual(all.at(-1), { seq: 1, at: T0, actor: 'ana', action: 'sign-in', target: null, detail: {}, address: '192.0.2.7' });
    assert.deepEqual(all[0], { seq: 7, at: later(6000), actor: 'ana', action: 'connector-edited', target: 'c0', detail: { field: 'schedule', n: 6, nested: { ok: true } }, address: '192.0.2.7' });

    const page1 = await accounts.listAudit({ limit: 3 });
    assert.deepEqual(
      page1.map((e) => e.seq),
      [7, 6, 5],
    );
    const page2 = await accounts.listAudit({ limit: 3, before: page1.at(-1)!.seq });
    assert.deepEqual(
      page2.map((e) => e.seq),
      [4, 3, 2],
    );
    assert.deepEqual(
      (await accounts.listAudit({ limit: 3, before: 2 })).map((e) => e.seq),
      [1],
    );
    assert.deepEqual(
      (await accounts.listAudit({ actor: 'cli:root' })).map((e) => e.seq),
      [6, 4, 2],
    );
    assert.deepEqual(
      (await accounts.listAudit({ target: 'c1' })).map((e) => e.seq),
      [5, 2],
    );
    assert.deepEqual(
      (await accounts.listAudit({ target: 'c1', actor: 'ana' })).map((e) => e.seq),
      [5],
    );
    assert.deepEqual(
      (await accounts.listAudit({ actor: 'ana', before: 5, limit: 1 })).map((e) => e.seq),
      [3],
    );
    assert.deepEqual(await accounts.listAudit({ actor: 'nobody' }), []);
    assert.equal((await accounts.listAudit({ limit: 0 })).length, 1, 'a limit is at least 1');
    assert.equal((await accounts.listAudit({ limit: Number.NaN })).length, 7, 'no limit given: a page of 100');
  });

  it('refuses any UPDATE or DELETE of the audit trail, even in raw SQL from another connection', async () => {
    await accounts.audit({ at: T0, actor: 'ana', action: 'sign-in', target: null, detail: {}, address: null });
    const refused = (statement: string, message: RegExp) => assert.rejects(db.exec(statement), message, statement);
    await refused("update audit set actor = 'mallory'", /append-only: no entry may be changed/);
    await refused('delete from audit', /append-only: no entry may be removed/);
    await refused('delete from audit where seq = 1', /append-only/);
    if (engine.name === 'SQLite') {
      await refused("insert or replace into audit (seq, at, actor, action, detail) values (1, 't', 'mallory', 'x', '{}')", /append-only: no entry may be replaced/);
      await refused("replace into audit (seq, at, actor, action, detail) values (1, 't', 'mallory', 'x', '{}')", /append-only/);
      await refused("insert into audit (seq, at, actor, action, detail) values (1, 't', 'mallory', 'x', '{}') on conflict (seq) do update set actor = 'mallory'", /append-only/);
      // INSERT OR REPLACE with recursive triggers on: the replaced row's delete trigger fires too.
      await refused("pragma recursive_triggers = ON; insert or replace into audit (seq, at, actor, action, detail) values (1, 't', 'mallory', 'x', '{}')", /append-only/);
    } else {
      await refused('truncate audit', /append-only: no entry may be removed/);
      // seq is GENERATED ALWAYS: an entry cannot be written over by choosing its number…
      await refused("insert into audit (seq, at, actor, action, detail) values (1, now(), 'mallory', 'x', '{}')", /cannot insert a non-DEFAULT value into column "seq"/);
      // …and forcing it into an upsert is an UPDATE, which the trigger refuses.
      await refused("insert into audit (seq, at, actor, action, detail) overriding system value values (1, now(), 'mallory', 'x', '{}') on conflict (seq) do update set actor = 'mallory'", /append-only: no entry may be changed/);
    }
    assert.deepEqual(await db.rows('select seq, actor from audit'), [{ seq: 1, actor: 'ana' }]);
  });
});
