// node --import tsx bench/ledger.ts — the ledger's hot path for
// XIP_BENCH_COPIES copies (default 100,000) spread over 50 mailboxes with
// random Message-IDs, on a ledger file in a temporary directory (WAL,
// synchronous=FULL), best of 3, for both delivery writers: the SQLite
// adapter's prepared statements, and the portable Kysely statements a
// Postgres adapter would start from.
//
// Claims are timed as the import run takes them: one call per batch of
// XIP_BENCH_BATCH copies (default 500) of one mailbox folder, so one commit
// (one fsync of the WAL) per batch. The yardstick is what the same copies
// cost before claims: markPending of 100,000 copies in one call, about
// 0.55 s on the prepared statement (commit 13b2a66, bench/RESULTS.md).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CopyKey, Ledger } from '../src/ledger/port.js';
import { WRITERS } from '../src/ledger/test-support/ledgers.js';

const N = Number(process.env.XIP_BENCH_COPIES ?? 100_000);
const BATCH = Number(process.env.XIP_BENCH_BATCH ?? 500);
const RUNS = 3;
const MARK_PENDING_MS_PER_100K = 550;
const LEASE = { host: 'bench', pid: process.pid, leaseMs: 600_000 };

/** Claims every copy in batches of BATCH per mailbox folder; returns how many were answered `verdict`. */
async function claimAll(ledger: Ledger, byMailbox: Map<string, string[]>, runId: number, verdict: string): Promise<number> {
  let n = 0;
  for (const [mailbox, ids] of byMailbox) {
    for (let i = 0; i < ids.length; i += BATCH) {
      for (const claim of (await ledger.claim(mailbox, 'Inbox/XIP', ids.slice(i, i + BATCH), runId)).values()) if (claim.verdict === verdict) n++;
    }
  }
  return n;
}

console.log(`${N.toLocaleString('en')} copies, batches of ${BATCH}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, best of ${RUNS}`);
for (const [writer, open] of WRITERS) {
  const best: Record<string, number> = {};
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'xip-ledger-bench-'));
    try {
      const ledger = await open(join(dir, 'ledger.db'));
      const keys: CopyKey[] = Array.from({ length: N }, (_, i) => ({
        messageId: `<${randomBytes(16).toString('hex')}@xip.invalid>`,
        mailbox: `user${i % 50}@corp.example`,
        folder: 'Inbox/XIP',
      }));
      const byMailbox = new Map<string, string[]>();
      for (const k of keys) byMailbox.set(k.mailbox, [...(byMailbox.get(k.mailbox) ?? []), k.messageId]);
      const time = async (name: string, f: () => Promise<unknown>) => {
        const t = performance.now();
        await f();
        best[name] = Math.min(best[name] ?? Infinity, performance.now() - t);
      };
      const expect = (name: string, n: number) => {
        if (n !== N) throw new Error(`${name}: ${n} of ${N} copies answered as expected`);
      };
      const first = await ledger.startRun({ startedAt: new Date(), command: 'bench', ...LEASE });
      const second = await ledger.startRun({ startedAt: new Date(), command: 'bench', ...LEASE });
      await time('claim (new copies)', async () => expect('claim', await claimAll(ledger, byMailbox, first, 'send')));
      await time('claim (busy: held by a live run)', async () => expect('busy', await claimAll(ledger, byMailbox, second, 'busy')));
      await ledger.expireRun(first);
      await time('claim (take-over: recheck)', async () => expect('recheck', await claimAll(ledger, byMailbox, second, 'recheck')));
      await time('markDelivered (one call)', () => ledger.markDelivered(keys.map((k, i) => ({ ...k, ref: `1:${i}` })), second));
      await time('claim (delivered)', async () => expect('delivered', await claimAll(ledger, byMailbox, second, 'delivered')));
      await time('getDeliveries (one call)', () => ledger.getDeliveries(keys));
      await ledger.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(writer);
  for (const [name, ms] of Object.entries(best)) {
    console.log(`  ${name.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms  ${Math.round(N / (ms / 1000)).toLocaleString('en').padStart(9)} copies/s`);
  }
  const claimMs = best['claim (new copies)'] ?? NaN;
  const per100k = (claimMs * 100_000) / N;
  console.log(`  claiming new copies: ${(per100k / 1000).toFixed(2)} s per 100,000 = ${(per100k / MARK_PENDING_MS_PER_100K).toFixed(2)} × markPending's ~0.55 s`);
}
