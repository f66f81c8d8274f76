// The writes to deliveries: claim, delivered, failed (src/ports/ledger.ts).
//
// A claim is one conditional upsert per batch (OpenArchiver's "claim by
// conditional UPDATE"), in SQL that SQLite (3.35+) and PostgreSQL both run:
//
//   insert … values (…, 'pending', run, 1, now), …
//   on conflict (folder_id, message_id) do update set state = 'pending', …
//     where <the copy is free> returning message_id, claimed_from
//
// The guard is the WHERE of the DO UPDATE, so the write itself decides: a row
// comes back only where this statement inserted the copy or replaced a
// claimable row. On PostgreSQL at READ COMMITTED, ON CONFLICT DO UPDATE locks
// the conflicting row and evaluates the WHERE against its latest committed
// version, so two runs claiming the same copy at once are serialised by that
// row lock, and the second sees the first's claim (its live run) and gets no
// row back. The owner's liveness is read from runs in the statement's
// snapshot; the test is written as "the owner is known to have stopped, and
// settled" (EXISTS a run finished, or lapsed, before the settled time), so an
// owner row the snapshot cannot see yet (a run started and claiming after
// this statement began) counts as live: the doubtful case answers busy, never
// a second claim.
//
// Settled: a run that stopped (finished, its lease lapsed, or expired because
// its process is gone) may have left writes on their way to the target — a
// command fully sent whose store commits after its sender died. Its copies
// are taken over only once the target's settle time (MailboxTarget.settleMs)
// has passed since it stopped: the bound value SETTLED is now − settleMs.
// Until then a claim answers busy with the time it settles (verdicts()).
//
// The verdict comes from the same row version: the SET copies the replaced
// row's state into claimed_from (SET reads the row before the update in both
// databases) and RETURNING hands it back: NULL (the claim created the row) or
// 'failed' → send; 'pending' → recheck.
//
// `now` is the excluded row's updated_at: the claim time. A lease is live
// while lease_until > now (on SQLite ISO 8601 UTC text of one width, so text
// order is time order); lease_until = now has lapsed. A run's lease ends
// when it finishes (finishRun brings lease_until back to the ledger's now)
// or is expired, so lease_until is when any run stopped, on the ledger's
// clock, and it has settled once lease_until <= SETTLED.
import { sql, type Kysely } from 'kysely';
import { chunks, inChunks, MAX_PARAMETERS } from './batches.js';
import type { Claim, DeliveryState } from './port.js';
import type { LedgerDatabase } from './schema.js';

export const CLAIM_INSERT = 'insert into deliveries (folder_id, message_id, state, run_id, attempts, updated_at) values';
/** One row of CLAIM_INSERT's values: folder_id, message_id, run_id, updated_at. */
export const CLAIM_ROW = "(?, ?, 'pending', ?, 1, ?)";
/**
 * Where CLAIM_ON_CONFLICT takes its one bound value: the time before
 * which a stopped owner has settled (now − settleMs), in the format of the
 * times of runs. The SQLite writer binds it for `?`, Kysely as a value.
 */
export const SETTLED = ':settled_before';
export const CLAIM_ON_CONFLICT = `
  on conflict (folder_id, message_id) do update set
    state = 'pending', ref = null, code = null, reason = null,
    claimed_from = deliveries.state,
    run_id = excluded.run_id, attempts = deliveries.attempts + 1, updated_at = excluded.updated_at
  where deliveries.state = 'failed'
     or (deliveries.state = 'pending' and (
          deliveries.run_id = excluded.run_id
          or exists (select 1 from runs where runs.id = deliveries.run_id
                     and (runs.lease_until is null or runs.lease_until <= ${SETTLED}))))
  returning message_id, claimed_from`;

/** The state a claimed copy was taken from: null when the claim created it. */
export type ClaimedFrom = 'pending' | 'failed' | null;

export interface HeldRow {
  readonly state: DeliveryState;
  readonly ref: string | null;
  readonly runId: number;
  /** The holder's run: whether it finished, and its lease's end (ISO text), for a pending copy's settle time. */
  readonly finishedAt: string | null;
  readonly leaseUntil: string | null;
}

/** What one claim found, per distinct Message-ID. */
export interface ClaimRows {
  /** Taken by this claim, with the state it was taken from ('pending': a previous attempt may have stored it). */
  readonly claimed: ReadonlyMap<string, ClaimedFrom>;
  /** Not taken: the row as read after the write. */
  readonly held: ReadonlyMap<string, HeldRow>;
}

export interface DeliveredRow {
  readonly folder_id: number;
  readonly message_id: string;
  readonly ref: string;
  readonly run_id: number;
  readonly updated_at: string;
}

export interface FailedRow {
  readonly folder_id: number;
  readonly message_id: string;
  readonly code: string;
  readonly reason: string;
}

/**
 * The statements on deliveries, each call one transaction. The SQLite adapter
 * passes one over prepared statements (sqlite-writer.ts); this module's
 * portable one is what the PostgreSQL adapter uses (postgres.ts).
 */
export interface DeliveryWriter {
  /** `messageIds` distinct; copies of runs stopped at or before `settledBefore` can be taken over. */
  claim(folderId: number, messageIds: readonly string[], runId: number, now: string, settledBefore: string): Promise<ClaimRows>;
  /** Insert or overwrite as delivered, whoever holds the copy; attempts unchanged. */
  delivered(rows: readonly DeliveredRow[]): Promise<void>;
  /** Pending → failed, only where `runId` holds the claim. */
  failed(rows: readonly FailedRow[], runId: number, now: string): Promise<void>;
}

/** When the holder of a pending copy stopped (the end of its lease, which its finish ends too), or undefined while it runs. */
function stoppedAt(held: HeldRow, now: Date): Date | undefined {
  if (held.leaseUntil === null) return new Date(0);
  const until = new Date(held.leaseUntil);
  return held.finishedAt !== null || until.getTime() <= now.getTime() ? until : undefined;
}

/** The port's answers, in the order of `messageIds`. */
export function verdicts(messageIds: readonly string[], rows: ClaimRows, now: Date, settleMs: number): Map<string, Claim> {
  const out = new Map<string, Claim>();
  for (const id of messageIds) {
    const from = rows.claimed.get(id);
    if (from !== undefined) {
      out.set(id, { verdict: from === 'pending' ? 'recheck' : 'send' });
      continue;
    }
    const held = rows.held.get(id);
    if (held === undefined) throw new Error(`claim: the copy ${id} was neither claimed nor found`);
    // On SQLite a copy not taken is delivered, or held by a run live or not
    // yet settled. On PostgreSQL the read after the write may see a later
    // change (the owner failed it or finished): still busy for this call,
    // taken by the next.
    if (held.state === 'delivered') {
      out.set(id, { verdict: 'delivered', ref: held.ref });
      continue;
    }
    const stopped = held.state === 'pending' ? stoppedAt(held, now) : undefined;
    out.set(id, stopped === undefined ? { verdict: 'busy', owner: held.runId } : { verdict: 'busy', owner: held.runId, settlesAt: new Date(stopped.getTime() + settleMs) });
  }
  return out;
}

/**
 * Claims write in Message-ID order: two PostgreSQL transactions claiming
 * overlapping batches then lock rows in the same order, and cannot deadlock.
 */
export function claimOrder(messageIds: readonly string[]): string[] {
  return [...messageIds].sort();
}

export function portableDeliveryWriter(db: Kysely<LedgerDatabase>): DeliveryWriter {
  return {
    async claim(folderId, messageIds, runId, now, settledBefore) {
      const claimed = new Map<string, ClaimedFrom>();
      const held = new Map<string, HeldRow>();
      const onConflict = sql.join(CLAIM_ON_CONFLICT.split(SETTLED).map((part) => sql.raw(part)), sql`${settledBefore}`);
      await db.transaction().execute(async (trx) => {
        for (const chunk of chunks(claimOrder(messageIds), Math.floor((MAX_PARAMETERS - 2) / 4))) {
          const values = sql.join(chunk.map((id) => sql`(${folderId}, ${id}, 'pending', ${runId}, 1, ${now})`));
          const result = await sql<{ message_id: string; claimed_from: ClaimedFrom }>`${sql.raw(CLAIM_INSERT)} ${values} ${onConflict}`.execute(trx);
          for (const r of result.rows) claimed.set(r.message_id, r.claimed_from);
        }
        const rest = messageIds.filter((id) => !claimed.has(id));
        for (const chunk of chunks(rest, MAX_PARAMETERS - 1)) {
          const rows = await trx
            .selectFrom('deliveries')
            .leftJoin('runs', 'runs.id', 'deliveries.run_id')
            .select(['deliveries.message_id', 'deliveries.state', 'deliveries.ref', 'deliveries.run_id', 'runs.finished_at', 'runs.lease_until'])
            .where('deliveries.folder_id', '=', folderId)
            .where('deliveries.message_id', 'in', chunk)
            .execute();
          for (const r of rows) held.set(r.message_id, { state: r.state, ref: r.ref, runId: r.run_id, finishedAt: r.finished_at ?? null, leaseUntil: r.lease_until ?? null });
        }
      });
      return { claimed, held };
    },

    // In claimOrder too (by folder, then Message-ID): an upsert locks rows in
    // the order of its values, so a markDelivered and a claim of overlapping
    // copies on PostgreSQL take their locks in one order.
    delivered: (rows) =>
      inChunks(db, [...rows].sort((x, y) => x.folder_id - y.folder_id || (x.message_id < y.message_id ? -1 : x.message_id > y.message_id ? 1 : 0)), 7 /* the five given, state and attempts */, (trx, chunk) =>
        trx
          .insertInto('deliveries')
          .values(chunk.map((r) => ({ ...r, state: 'delivered' as const, attempts: 0 })))
          .onConflict((oc) =>
            oc.columns(['folder_id', 'message_id']).doUpdateSet((eb) => ({
              state: 'delivered' as const,
              ref: eb.ref('excluded.ref'),
              code: null,
              reason: null,
              run_id: eb.ref('excluded.run_id'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute(),
      ),

    // Grouped by code and reason: a batch that failed usually failed for one reason.
    async failed(rows, runId, now) {
      const groups = new Map<string, { code: string; reason: string; folderId: number; ids: string[] }>();
      for (const r of rows) {
        const key = `${r.folder_id}\0${r.code}\0${r.reason}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { code: r.code, reason: r.reason, folderId: r.folder_id, ids: [] }));
        g.ids.push(r.message_id);
      }
      if (groups.size === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const g of groups.values()) {
          for (const chunk of chunks(g.ids, MAX_PARAMETERS - 6)) {
            await trx
              .updateTable('deliveries')
              .set({ state: 'failed', code: g.code, reason: g.reason, updated_at: now })
              .where('folder_id', '=', g.folderId)
              .where('message_id', 'in', chunk)
              .where('state', '=', 'pending')
              .where('run_id', '=', runId)
              .execute();
          }
        }
      });
    },
  };
}
