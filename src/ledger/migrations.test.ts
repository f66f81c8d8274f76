import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Migrator, sql, type Kysely } from 'kysely';
import { LATEST_MIGRATION, LEDGER_MIGRATIONS, migrateLedger, migrationProvider } from './migrations/index.js';
import { openSqliteKysely, openSqliteLedger } from './sqlite.js';
import { rows, tempDir } from './test-support/ledgers.js';

describe('ledger migrations', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'ledger.db');
  });
  afterEach(() => tmp.remove());

  const schema = () => rows<{ type: string; name: string }>(path, "select type, name from sqlite_schema where name not like 'sqlite_%' and name not like 'kysely_%' order by type, name");
  const applied = () => rows<{ name: string }>(path, 'select name from kysely_migration order by name').map((r) => r.name);

  it('creates every table and index in a new file, and records each migration', async () => {
    const ledger = await openSqliteLedger(path);
    await ledger.close();
    assert.deepEqual(schema(), [
      { type: 'index', name: 'audit_by_actor' },
      { type: 'index', name: 'audit_by_target' },
      { type: 'index', name: 'deliveries_by_folder_state' },
      { type: 'index', name: 'evidence_open' },
      { type: 'index', name: 'items_by_container' },
      { type: 'index', name: 'run_parts_by_state' },
      { type: 'index', name: 'runs_by_connector' },
      { type: 'index', name: 'runs_by_parent' },
      { type: 'index', name: 'runs_unfinished' },
      { type: 'index', name: 'sessions_by_account' },
      { type: 'index', name: 'sso_pending_by_expiry' },
      { type: 'table', name: 'account_identities' },
      { type: 'table', name: 'accounts' },
      { type: 'table', name: 'audit' },
      { type: 'table', name: 'connector_leases' },
      { type: 'table', name: 'connectors' },
      { type: 'table', name: 'containers' },
      { type: 'table', name: 'deliveries' },
      { type: 'table', name: 'evidence' },
      { type: 'table', name: 'folders' },
      { type: 'table', name: 'items' },
      { type: 'table', name: 'run_failures' },
      { type: 'table', name: 'run_parts' },
      { type: 'table', name: 'runs' },
      { type: 'table', name: 'scheduled_slots' },
      { type: 'table', name: 'sessions' },
      { type: 'table', name: 'setup_token' },
      { type: 'table', name: 'source_files' },
      { type: 'table', name: 'sso_pending' },
      { type: 'table', name: 'workers' },
      { type: 'trigger', name: 'audit_no_delete' },
      { type: 'trigger', name: 'audit_no_replace' },
      { type: 'trigger', name: 'audit_no_update' },
    ]);
    assert.deepEqual(applied(), Object.keys(LEDGER_MIGRATIONS));
    assert.equal(applied().at(-1), LATEST_MIGRATION);
  });

  it('opens the file in WAL mode with foreign keys on', async () => {
    const { kysely } = openSqliteKysely(path);
    try {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(kysely);
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(kysely);
      const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(kysely);
      assert.deepEqual([mode.rows[0]?.journal_mode, fk.rows[0]?.foreign_keys, sync.rows[0]?.synchronous], ['wal', 1, 2 /* FULL */]);
    } finally {
      await kysely.destroy();
    }
  });

  it('migrates a ledger of the first version, keeping its rows', async () => {
    const { kysely } = openSqliteKysely(path);
    await migrateLedger(kysely as Kysely<unknown>, '0001_initial');
    await sql`insert into runs (id, command, started_at) values (1, 'xip import', '2026-01-01T00:00:00.000Z')`.execute(kysely);
    await sql`insert into containers (sha256, file, ok, first_seen, last_seen, first_run_id, last_run_id) values ('aa', 'a.xip', 1, 't', 't', 1, 1)`.execute(kysely);
    await sql`insert into folders (id, mailbox, folder) values (1, 'ana@corp.example', 'Inbox/XIP')`.execute(kysely);
    await sql`insert into deliveries (folder_id, message_id, state, ref, run_id, attempts, updated_at) values (1, '<1@xip.invalid>', 'delivered', '1:1', 1, 1, 't')`.execute(kysely);
    await kysely.destroy();
    assert.deepEqual(applied(), ['0001_initial']);
    assert.ok(!schema().some((s) => s.name === 'items_by_container'));

    const ledger = await openSqliteLedger(path);
    try {
      assert.deepEqual(applied(), Object.keys(LEDGER_MIGRATIONS));
      assert.ok(schema().some((s) => s.name === 'items_by_container'));
      assert.equal(await ledger.hasDeliveredTo('ana@corp.example', 'Inbox/XIP'), true);
      assert.equal((await ledger.getContainer('aa'))?.ok, true);
      assert.equal(await ledger.startRun({ startedAt: new Date(), command: 'again', host: 'h', pid: 1, leaseMs: 60_000 }), 2);
    } finally {
      await ledger.close();
    }
  });

  it('migrates a ledger of version 0002: its runs have no lease, so their pending copies are taken over as recheck', async () => {
    const { kysely } = openSqliteKysely(path);
    await migrateLedger(kysely as Kysely<unknown>, '0002_items_by_container');
    // Run 1 finished; run 2 died (never finished) with copy 2 pending; copy 1 was delivered.
    await sql`insert into runs (id, command, started_at, finished_at, ok, log) values (1, 'xip import', '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z', 1, '{}')`.execute(kysely);
    await sql`insert into runs (id, command, started_at) values (2, 'xip import', '2026-01-02T00:00:00.000Z')`.execute(kysely);
    await sql`insert into folders (id, mailbox, folder) values (1, 'ana@corp.example', 'Inbox/XIP')`.execute(kysely);
    await sql`insert into deliveries (folder_id, message_id, state, ref, run_id, attempts, updated_at) values (1, '<1@xip.invalid>', 'delivered', '1:1', 1, 1, 't'), (1, '<2@xip.invalid>', 'pending', null, 2, 1, 't')`.execute(kysely);
    await kysely.destroy();
    assert.ok(!schema().some((s) => s.name === 'run_failures'));

    const ledger = await openSqliteLedger(path);
    try {
      assert.deepEqual(applied(), Object.keys(LEDGER_MIGRATIONS));
      assert.deepEqual(rows(path, 'select id, host, pid, lease_until, code from runs order by id'), [
        { id: 1, host: null, pid: null, lease_until: null, code: null },
        { id: 2, host: null, pid: null, lease_until: null, code: null },
      ]);
      assert.deepEqual(await ledger.liveRuns(), [], 'a run from before leases is never live');
      assert.equal(await ledger.renewLease(2, 60_000), false);
      const run = await ledger.startRun({ startedAt: new Date(), command: 'xip import', host: 'h', pid: 1, leaseMs: 60_000 });
      assert.equal(run, 3);
      const answers = await ledger.claim('ana@corp.example', 'Inbox/XIP', ['<1@xip.invalid>', '<2@xip.invalid>', '<3@xip.invalid>'], run);
      assert.deepEqual([...answers.values()], [{ verdict: 'delivered', ref: '1:1' }, { verdict: 'recheck' }, { verdict: 'send' }]);
      assert.deepEqual(rows(path, 'select message_id, run_id, attempts, claimed_from from deliveries order by message_id'), [
        { message_id: '<1@xip.invalid>', run_id: 1, attempts: 1, claimed_from: null },
        { message_id: '<2@xip.invalid>', run_id: 3, attempts: 2, claimed_from: 'pending' },
        { message_id: '<3@xip.invalid>', run_id: 3, attempts: 1, claimed_from: null },
      ]);
      await ledger.recordFailures(2, [{ itemId: 'i', sourceUserId: null, mailbox: null, code: 'X', reason: 'y' }]);
      assert.deepEqual(await ledger.getFailures(2), [{ itemId: 'i', sourceUserId: null, mailbox: null, code: 'X', reason: 'y' }]);
    } finally {
      await ledger.close();
    }
  });

  it('refuses a ledger written by a newer version, naming the migration it does not know', async () => {
    const ledger = await openSqliteLedger(path);
    await ledger.close();
    const { kysely } = openSqliteKysely(path);
    await sql`insert into kysely_migration (name, timestamp) values ('9999_future', '2030-01-01T00:00:00.000Z')`.execute(kysely);
    await kysely.destroy();
    await assert.rejects(openSqliteLedger(path), {
      code: 'LEDGER_ERROR',
      detail: `opening the ledger ${path}: the ledger has migration 9999_future, which this version does not know: it was written by a newer xip-connector`,
    });
  });

  it('applies a migration whole or not at all (SQLite runs DDL in transactions)', async () => {
    const { kysely } = openSqliteKysely(path);
    try {
      const migrator = new Migrator({
        db: kysely,
        provider: migrationProvider({
          ...LEDGER_MIGRATIONS,
          '9999_breaks_halfway': {
            up: async (db: Kysely<unknown>) => {
              await db.schema.createTable('half').addColumn('x', 'integer').execute();
              await sql`select * from no_such_table`.execute(db);
            },
          },
        }),
      });
      const { error, results } = await migrator.migrateToLatest();
      assert.ok(error, 'the broken migration should fail');
      // Kysely reports the migrations before the broken one as "Success"; the file says otherwise.
      assert.equal(results?.at(-1)?.status, 'Error');
    } finally {
      await kysely.destroy();
    }
    assert.deepEqual(schema(), [], 'nothing of the failed run of migrations should remain');
  });
});
