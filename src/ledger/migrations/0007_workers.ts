// The workers of an installation (issue 12, `xip status`): each `xip serve`
// writes its row at start, beats every few seconds (heartbeat_at, doing) and
// deletes it on a clean stop. A killed worker's row stays with an old
// heartbeat: that is how `xip status` tells it is gone. No foreign key: a
// row says only what a process last reported about itself.
import type { Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('started_at', t.time, (c) => c.notNull())
    .addColumn('heartbeat_at', t.time, (c) => c.notNull())
    .addColumn('doing', 'text')
    .addColumn('version', 'text', (c) => c.notNull())
    .execute();
}
