// The parts of shared runs (issue 12, ports/run-parts.ts): a connector's run
// cuts a container's items into parts that every worker claims, one row per
// part. end_seq NULL: the part runs to the container's end. A part's import
// is a run of its own, whose parent_run_id names the connector's run (its
// failures are the parent's too).
import type { Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('run_parts')
    .addColumn('run_id', 'integer', (c) => c.notNull())
    .addColumn('container', 'text', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('connector', 'text', (c) => c.notNull())
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('first_seq', 'integer', (c) => c.notNull())
    .addColumn('end_seq', 'integer')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('worker', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('lease_until', t.time)
    .addColumn('log', 'text')
    .addColumn('opened_at', t.time, (c) => c.notNull())
    .addColumn('done_at', t.time)
    .addPrimaryKeyConstraint('run_parts_pk', ['run_id', 'container', 'idx'])
    .execute();
  await db.schema.createIndex('run_parts_by_state').on('run_parts').columns(['state', 'run_id', 'container', 'idx']).execute();
  await db.schema.alterTable('runs').addColumn('parent_run_id', 'integer').execute();
  await db.schema.createIndex('runs_by_parent').on('runs').column('parent_run_id').execute();
}
