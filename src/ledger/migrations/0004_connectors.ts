// Connectors (issue 9): configured once, run every day from a source.
//
// - connectors: one row per connector; its configuration is JSON text
//   validated once (connector/config.ts) with its secrets sealed
//   (home/secrets.ts). Removing a connector deletes this row only: its runs,
//   logs and evidence stay until an admin prunes them.
// - runs.connector, runs.trigger: which connector a run belongs to
//   ('schedule', 'manual', 'resume'); null for `xip import` runs.
// - connector_leases: at most one run of a connector at a time, across
//   processes and hosts. A holder keeps its lease by renewing it; a lease that
//   lapsed, or whose holder is known dead (same host, pid gone), is taken
//   over by one conditional upsert (connector-store.ts).
// - source_files: what a connector took from its source, keyed by the
//   listing (name, size, modification time): a file listed again unchanged
//   is not fetched again. `sha256` is set once the file is in the evidence
//   store; `done_run_id` once a run processed it to a final verdict.
// - evidence: what the evidence store holds, with the first name and
//   connector it came from and its processing state. `done_run_id` is set
//   when a run processed the container to the end with no copy left to retry
//   (a rejected file is final at once); until then every run of a connector
//   that holds it takes it up again (the ledger's claims skip what was
//   delivered).
import { sql, type Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('connectors')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('paused', t.flag, (c) => c.notNull().defaultTo(t.no))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema.alterTable('runs').addColumn('connector', 'text').execute();
  await db.schema.alterTable('runs').addColumn('trigger', 'text').execute();
  await db.schema.createIndex('runs_by_connector').on('runs').columns(['connector', 'id']).execute();

  await db.schema
    .createTable('connector_leases')
    .addColumn('connector', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('lease_until', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('source_files')
    .addColumn('connector', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', t.size, (c) => c.notNull())
    .addColumn('modified', t.time, (c) => c.notNull())
    .addColumn('sha256', 'text')
    .addColumn('first_seen', t.time, (c) => c.notNull())
    .addColumn('run_id', 'integer')
    .addPrimaryKeyConstraint('source_files_pk', ['connector', 'name', 'size', 'modified'])
    .execute();

  await db.schema
    .createTable('evidence')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('size', t.size, (c) => c.notNull())
    .addColumn('stored_at', t.time, (c) => c.notNull())
    .addColumn('first_connector', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('done_run_id', 'integer')
    .addColumn('done_at', t.time)
    .addColumn('ok', t.flag)
    .addColumn('code', 'text')
    .execute();
  await db.schema.createIndex('evidence_open').on('evidence').column('first_connector').where(sql.ref('done_run_id'), 'is', null).execute();
}
