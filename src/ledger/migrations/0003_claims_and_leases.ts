// Claims with leases (issue 7, src/ports/ledger.ts): two runs of the same
// container on one ledger must not both send a copy.
//
// - runs: where the run's process lives (host, pid), until when its lease
//   holds (lease_until, ISO 8601 UTC text like every time here; NULL for runs
//   written before this migration, which count as lapsed: their processes
//   belonged to a version without leases), and the code of the error that
//   ended it.
// - deliveries.claimed_from: the state the copy was in when its current claim
//   was taken (NULL: the claim created it). The claim's conditional upsert
//   copies it from the row it replaces and returns it (RETURNING), so `send`
//   and `recheck` are told apart from the very row version the claim's guard
//   accepted, not from an earlier read that another run may have overtaken
//   (claims.ts).
// - run_failures: every failure of a run, in order; the run log keeps a
//   capped list only.
//
// Indexes: the claim needs none of its own. Its conflict target is the
// primary key of deliveries, and its guard looks the owner up by the primary
// key of runs. liveRuns reads runs_unfinished, a partial index that holds
// only the runs not finished (a few), not every run ever made.
import { sql, type Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('runs').addColumn('host', 'text').execute();
  await db.schema.alterTable('runs').addColumn('pid', 'integer').execute();
  await db.schema.alterTable('runs').addColumn('lease_until', t.time).execute();
  await db.schema.alterTable('runs').addColumn('code', 'text').execute();
  await db.schema.createIndex('runs_unfinished').on('runs').column('lease_until').where(sql.ref('finished_at'), 'is', null).execute();

  await db.schema
    .alterTable('deliveries')
    .addColumn('claimed_from', 'text', (c) => c.check(sql`claimed_from is null or claimed_from = 'pending' or claimed_from = 'failed'`))
    .execute();

  await db.schema
    .createTable('run_failures')
    .addColumn('run_id', 'integer', (c) => c.notNull().references('runs.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('item_id', 'text')
    .addColumn('source_user_id', 'text')
    .addColumn('mailbox', 'text')
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('entry', 'text')
    .addColumn('line', 'integer')
    .addColumn('file', 'text')
    .addPrimaryKeyConstraint('run_failures_pk', ['run_id', 'seq'])
    .execute();
}
