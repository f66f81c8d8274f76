// The Ledger contract (test-support/contract.ts) against every implementation:
// SQLite through both delivery writers, PostgreSQL (a real server, one per
// file, a fresh database per test), and the in-memory test adapter.
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openPostgresState } from './postgres.js';
import { ledgerContract } from './test-support/contract.js';
import { rows, tempDir, WRITERS } from './test-support/ledgers.js';
import { InMemoryLedger } from './test-support/memory-ledger.js';
import { startPostgresDatabases, type PostgresDatabases } from './test-support/postgres-databases.js';

for (const [writer, open] of WRITERS) {
  ledgerContract(`SQLite, ${writer}`, async (now) => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'ledger.db');
    return {
      ledger: await open(path, now),
      attempts: (k) =>
        rows<{ attempts: number }>(path, 'select attempts from deliveries join folders on folders.id = folder_id where mailbox = ? and folder = ? and message_id = ?', k.mailbox, k.folder, k.messageId)[0]?.attempts,
      dispose: tmp.remove,
    };
  });
}

let postgres: PostgresDatabases;
before(async () => {
  postgres = await startPostgresDatabases();
});
after(() => postgres?.stop());

ledgerContract('PostgreSQL (portable Kysely statements)', async (now) => {
  const url = await postgres.migrated();
  const { ledger } = await openPostgresState(url, { now });
  return {
    ledger,
    attempts: async (k) =>
      (
        await postgres.query<{ attempts: number }>(url, 'select attempts from deliveries join folders on folders.id = folder_id where mailbox = $1 and folder = $2 and message_id = $3', [k.mailbox, k.folder, k.messageId])
      )[0]?.attempts,
  };
});

ledgerContract('InMemoryLedger (test adapter)', async (now) => {
  const ledger = new InMemoryLedger({ now });
  return { ledger, attempts: (k) => ledger.attempts(k) };
});
