// RunParts (ports/run-parts.ts) over Kysely, in the installation's database
// (migration 0009_run_parts), on both engines.
//
// A claim is one statement: UPDATE the first claimable part (a subquery)
// where it is still claimable, RETURNING it. On PostgreSQL the subquery is
// `FOR UPDATE SKIP LOCKED`: a part another worker is taking at this moment
// is passed over, not waited for, and the outer guard makes the take certain
// under READ COMMITTED. On SQLite one statement is one write: nothing comes
// between its read and its take.
//
// A worker holds a part by (worker, attempt): a renewal or a finish by a
// worker whose part was taken over since (its lease lapsed, another worker
// claimed it: attempts grew) changes nothing. Times are this store's clock.
import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import { TO_THE_END, type PartClaim, type PartRange, type PartState, type PartStatus, type RunPart, type RunParts } from '../ports/run-parts.js';
import { guard, guardIdempotent, guardRead } from './batches.js';

export interface RunPartsTable {
  run_id: number;
  container: string;
  idx: number;
  connector: string;
  file: string;
  first_seq: number;
  /** Null: to the container's end. */
  end_seq: number | null;
  state: PartState;
  worker: string | null;
  attempts: number;
  lease_until: string | null;
  /** The part's run log, JSON. */
  log: string | null;
  opened_at: string;
  done_at: string | null;
}

export interface RunPartsDatabase {
  run_parts: RunPartsTable;
}

export class KyselyRunParts implements RunParts {
  readonly #db: Kysely<RunPartsDatabase>;
  readonly #now: () => Date;
  readonly #skipLocked: boolean;

  /** `skipLocked`: the engine has FOR UPDATE SKIP LOCKED (PostgreSQL). */
  constructor(db: Kysely<RunPartsDatabase>, options: { skipLocked: boolean; now?: (() => Date) | undefined }) {
    this.#db = db;
    this.#skipLocked = options.skipLocked;
    this.#now = options.now ?? (() => new Date());
  }

  openParts(part: Omit<RunPart, keyof PartRange>, ranges: readonly PartRange[]): Promise<void> {
    return guardIdempotent('openParts', async () => {
      if (ranges.length === 0) return;
      const opened = this.#now().toISOString();
      await this.#db
        .insertInto('run_parts')
        .values(
          ranges.map((r) => ({
            run_id: part.runId,
            container: part.container,
            idx: r.index,
            connector: part.connector,
            file: part.file,
            first_seq: r.firstSeq,
            end_seq: r.endSeq === TO_THE_END ? null : r.endSeq,
            state: 'open' as const,
            worker: null,
            attempts: 0,
            lease_until: null,
            log: null,
            opened_at: opened,
            done_at: null,
          })),
        )
        .onConflict((oc) => oc.columns(['run_id', 'container', 'idx']).doNothing())
        .execute();
    });
  }

  claimPart(worker: string, leaseMs: number): Promise<PartClaim | undefined> {
    // Not retried after a lost connection: the part may have been taken; its lease lapses if so.
    return guard('claimPart', async () => {
      const now = this.#now();
      const nowText = now.toISOString();
      // A part of a run that has ended or lost its lease (its worker died)
      // is left: nobody would add its log up; the run resumed after it opens
      // its own parts.
      const claimable = (eb: ExpressionBuilder<RunPartsDatabase, 'run_parts'>) =>
        eb.and([
          eb.or([eb('state', '=', 'open'), eb.and([eb('state', '=', 'working'), eb('lease_until', '<=', nowText)])]),
          sql<boolean>`exists (select 1 from runs where runs.id = run_parts.run_id and runs.finished_at is null and runs.lease_until > ${nowText})`,
        ]);
      const row = await this.#db
        .updateTable('run_parts')
        .set({ state: 'working', worker, attempts: sql<number>`attempts + 1`, lease_until: new Date(now.getTime() + leaseMs).toISOString() })
        .where(claimable)
        .where((eb) => {
          let first = eb.selectFrom('run_parts').select(['run_id', 'container', 'idx']).where(claimable).orderBy('run_id').orderBy('container').orderBy('idx').limit(1);
          if (this.#skipLocked) first = first.forUpdate().skipLocked();
          return eb(eb.refTuple('run_id', 'container', 'idx'), 'in', first.$asTuple('run_id', 'container', 'idx'));
        })
        .returningAll()
        .executeTakeFirst();
      return row ? claimOf(row) : undefined;
    });
  }

  renewPart(claim: PartClaim, leaseMs: number): Promise<boolean> {
    return guardIdempotent('renewPart', async () => {
      const now = this.#now();
      const result = await this.#held(claim)
        .set({ lease_until: new Date(now.getTime() + leaseMs).toISOString() })
        .where('lease_until', '>', now.toISOString())
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  finishPart(claim: PartClaim, log: unknown): Promise<boolean> {
    return guardIdempotent('finishPart', async () => {
      const result = await this.#held(claim)
        .set({ state: 'done', log: JSON.stringify(log) ?? null, lease_until: null, done_at: this.#now().toISOString() })
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  releasePart(claim: PartClaim): Promise<boolean> {
    return guardIdempotent('releasePart', async () => {
      const result = await this.#held(claim).set({ state: 'open', worker: null, lease_until: null }).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  partsOf(runId: number, container: string): Promise<PartStatus[]> {
    return guardRead('partsOf', async () => {
      const rows = await this.#db.selectFrom('run_parts').selectAll().where('run_id', '=', runId).where('container', '=', container).orderBy('idx').execute();
      return rows.map((r) => ({
        ...rangeOf(r),
        state: r.state,
        worker: r.worker,
        attempts: Number(r.attempts),
        leaseUntil: r.lease_until === null ? null : new Date(r.lease_until),
        log: r.log === null ? null : (JSON.parse(r.log) as unknown),
      }));
    });
  }

  /** The part's row while this claim still holds it. */
  #held(claim: PartClaim) {
    return this.#db
      .updateTable('run_parts')
      .where('run_id', '=', claim.runId)
      .where('container', '=', claim.container)
      .where('idx', '=', claim.index)
      .where('state', '=', 'working')
      .where('worker', '=', claim.worker)
      .where('attempts', '=', claim.attempt);
  }
}

function rangeOf(r: Selectable<RunPartsTable>): PartRange {
  return { index: Number(r.idx), firstSeq: Number(r.first_seq), endSeq: r.end_seq === null ? TO_THE_END : Number(r.end_seq) };
}

function claimOf(r: Selectable<RunPartsTable>): PartClaim {
  return { ...rangeOf(r), runId: Number(r.run_id), connector: r.connector, container: r.container, file: r.file, worker: r.worker ?? '', attempt: Number(r.attempts) };
}
