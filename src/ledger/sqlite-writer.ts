// claims.ts's statements on deliveries, prepared once and run per row inside
// one better-sqlite3 transaction: a third faster than multi-row statements
// built by Kysely (bench/ledger.ts); the difference is Kysely building and
// compiling statements of thousands of values. The SQL is claims.ts's, one row
// at a time, so the claim's guard is the same text on both paths.
import type Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { CLAIM_INSERT, CLAIM_ON_CONFLICT, CLAIM_ROW, claimOrder, SETTLED, type ClaimedFrom, type DeliveryWriter, type HeldRow } from './claims.js';
import type { DeliveryState } from './port.js';
import type { LedgerDatabase } from './schema.js';

// SETTLED bound by position after the row's four values.
const CLAIM = `${CLAIM_INSERT} ${CLAIM_ROW} ${CLAIM_ON_CONFLICT.split(SETTLED).join('?')}`;
const HELD = `
  select d.state, d.ref, d.run_id, r.finished_at, r.lease_until
  from deliveries d left join runs r on r.id = d.run_id
  where d.folder_id = ? and d.message_id = ?`;
const DELIVERED = `
  insert into deliveries (folder_id, message_id, state, ref, run_id, attempts, updated_at) values (?, ?, 'delivered', ?, ?, 0, ?)
  on conflict (folder_id, message_id) do update set
    state = 'delivered', ref = excluded.ref, code = null, reason = null, run_id = excluded.run_id, updated_at = excluded.updated_at`;
const FAILED = `
  update deliveries set state = 'failed', code = ?, reason = ?, updated_at = ?
  where folder_id = ? and message_id = ? and state = 'pending' and run_id = ?`;

export function preparedDeliveryWriter(kysely: Kysely<LedgerDatabase>, database: Database.Database): DeliveryWriter {
  const statements = new Map<string, Database.Statement>();
  const prepared = (text: string) => {
    let s = statements.get(text);
    if (!s) statements.set(text, (s = database.prepare(text)));
    return s;
  };
  // Inside Kysely's hold on its one connection: no Kysely transaction can be
  // open around or beside this one. BEGIN IMMEDIATE, as the dialect's
  // (sqlite.ts): the write lock is taken first, waiting up to busy_timeout.
  const inTransaction = <T>(body: () => T): Promise<T> => kysely.connection().execute(async () => database.transaction(body).immediate());

  return {
    claim: (folderId, messageIds, runId, now, settledBefore) =>
      inTransaction(() => {
        const claim = prepared(CLAIM);
        const read = prepared(HELD);
        const claimed = new Map<string, ClaimedFrom>();
        const held = new Map<string, HeldRow>();
        for (const id of claimOrder(messageIds)) {
          const row = claim.get(folderId, id, runId, now, settledBefore) as { claimed_from: ClaimedFrom } | undefined;
          if (row !== undefined) {
            claimed.set(id, row.claimed_from);
            continue;
          }
          const h = read.get(folderId, id) as { state: DeliveryState; ref: string | null; run_id: number; finished_at: string | null; lease_until: string | null };
          held.set(id, { state: h.state, ref: h.ref, runId: h.run_id, finishedAt: h.finished_at, leaseUntil: h.lease_until });
        }
        return { claimed, held };
      }),

    delivered: (rows) =>
      inTransaction(() => {
        const upsert = prepared(DELIVERED);
        for (const r of rows) upsert.run(r.folder_id, r.message_id, r.ref, r.run_id, r.updated_at);
      }),

    failed: (rows, runId, now) =>
      inTransaction(() => {
        const update = prepared(FAILED);
        for (const r of rows) update.run(r.code, r.reason, now, r.folder_id, r.message_id, runId);
      }),
  };
}
