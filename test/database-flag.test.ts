// --database URL (issue 12): the installation's PostgreSQL database named on
// the command line, before or after the command, as XIP_DATABASE_URL would;
// its password from PGPASSWORD, never from the command line: a URL with one
// is refused (USAGE) without echoing it.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPostgresDatabases, type PostgresDatabases } from '../src/ledger/test-support/postgres-databases.js';
import { tempDir } from '../src/xip/test-support/container.js';
import { runXip } from './support/cli.js';

let dir: string;
let dbs: PostgresDatabases;
before(async () => {
  dir = await tempDir('xip-database-flag-');
  dbs = await startPostgresDatabases();
});
after(async () => {
  await dbs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('xip --database', () => {
  it('opens the PostgreSQL database it names, before or after the command, with the password from PGPASSWORD', async () => {
    const url = await dbs.empty();
    const bare = new URL(url);
    bare.password = '';
    const env = { XIP_HOME: join(dir, 'home'), XIP_DATABASE_URL: '', PGPASSWORD: dbs.server.password, XIP_SECRET_KEY: '' };
    for (const args of [['status', '--database', bare.href, '--json'], ['--database', bare.href, 'status', '--json']]) {
      const r = await runXip(args, { env });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { workers: [] });
    }
    // It migrated that database: the flag was used, not the SQLite file of XIP_HOME.
    assert.equal((await dbs.query<{ n: number }>(url, "select count(*)::int as n from kysely_migration"))[0]!.n > 0, true);
  });

  it('refuses a URL with a password, without printing it, and a URL that is not postgres://', async () => {
    const url = await dbs.empty();
    const env = { XIP_HOME: join(dir, 'home2'), XIP_DATABASE_URL: '' };
    const withPassword = await runXip(['status', '--database', url], { env });
    assert.equal(withPassword.code, 2);
    assert.match(withPassword.stderr, /^USAGE: --database must not carry a password/m);
    assert.ok(!(withPassword.stdout + withPassword.stderr).includes(dbs.server.password), 'the password is not echoed');
    const other = await runXip(['status', '--database', 'mysql://x@127.0.0.1/db'], { env });
    assert.equal(other.code, 2);
    assert.match(other.stderr, /^USAGE: --database must be postgres:\/\//m);
  });
});
