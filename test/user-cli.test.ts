// `xip user` through the installed command, as an admin runs it, with state
// under a throwaway XIP_HOME; and the password policy and hashing it uses.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARGON2_OPTIONS, checkPassword, DUMMY_HASH, hashPassword, needsRehash, verifyOrDummy, verifyPassword } from '../src/home/passwords.js';
import { openSqliteState } from '../src/ledger/sqlite.js';
import { rows } from '../src/ledger/test-support/ledgers.js';
import type { Session } from '../src/ports/account-store.js';
import { tempDir } from '../src/xip/test-support/container.js';
import { runXip, type CliResult } from './support/cli.js';

const PASSWORD = 'correct horse battery staple';
const ACTOR = `cli:${userInfo().username}`;

let dir: string;
let home: string;
const database = () => join(home, 'xip.db');
const env = () => ({ XIP_HOME: home, XIP_SECRET_KEY: '', XIP_USER_PASSWORD: '' });
const xip = (args: string[], extra: NodeJS.ProcessEnv = {}) => runXip(args, { cwd: dir, env: { ...env(), ...extra } });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

/** The installed command with `input` on its standard input. */
function xipWithStdin(args: string[], input: string): Promise<CliResult> {
  return runXip(args, { cwd: dir, env: env(), input });
}

/** Works on the installation's stores directly, as `xip serve` would between two commands. */
async function withState<T>(body: (s: Awaited<ReturnType<typeof openSqliteState>>) => Promise<T>): Promise<T> {
  const state = await openSqliteState(database());
  try {
    return await body(state);
  } finally {
    await state.ledger.close();
  }
}

const session = (idHash: string, account: string): Omit<Session, 'revokedAt'> => ({
  idHash,
  account,
  role: 'viewer',
  csrfSecret: 'csrf',
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 3_600_000),
  address: '192.0.2.7',
});

const storedHash = (name: string) => rows<{ password_hash: string | null }>(database(), 'select password_hash from accounts where name = ?', name)[0]?.password_hash;

before(async () => {
  dir = await tempDir('xip-user-cli-');
  home = join(dir, 'var');
});
after(async () => rm(dir, { recursive: true, force: true }));

describe('xip user', () => {
  it('add takes the password from XIP_USER_PASSWORD and stores only its argon2id hash', async () => {
    const added = await xip(['user', 'add', 'ana@corp.example', '--role', 'connector-admin', '--json'], { XIP_USER_PASSWORD: PASSWORD });
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(json(added.stdout), { ok: true, name: 'ana@corp.example', role: 'connector-admin' });
    const hash = storedHash('ana@corp.example');
    assert.match(hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await verifyPassword(hash!, PASSWORD), true);
    for (const file of ['xip.db', 'xip.db-wal']) {
      const bytes = await readFile(join(home, file)).catch(() => Buffer.alloc(0));
      assert.equal(bytes.includes(PASSWORD), false, `the password is nowhere in ${file}`);
    }
  });

  it('add refuses a weak or missing password, a bad name or role, and a taken name', async () => {
    const short = await xip(['user', 'add', 'bo', '--role', 'viewer'], { XIP_USER_PASSWORD: 'elevenchars' });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /^USAGE: .*the password is too short: it must be at least 12 characters long/);
    const none = await xip(['user', 'add', 'bo', '--role', 'viewer']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^USAGE: .*no password: set XIP_USER_PASSWORD, or give --password-stdin/);
    const badName = await xip(['user', 'add', 'bo/../x', '--role', 'viewer'], { XIP_USER_PASSWORD: PASSWORD });
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /^USAGE: .*account name "bo\/\.\.\/x": must be 1 to 64 letters/);
    const longName = await xip(['user', 'add', 'a'.repeat(65), '--role', 'viewer'], { XIP_USER_PASSWORD: PASSWORD });
    assert.match(longName.stderr, /^USAGE: /);
    const badRole = await xip(['user', 'add', 'bo', '--role', 'root'], { XIP_USER_PASSWORD: PASSWORD });
    assert.equal(badRole.code, 2);
    assert.match(badRole.stderr, /^USAGE: .*role "root": must be one of connector-admin, viewer, auditor/);
    const noRole = await xip(['user', 'add', 'bo'], { XIP_USER_PASSWORD: PASSWORD });
    assert.equal(noRole.code, 2);
    const again = await xip(['user', 'add', 'ana@corp.example', '--role', 'viewer'], { XIP_USER_PASSWORD: PASSWORD });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^ACCOUNT_EXISTS: /);
    const againJson = await xip(['user', 'add', 'ana@corp.example', '--role', 'viewer', '--json'], { XIP_USER_PASSWORD: PASSWORD });
    assert.equal(json(againJson.stdout).code, 'ACCOUNT_EXISTS');
    const flag = await xip(['user', 'add', 'bo', '--role', 'viewer', '--password', PASSWORD]);
    assert.equal(flag.code, 2, 'there is no --password flag');
    assert.deepEqual(
      rows<{ name: string }>(database(), 'select name from accounts').map((r) => r.name),
      ['ana@corp.example'],
    );
  });

  it('add and passwd read the first line of standard input with --password-stdin', async () => {
    const added = await xipWithStdin(['user', 'add', 'bo', '--role', 'viewer', '--password-stdin'], 'bo has a long password\r\nsecond line\n');
    assert.equal(added.code, 0, added.stderr);
    assert.equal(await verifyPassword(storedHash('bo')!, 'bo has a long password'), true);
    const short = await xipWithStdin(['user', 'passwd', 'bo', '--password-stdin'], 'short\n');
    assert.match(short.stderr, /^USAGE: .*too short/);
    const empty = await xipWithStdin(['user', 'add', 'cy', '--role', 'viewer', '--password-stdin'], '');
    assert.match(empty.stderr, /^USAGE: .*too short/);
  });

  it('list shows name, role, when added and whether disabled, never a hash', async () => {
    const listed = await xip(['user', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const accounts = json(listed.stdout).accounts as Record<string, unknown>[];
    assert.deepEqual(
      accounts.map((a) => [a.name, a.role, a.disabled, a.hasPassword, typeof a.createdAt]),
      [
        ['ana@corp.example', 'connector-admin', false, true, 'string'],
        ['bo', 'viewer', false, true, 'string'],
      ],
    );
    assert.deepEqual(Object.keys(accounts[0]!).sort(), ['createdAt', 'disabled', 'hasPassword', 'name', 'role']);
    const text = await xip(['user', 'list']);
    for (const out of [listed.stdout, text.stdout]) assert.doesNotMatch(out, /argon2|\$v=19/);
    assert.match(text.stdout, /^ana@corp\.example +connector-admin +\d{4}-\d\d-\d\dT[\d:.]+Z +enabled$/m);
  });

  it('passwd sets a new password and revokes the account’s sessions', async () => {
    await withState(async ({ accounts }) => {
      await accounts.createSession(session('ana-1', 'ana@corp.example'));
      await accounts.createSession(session('ana-2', 'ana@corp.example'));
      await accounts.createSession(session('bo-1', 'bo'));
    });
    const changed = await xip(['user', 'passwd', 'ana@corp.example', '--json'], { XIP_USER_PASSWORD: 'a brand new passphrase' });
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(json(changed.stdout), { ok: true, name: 'ana@corp.example', sessionsRevoked: 2 });
    assert.equal(await verifyPassword(storedHash('ana@corp.example')!, 'a brand new passphrase'), true);
    assert.equal(await verifyPassword(storedHash('ana@corp.example')!, PASSWORD), false);
    await withState(async ({ accounts }) => {
      assert.equal(await accounts.liveSession('ana-1', new Date()), undefined);
      assert.equal(await accounts.liveSession('ana-2', new Date()), undefined);
      assert.ok(await accounts.liveSession('bo-1', new Date()), "another account's session stays");
    });
    const missing = await xip(['user', 'passwd', 'nobody'], { XIP_USER_PASSWORD: PASSWORD });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^ACCOUNT_NOT_FOUND: /);
    await withState(({ accounts }) => accounts.createSsoAccount({ name: 'sso.user', role: 'viewer', identity: { issuer: 'https://idp.example/v2.0', subject: 's-1' }, at: new Date() }));
    const sso = await xip(['user', 'passwd', 'sso.user'], { XIP_USER_PASSWORD: PASSWORD });
    assert.equal(sso.code, 2);
    assert.match(sso.stderr, /^ACCOUNT_SSO: /);
    assert.equal(storedHash('sso.user'), null, 'no password was stored');
  });

  it('role changes the role its sessions carry', async () => {
    const changed = await xip(['user', 'role', 'bo', 'auditor']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /account bo now has the role auditor \(was viewer\)/);
    await withState(async ({ accounts }) => assert.equal((await accounts.liveSession('bo-1', new Date()))?.role, 'auditor'));
    const same = await xip(['user', 'role', 'bo', 'auditor', '--json']);
    assert.deepEqual(json(same.stdout), { ok: true, name: 'bo', role: 'auditor', changed: false });
    const bad = await xip(['user', 'role', 'bo', 'admin']);
    assert.match(bad.stderr, /^USAGE: .*role "admin"/);
    assert.match((await xip(['user', 'role', 'nobody', 'viewer'])).stderr, /^ACCOUNT_NOT_FOUND: /);
  });

  it('disable revokes the sessions and keeps the account out; enable lets it back in', async () => {
    const disabled = await xip(['user', 'disable', 'bo', '--json']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.deepEqual(json(disabled.stdout), { ok: true, name: 'bo', disabled: true, changed: true, sessionsRevoked: 1 });
    assert.match((await xip(['user', 'disable', 'bo'])).stdout, /already disabled/);
    await withState(async ({ accounts }) => {
      assert.equal((await accounts.getAccount('bo'))?.disabled, true);
      assert.equal(await accounts.liveSession('bo-1', new Date()), undefined);
      await accounts.createSession(session('bo-2', 'bo'));
      assert.equal(await accounts.liveSession('bo-2', new Date()), undefined, 'no live session while disabled');
    });
    assert.match((await xip(['user', 'list'])).stdout, /^bo +auditor +\S+ +disabled$/m);
    const enabled = await xip(['user', 'enable', 'bo']);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stdout, /account bo enabled/);
    await withState(async ({ accounts }) => {
      assert.equal((await accounts.getAccount('bo'))?.disabled, false);
      assert.equal(await accounts.liveSession('bo-1', new Date()), undefined, 'a revoked session stays revoked');
      assert.ok(await accounts.liveSession('bo-2', new Date()));
    });
  });

  it('sessions revoke signs an account out everywhere', async () => {
    const revoked = await xip(['user', 'sessions', 'revoke', 'bo']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /^1 session of bo revoked$/m);
    await withState(async ({ accounts }) => assert.equal(await accounts.liveSession('bo-2', new Date()), undefined));
    assert.match((await xip(['user', 'sessions', 'revoke', 'nobody'])).stderr, /^ACCOUNT_NOT_FOUND: /);
  });

  it('every change is in the audit trail, by cli:<OS user>, with no address and no secret', async () => {
    const trail = await withState(({ accounts }) => accounts.listAudit());
    assert.deepEqual(
      trail.reverse().map((e) => [e.actor, e.action, e.target, e.detail, e.address]),
      [
        [ACTOR, 'user-added', 'ana@corp.example', { role: 'connector-admin' }, null],
        [ACTOR, 'user-added', 'bo', { role: 'viewer' }, null],
        [ACTOR, 'user-password-changed', 'ana@corp.example', { sessionsRevoked: 2 }, null],
        [ACTOR, 'user-role-changed', 'bo', { from: 'viewer', to: 'auditor' }, null],
        [ACTOR, 'user-disabled', 'bo', { sessionsRevoked: 1 }, null],
        [ACTOR, 'user-enabled', 'bo', {}, null],
        [ACTOR, 'sessions-revoked', 'bo', { sessionsRevoked: 1 }, null],
      ],
    );
    const raw = JSON.stringify(rows(database(), 'select * from audit'));
    assert.doesNotMatch(raw, /argon2|passphrase|correct horse/);
  });
});

describe('passwords', () => {
  it('asks for 12 to 1024 characters, counted as characters after NFKC', () => {
    assert.throws(() => checkPassword('a'.repeat(11)), { code: 'USAGE', detail: /too short: it must be at least 12 characters/ });
    checkPassword('a'.repeat(12));
    checkPassword('🔑'.repeat(12)); // 24 UTF-16 units, 12 characters
    assert.throws(() => checkPassword('🔑'.repeat(11)), { code: 'USAGE' });
    checkPassword('a'.repeat(1024));
    assert.throws(() => checkPassword('a'.repeat(1025)), { code: 'USAGE', detail: /too long: it must be at most 1024 characters/ });
  });

  it('hashes with argon2id at the OWASP parameters, salted, and verifies in either Unicode form', async () => {
    const a = await hashPassword('crème brûlée for two');
    const b = await hashPassword('crème brûlée for two');
    assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.notEqual(a, b, 'a new salt each time');
    assert.equal(needsRehash(a), false);
    assert.equal(await verifyPassword(a, 'crème brûlée for two'), true);
    assert.equal(await verifyPassword(a, 'cre\u0300me bru\u0302le\u0301e for two'), true, 'decomposed, as another keyboard may type it');
    assert.equal(await verifyPassword(a, 'creme brulee for two'), false);
    assert.equal(await verifyPassword('not a hash', 'x'), false, 'an unreadable hash verifies nothing');
    assert.equal(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$Lncrm1MErU95Zy91sR571g$OE86BCBnbfFbQMRf8RASCUtD3KtCIRxsSXdt9zyIfbs'), true);
    assert.deepEqual(ARGON2_OPTIONS, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('verifyOrDummy does the same work for no account and says no', async () => {
    assert.equal(needsRehash(DUMMY_HASH), false, 'the dummy costs what a real hash costs');
    const real = await hashPassword(PASSWORD);
    assert.equal(await verifyOrDummy(real, PASSWORD), true);
    assert.equal(await verifyOrDummy(real, 'wrong password!'), false);
    assert.equal(await verifyOrDummy(null, PASSWORD), false);
    assert.equal(await verifyOrDummy(null, ''), false);
    // The quickest of a few tries each (the least disturbed by the rest of the machine): the same cost, give or take.
    const time = async (hash: string | null) => {
      let best = Infinity;
      for (let i = 0; i < 4; i++) {
        const t = process.hrtime.bigint();
        await verifyOrDummy(hash, 'wrong password!');
        best = Math.min(best, Number(process.hrtime.bigint() - t));
      }
      return best;
    };
    const [withAccount, without] = [await time(real), await time(null)];
    assert.ok(without > withAccount / 4 && without < withAccount * 4, `no account: ${without} ns, an account: ${withAccount} ns`);
  });
});
