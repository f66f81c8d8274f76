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
      { type: 'index', name: 'deliveries_by_folder_state' },
      { type: 'index', name: 'items_by_container' },
      { type: 'table', name: 'containers' },
      { type: 'table', name: 'deliveries' },
      { type: 'table', name: 'folders' },
      { type: 'table', name: 'items' },
      { type: 'table', name: 'runs' },
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
      assert.equal(await ledger.startRun({ startedAt: new Date(), command: 'again' }), 2);
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
