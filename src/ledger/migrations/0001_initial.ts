// The ledger's tables. Migrations take Kysely<unknown>: they must not depend
// on the current schema types, which describe the latest version only.
//
// Foreign keys: a container and a delivery name their run, an item names its
// container. A delivery does not name its item: the orchestrator marks copies
// pending as soon as a batch is full, and records its items in batches of its
// own, so a copy may exist before its item does (port.ts).
//
// Checks are written with OR, not IN: SQLite evaluates `x IN (list)` through
// a temporary table built at each execution of a statement, which is once per
// row of a bulk upsert (measured: 100,000 copies 40% slower).
import { sql, type Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  // SQLite: "integer primary key" is the rowid, assigned on insert; PostgreSQL:
  // an identity column (engine.ts).
  await db.schema
    .createTable('runs')
    .addColumn('id', 'integer', t.id('by-default'))
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('started_at', t.time, (c) => c.notNull())
    .addColumn('finished_at', t.time)
    .addColumn('ok', t.flag, t.flagCheck('ok'))
    .addColumn('log', 'text')
    .execute();

  await db.schema
    .createTable('containers')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('ok', t.flag, t.flagCheck('ok', (c) => c.notNull()))
    .addColumn('code', 'text')
    .addColumn('message', 'text')
    .addColumn('signer_subject', 'text')
    .addColumn('signer_sha256', 'text')
    .addColumn('source', 'text')
    .addColumn('items_declared', 'integer')
    .addColumn('first_seen', t.time, (c) => c.notNull())
    .addColumn('last_seen', t.time, (c) => c.notNull())
    .addColumn('first_run_id', 'integer', (c) => c.notNull().references('runs.id'))
    .addColumn('last_run_id', 'integer', (c) => c.notNull().references('runs.id'))
    .execute();

  await db.schema
    .createTable('items')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('container_sha256', 'text', (c) => c.notNull().references('containers.sha256'))
    .addColumn('entry', 'text', (c) => c.notNull())
    .addColumn('line', 'integer')
    .addColumn('ok', t.flag, t.flagCheck('ok', (c) => c.notNull()))
    .addColumn('code', 'text')
    .addColumn('message', 'text')
    .addColumn('recorded_at', t.time, (c) => c.notNull())
    .execute();

  // A copy's key is (message, mailbox, folder); the mailbox and folder are
  // stored once, in folders, and deliveries name them by id. Measured on
  // 100,000 copies: a third faster to write and 40% smaller than repeating
  // the two strings in every row and in both indexes.
  await db.schema
    .createTable('folders')
    .addColumn('id', 'integer', t.id('by-default'))
    .addColumn('mailbox', 'text', (c) => c.notNull())
    .addColumn('folder', 'text', (c) => c.notNull())
    .addUniqueConstraint('folders_mailbox_folder', ['mailbox', 'folder'])
    .execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('folder_id', 'integer', (c) => c.notNull().references('folders.id'))
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state = 'pending' or state = 'delivered' or state = 'failed'`))
    .addColumn('ref', 'text')
    .addColumn('code', 'text')
    .addColumn('reason', 'text')
    .addColumn('run_id', 'integer', (c) => c.notNull().references('runs.id'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('deliveries_pk', ['folder_id', 'message_id'])
    .execute();

  // hasDeliveredTo and pendingFor: both are one range of this index.
  await db.schema.createIndex('deliveries_by_folder_state').on('deliveries').columns(['folder_id', 'state']).execute();
}
