// The items of a container (what the console and a re-import report list for
// one XIP file) without reading every item: items are written once per import,
// so the index costs little where the ledger is hot (deliveries).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('items_by_container').on('items').column('container_sha256').execute();
}
