// The Ledger contract (test-support/contract.ts) against every implementation:
// SQLite through both delivery writers, and the in-memory test adapter.
import { join } from 'node:path';
import { ledgerContract } from './test-support/contract.js';
import { rows, tempDir, WRITERS } from './test-support/ledgers.js';
import { InMemoryLedger } from './test-support/memory-ledger.js';

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

ledgerContract('InMemoryLedger (test adapter)', async (now) => {
  const ledger = new InMemoryLedger({ now });
  return { ledger, attempts: (k) => ledger.attempts(k) };
});
