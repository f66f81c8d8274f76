// The Ledger port over Kysely, in SQL that SQLite and PostgreSQL both run
// (INSERT … ON CONFLICT … DO UPDATE with `excluded`, RETURNING): the SQLite
// adapter (sqlite.ts) and the PostgreSQL one (postgres.ts) open, configure
// and migrate their database and hand it here (stores.ts).
//
// Each write call is one transaction: one commit, so one fsync of the WAL,
// per batch. Writes to deliveries go through a DeliveryWriter (claims.ts):
// by default multi-row statements of at most MAX_PARAMETERS bound values; the
// SQLite adapter passes a faster one over prepared statements
// (sqlite-writer.ts). bench/ledger.ts measures both.
//
// Times are the ledger's clock (`now`, injectable): a lease is lease_until >
// now, both written by this clock. Runs on several hosts sharing one ledger
// must keep their clocks within a small part of the lease of each other.
import type { Kysely } from 'kysely';
import { XipError } from '../errors.js';
import { byFolder, chunks, guard, guardIdempotent, guardRead, inChunks, MAX_PARAMETERS } from './batches.js';
import { portableDeliveryWriter, verdicts, type DeliveryWriter } from './claims.js';
import { deliveryKey, type Claim, type ContainerRecord, type CopyKey, type DeliveryRecord, type FailureRecord, type ItemRecord, type Ledger, type LiveRun, type RunFinish, type RunStart } from './port.js';
import { RunFailures } from './run-failures.js';
import { isSet, type LedgerDatabase } from './schema.js';

export { ledgerError } from './batches.js';

export class KyselyLedger implements Ledger {
  readonly #db: Kysely<LedgerDatabase>;
  readonly #now: () => Date;
  readonly #writer: DeliveryWriter;
  /** `${mailbox}\0${folder}` → folders.id */
  readonly #folderIds = new Map<string, number>();
  /** Runs known to exist (rows of runs are never deleted). */
  readonly #runs = new Set<number>();
  readonly #failures: RunFailures;
  #closed = false;

  constructor(db: Kysely<LedgerDatabase>, options: { now?: (() => Date) | undefined; writer?: DeliveryWriter | undefined } = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#writer = options.writer ?? portableDeliveryWriter(db);
    this.#failures = new RunFailures(db, RUN_HINT);
  }

  startRun(info: RunStart): Promise<number> {
    return guard('startRun', async () => {
      const row = await this.#db
        .insertInto('runs')
        .values({
          command: info.command,
          started_at: info.startedAt.toISOString(),
          finished_at: null,
          ok: null,
          code: null,
          log: null,
          host: info.host,
          pid: info.pid,
          lease_until: new Date(this.#now().getTime() + info.leaseMs).toISOString(),
          connector: info.connector ?? null,
          trigger: info.trigger ?? null,
          ...(info.parentRunId !== undefined ? { parent_run_id: info.parentRunId } : {}),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      this.#runs.add(Number(row.id));
      return Number(row.id);
    });
  }

  renewLease(runId: number, leaseMs: number): Promise<boolean> {
    return guardIdempotent('renewLease', async () => {
      // One conditional write: a lease that lapsed is never revived, even by
      // a renewal that races a claim taking the run's copies over.
      const now = this.#now();
      const result = await this.#db
        .updateTable('runs')
        .set({ lease_until: new Date(now.getTime() + leaseMs).toISOString() })
        .where('id', '=', runId)
        .where('finished_at', 'is', null)
        .where('lease_until', '>', now.toISOString())
        .executeTakeFirst();
      if (result.numUpdatedRows > 0n) return true;
      await this.#requireRun('renewLease', runId);
      return false;
    });
  }

  liveRuns(): Promise<LiveRun[]> {
    return guardRead('liveRuns', async () => {
      const rows = await this.#db
        .selectFrom('runs')
        .select(['id', 'host', 'pid', 'lease_until'])
        .where('finished_at', 'is', null)
        .where('lease_until', '>', this.#now().toISOString())
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ id: r.id, host: r.host ?? '', pid: r.pid ?? 0, leaseUntil: new Date(r.lease_until ?? 0) }));
    });
  }

  expireRun(runId: number): Promise<void> {
    return guardIdempotent('expireRun', async () => {
      // The lease ends now; a run already finished or lapsed keeps its times.
      const now = this.#now().toISOString();
      const result = await this.#db
        .updateTable('runs')
        .set({ lease_until: now })
        .where('id', '=', runId)
        .where('finished_at', 'is', null)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '>', now)]))
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) await this.#requireRun('expireRun', runId);
    });
  }

  finishRun(runId: number, info: RunFinish): Promise<void> {
    return guardIdempotent('finishRun', async () => {
      // The lease ends now, on the ledger's clock (one lapsed already keeps
      // its end): lease_until is when the run stopped, for the settle time of
      // the copies it left pending (claims.ts).
      const now = this.#now().toISOString();
      await this.#db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('runs')
          .set({ finished_at: info.finishedAt.toISOString(), ok: info.ok, code: info.code ?? null, log: JSON.stringify(info.log) ?? null })
          .where('id', '=', runId)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) throw new XipError('LEDGER_ERROR', `finishRun: there is no run ${runId}`);
        await trx.updateTable('runs').set({ lease_until: now }).where('id', '=', runId).where('lease_until', '>', now).execute();
      });
    });
  }

  recordContainer(c: ContainerRecord): Promise<void> {
    return guardIdempotent('recordContainer', async () => {
      const seen = this.#now().toISOString();
      const fields = {
        file: c.file,
        ok: c.ok,
        code: c.code ?? null,
        message: c.message ?? null,
        signer_subject: c.signerSubject ?? null,
        signer_sha256: c.signerSha256 ?? null,
        source: c.source ?? null,
        items_declared: c.itemsDeclared ?? null,
        last_seen: seen,
        last_run_id: c.runId,
      };
      // The latest verdict replaces the previous one (a certificate may have
      // been revoked since); first_seen and first_run_id stay.
      await this.#db
        .insertInto('containers')
        .values({ sha256: c.sha256, ...fields, first_seen: seen, first_run_id: c.runId })
        .onConflict((oc) => oc.column('sha256').doUpdateSet(fields))
        .execute();
    });
  }

  getContainer(sha256: string): Promise<{ sha256: string; ok: boolean; code: string | null; firstSeen: Date } | undefined> {
    return guardRead('getContainer', async () => {
      const row = await this.#db.selectFrom('containers').select(['sha256', 'ok', 'code', 'first_seen']).where('sha256', '=', sha256).executeTakeFirst();
      return row && { sha256: row.sha256, ok: isSet(row.ok), code: row.code, firstSeen: new Date(row.first_seen) };
    });
  }

  getItem(messageId: string): Promise<ItemRecord | undefined> {
    return guardRead('getItem', async () => {
      const r = await this.#db.selectFrom('items').selectAll().where('message_id', '=', messageId).executeTakeFirst();
      if (!r) return undefined;
      return {
        messageId: r.message_id,
        source: r.source,
        itemId: r.item_id,
        containerSha256: r.container_sha256,
        entry: r.entry,
        ...(r.line !== null ? { line: r.line } : {}),
        ok: isSet(r.ok),
        ...(r.code !== null ? { code: r.code } : {}),
        ...(r.message !== null ? { message: r.message } : {}),
      };
    });
  }

  recordItems(items: readonly ItemRecord[]): Promise<void> {
    return guardIdempotent('recordItems', async () => {
      const recordedAt = this.#now().toISOString();
      const rows = [...new Map(items.map((i) => [i.messageId, i])).values()].map((i) => ({
        message_id: i.messageId,
        source: i.source,
        item_id: i.itemId,
        container_sha256: i.containerSha256,
        entry: i.entry,
        line: i.line ?? null,
        ok: i.ok,
        code: i.code ?? null,
        message: i.message ?? null,
        recorded_at: recordedAt,
      }));
      await inChunks(this.#db, rows, 10, (trx, chunk) =>
        trx
          .insertInto('items')
          .values(chunk)
          .onConflict((oc) =>
            oc.column('message_id').doUpdateSet((eb) => ({
              source: eb.ref('excluded.source'),
              item_id: eb.ref('excluded.item_id'),
              container_sha256: eb.ref('excluded.container_sha256'),
              entry: eb.ref('excluded.entry'),
              line: eb.ref('excluded.line'),
              ok: eb.ref('excluded.ok'),
              code: eb.ref('excluded.code'),
              message: eb.ref('excluded.message'),
              recorded_at: eb.ref('excluded.recorded_at'),
            })),
          )
          .execute(),
      );
    }, "an item's container must be recorded first (recordContainer)");
  }

  recordFailures(runId: number, failures: readonly FailureRecord[]): Promise<void> {
    return this.#failures.record(runId, failures);
  }

  getFailures(runId: number): Promise<FailureRecord[]> {
    return this.#failures.read(runId);
  }

  claim(mailbox: string, folder: string, messageIds: readonly string[], runId: number, settleMs = 0): Promise<Map<string, Claim>> {
    return guardIdempotent('claim', async () => {
      const ids = [...new Set(messageIds)];
      if (ids.length === 0) return new Map();
      await this.#requireRun('claim', runId);
      const folderId = await this.#ensureFolderId(mailbox, folder);
      const now = this.#now();
      const settledBefore = new Date(now.getTime() - settleMs).toISOString();
      return verdicts(ids, await this.#writer.claim(folderId, ids, runId, now.toISOString(), settledBefore), now, settleMs);
    });
  }

  markDelivered(rows: readonly (CopyKey & { ref: string })[], runId: number): Promise<void> {
    // Also for a copy that findExisting found in the target without this
    // ledger having sent it (a new or lost ledger): inserted with 0 attempts.
    return guardIdempotent('markDelivered', async () => {
      if (rows.length === 0) return;
      const updatedAt = this.#now().toISOString();
      const values = [];
      for (const { mailbox, folder, copies } of byFolder(rows)) {
        const folderId = await this.#ensureFolderId(mailbox, folder);
        for (const r of copies.values()) values.push({ folder_id: folderId, message_id: r.messageId, ref: r.ref, run_id: runId, updated_at: updatedAt });
      }
      await this.#writer.delivered(values);
    }, RUN_HINT);
  }

  markFailed(rows: readonly (CopyKey & { code: string; reason: string })[], runId: number): Promise<void> {
    return guardIdempotent('markFailed', async () => {
      const values = [];
      for (const { mailbox, folder, copies } of byFolder(rows)) {
        const folderId = await this.#folderId(mailbox, folder);
        if (folderId === undefined) continue; // nothing was ever claimed there
        for (const r of copies.values()) values.push({ folder_id: folderId, message_id: r.messageId, code: r.code, reason: r.reason });
      }
      if (values.length > 0) await this.#writer.failed(values, runId, this.#now().toISOString());
    });
  }

  getDeliveries(keys: readonly CopyKey[]): Promise<Map<string, DeliveryRecord>> {
    return guardRead('getDeliveries', async () => {
      const out = new Map<string, DeliveryRecord>();
      for (const { mailbox, folder, copies } of byFolder(keys)) {
        const folderId = await this.#folderId(mailbox, folder);
        if (folderId === undefined) continue; // never written to: nothing attempted there
        for (const chunk of chunks([...copies.keys()], MAX_PARAMETERS - 1)) {
          const rows = await this.#db
            .selectFrom('deliveries')
            .select(['message_id', 'state', 'ref', 'run_id'])
            .where('folder_id', '=', folderId)
            .where('message_id', 'in', chunk)
            .execute();
          for (const r of rows) out.set(deliveryKey({ messageId: r.message_id, mailbox, folder }), { state: r.state, ref: r.ref, runId: r.run_id });
        }
      }
      return out;
    });
  }

  hasDeliveredTo(mailbox: string, folder: string): Promise<boolean> {
    return guardRead('hasDeliveredTo', async () => {
      const folderId = await this.#folderId(mailbox, folder);
      if (folderId === undefined) return false;
      const row = await this.#db
        .selectFrom('deliveries')
        .select('message_id')
        .where('folder_id', '=', folderId)
        .where('state', '=', 'delivered')
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  pendingFor(mailbox: string, folder: string): Promise<CopyKey[]> {
    return guardRead('pendingFor', async () => {
      const folderId = await this.#folderId(mailbox, folder);
      if (folderId === undefined) return [];
      const rows = await this.#db
        .selectFrom('deliveries')
        .select('message_id')
        .where('folder_id', '=', folderId)
        .where('state', '=', 'pending')
        .execute();
      return rows.map((r) => ({ messageId: r.message_id, mailbox, folder }));
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await guard('close', () => this.#db.destroy());
  }

  async #requireRun(operation: string, runId: number): Promise<void> {
    if (this.#runs.has(runId)) return;
    const row = await this.#db.selectFrom('runs').select('id').where('id', '=', runId).executeTakeFirst();
    if (row === undefined) throw new XipError('LEDGER_ERROR', `${operation}: there is no run ${runId} (${RUN_HINT})`);
    this.#runs.add(runId);
  }

  /** The id of a mailbox's folder, undefined when nothing was ever written there. */
  async #folderId(mailbox: string, folder: string): Promise<number | undefined> {
    const key = `${mailbox}\0${folder}`;
    const cached = this.#folderIds.get(key);
    if (cached !== undefined) return cached;
    const row = await this.#db.selectFrom('folders').select('id').where('mailbox', '=', mailbox).where('folder', '=', folder).executeTakeFirst();
    if (row !== undefined) this.#folderIds.set(key, row.id);
    return row?.id;
  }

  /**
   * The id of a mailbox's folder, created when missing. Created in a
   * transaction of its own, committed before the id is cached: an id learnt
   * inside a transaction that then rolled back could be handed to another
   * folder. Folder rows are never changed or deleted, so the cache stays true
   * for every process.
   */
  async #ensureFolderId(mailbox: string, folder: string): Promise<number> {
    const known = await this.#folderId(mailbox, folder);
    if (known !== undefined) return known;
    await this.#db.transaction().execute((trx) => trx.insertInto('folders').values({ mailbox, folder }).onConflict((oc) => oc.columns(['mailbox', 'folder']).doNothing()).execute());
    const id = await this.#folderId(mailbox, folder);
    if (id === undefined) throw new Error(`the folder ${folder} of ${mailbox} was not created`);
    return id;
  }
}

const RUN_HINT = 'runId must be one that startRun returned';
