// node --import tsx bench/ledger.ts — markPending, markDelivered and
// getDeliveries for XIP_BENCH_COPIES copies (default 100,000) in one call
// each, on a ledger file in a temporary directory (WAL, synchronous=FULL),
// spread over 50 mailboxes with random Message-IDs. Best of 3, for both
// delivery writers: the SQLite adapter's prepared statement, and the portable
// Kysely statements a Postgres adapter would start from.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CopyKey } from '../src/ledger/port.js';
import { WRITERS } from '../src/ledger/test-support/ledgers.js';

const N = Number(process.env.XIP_BENCH_COPIES ?? 100_000);
const RUNS = 3;

console.log(`${N.toLocaleString('en')} copies, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, best of ${RUNS}`);
for (const [writer, open] of WRITERS) {
  const best: Record<string, number> = {};
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'xip-ledger-bench-'));
    try {
      const ledger = await open(join(dir, 'ledger.db'));
      const runId = await ledger.startRun({ startedAt: new Date(), command: 'bench' });
      const keys: CopyKey[] = Array.from({ length: N }, (_, i) => ({
        messageId: `<${randomBytes(16).toString('hex')}@xip.invalid>`,
        mailbox: `user${i % 50}@corp.example`,
        folder: 'Inbox/XIP',
      }));
      const time = async (name: string, f: () => Promise<unknown>) => {
        const t = performance.now();
        await f();
        best[name] = Math.min(best[name] ?? Infinity, performance.now() - t);
      };
      await time('markPending (new copies)', () => ledger.markPending(keys, runId));
      await time('markDelivered', () => ledger.markDelivered(keys.map((k, i) => ({ ...k, ref: `1:${i}` })), runId));
      await time('getDeliveries', () => ledger.getDeliveries(keys));
      await time('markPending (again)', () => ledger.markPending(keys, runId));
      await ledger.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(writer);
  for (const [name, ms] of Object.entries(best)) {
    console.log(`  ${name.padEnd(26)} ${ms.toFixed(0).padStart(6)} ms  ${Math.round(N / (ms / 1000)).toLocaleString('en').padStart(9)} copies/s`);
  }
}
