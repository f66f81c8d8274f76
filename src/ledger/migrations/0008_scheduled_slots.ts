// Scheduled slots (issue 12, several `xip serve` on one database): each
// scheduled run of a connector starts once across the workers. A worker whose
// cron fires inserts (connector, scheduled_for) before it runs; the primary
// key lets one insert in, and the others see the row and skip the run
// (SLOT_TAKEN). `worker` is the id its heartbeat registers (0007_workers),
// for an operator asking who ran a slot; no foreign key, since the worker's
// row goes when it stops. Rows older than 30 days are pruned when a slot is
// claimed (connector-store.ts).
import type { Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('scheduled_slots')
    .addColumn('connector', 'text', (c) => c.notNull())
    .addColumn('scheduled_for', t.time, (c) => c.notNull())
    .addColumn('worker', 'text', (c) => c.notNull())
    .addColumn('claimed_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('scheduled_slots_pk', ['connector', 'scheduled_for'])
    .execute();
}
