// A run's failures in the ledger (run_failures), numbered per run: the
// KyselyLedger's recordFailures and getFailures, over the same database.
import type { Kysely } from 'kysely';
import { guard, guardRead, inChunks } from './batches.js';
import type { FailureRecord } from './port.js';
import type { LedgerDatabase, RunFailuresTable } from './schema.js';

export class RunFailures {
  readonly #db: Kysely<LedgerDatabase>;
  readonly #runHint: string;
  /** The next seq of each run's failures, read once per run: a run's failures are written through its own Ledger. */
  readonly #seq = new Map<number, Promise<{ next: number }>>();

  constructor(db: Kysely<LedgerDatabase>, runHint: string) {
    this.#db = db;
    this.#runHint = runHint;
  }

  record(runId: number, failures: readonly FailureRecord[]): Promise<void> {
    return guard('recordFailures', async () => {
      if (failures.length === 0) return;
      let seq = this.#seq.get(runId);
      if (seq === undefined) {
        seq = this.#db
          .selectFrom('run_failures')
          .select((eb) => eb.fn.max('seq').as('last'))
          .where('run_id', '=', runId)
          .executeTakeFirst()
          .then((r) => ({ next: Number(r?.last ?? 0) + 1 }));
        this.#seq.set(runId, seq);
        seq.catch(() => this.#seq.delete(runId));
      }
      // Numbers taken synchronously: calls in flight together never share one.
      const counter = await seq;
      const first = counter.next;
      counter.next += failures.length;
      const rows: RunFailuresTable[] = failures.map((f, i) => ({
        run_id: runId,
        seq: first + i,
        item_id: f.itemId,
        source_user_id: f.sourceUserId,
        mailbox: f.mailbox,
        code: f.code,
        reason: f.reason,
        entry: f.entry ?? null,
        line: f.line ?? null,
        file: f.file ?? null,
      }));
      await inChunks(this.#db, rows, 10, (trx, chunk) => trx.insertInto('run_failures').values(chunk).execute());
    }, this.#runHint);
  }

  read(runId: number): Promise<FailureRecord[]> {
    return guardRead('getFailures', async () => {
      // The run's own, then those of its parts (a shared run's), each in the order recorded.
      const rows = await this.#db
        .selectFrom('run_failures')
        .selectAll()
        .where((eb) => eb.or([eb('run_id', '=', runId), eb('run_id', 'in', eb.selectFrom('runs').select('id').where('parent_run_id', '=', runId))]))
        .orderBy('run_id')
        .orderBy('seq')
        .execute();
      return rows.map((r) => ({
        itemId: r.item_id,
        sourceUserId: r.source_user_id,
        mailbox: r.mailbox,
        code: r.code,
        reason: r.reason,
        ...(r.entry !== null && { entry: r.entry }),
        ...(r.line !== null && { line: r.line }),
        ...(r.file !== null && { file: r.file }),
      }));
    });
  }
}
