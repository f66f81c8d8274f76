// The Ledger port over Kysely, in SQL that SQLite and PostgreSQL both run
// (INSERT … ON CONFLICT … DO UPDATE with `excluded`): the SQLite adapter
// (sqlite.ts) opens, configures and migrates the database and hands it here;
// a Postgres adapter would do the same with its own dialect.
//
// Each write call is one transaction: one commit, so one fsync of the WAL,
// per batch. Delivery rows go through a DeliveryRowWriter: by default
// multi-row upserts of at most MAX_PARAMETERS bound values; the SQLite
// adapter passes a faster one over a prepared statement. bench/ledger.ts
// measures both (100,000 copies: about 0.55 s and 0.8 s to mark pending).
import type { Kysely, Transaction } from 'kysely';
import { XipError } from '../errors.js';
import { deliveryKey, type ContainerRecord, type CopyKey, type DeliveryRecord, type ItemRecord, type Ledger } from './port.js';
import type { DeliveriesTable, LedgerDatabase } from './schema.js';

/**
 * Most bound values in one statement: under SQLite's 32,766
 * (SQLITE_MAX_VARIABLE_NUMBER since 3.32) and PostgreSQL's 65,535.
 */
export const MAX_PARAMETERS = 30_000;

export class KyselyLedger implements Ledger {
  readonly #db: Kysely<LedgerDatabase>;
  readonly #now: () => Date;
  readonly #writeRows: DeliveryRowWriter;
  /** `${mailbox}\0${folder}` → folders.id */
  readonly #folderIds = new Map<string, number>();
  #closed = false;

  constructor(db: Kysely<LedgerDatabase>, options: { now?: (() => Date) | undefined; writeDeliveries?: DeliveryRowWriter | undefined } = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#writeRows = options.writeDeliveries ?? portableDeliveryWriter(db);
  }

  startRun(info: { startedAt: Date; command: string }): Promise<number> {
    return guard('startRun', async () => {
      const row = await this.#db
        .insertInto('runs')
        .values({ command: info.command, started_at: info.startedAt.toISOString(), finished_at: null, ok: null, log: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    });
  }

  finishRun(runId: number, info: { finishedAt: Date; ok: boolean; log: unknown }): Promise<void> {
    return guard('finishRun', async () => {
      const result = await this.#db
        .updateTable('runs')
        .set({ finished_at: info.finishedAt.toISOString(), ok: info.ok ? 1 : 0, log: JSON.stringify(info.log) ?? null })
        .where('id', '=', runId)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new XipError('LEDGER_ERROR', `finishRun: there is no run ${runId}`);
    });
  }

  recordContainer(c: ContainerRecord): Promise<void> {
    return guard('recordContainer', async () => {
      const seen = this.#now().toISOString();
      const fields = {
        file: c.file,
        ok: c.ok ? 1 : 0,
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
    return guard('getContainer', async () => {
      const row = await this.#db.selectFrom('containers').select(['sha256', 'ok', 'code', 'first_seen']).where('sha256', '=', sha256).executeTakeFirst();
      return row && { sha256: row.sha256, ok: row.ok === 1, code: row.code, firstSeen: new Date(row.first_seen) };
    });
  }

  recordItems(items: readonly ItemRecord[]): Promise<void> {
    return guard('recordItems', async () => {
      if (items.length === 0) return;
      const recordedAt = this.#now().toISOString();
      const rows = [...new Map(items.map((i) => [i.messageId, i])).values()].map((i) => ({
        message_id: i.messageId,
        source: i.source,
        item_id: i.itemId,
        container_sha256: i.containerSha256,
        entry: i.entry,
        line: i.line ?? null,
        ok: i.ok ? 1 : 0,
        code: i.code ?? null,
        message: i.message ?? null,
        recorded_at: recordedAt,
      }));
      await inChunks(this.#db, rows, (trx, chunk) =>
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

  getDeliveries(keys: readonly CopyKey[]): Promise<Map<string, DeliveryRecord>> {
    return guard('getDeliveries', async () => {
      const out = new Map<string, DeliveryRecord>();
      for (const { mailbox, folder, copies } of byFolder(keys)) {
        const folderId = await this.#folderId(mailbox, folder);
        if (folderId === undefined) continue; // never written to: nothing attempted there
        for (const chunk of chunks([...copies.keys()], MAX_PARAMETERS - 1)) {
          const rows = await this.#db
            .selectFrom('deliveries')
            .select(['message_id', 'state', 'ref'])
            .where('folder_id', '=', folderId)
            .where('message_id', 'in', chunk)
            .execute();
          for (const r of rows) out.set(deliveryKey({ messageId: r.message_id, mailbox, folder }), { state: r.state, ref: r.ref });
        }
      }
      return out;
    });
  }

  hasDeliveredTo(mailbox: string, folder: string): Promise<boolean> {
    return guard('hasDeliveredTo', async () => {
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
    return guard('pendingFor', async () => {
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

  markPending(keys: readonly CopyKey[], runId: number): Promise<void> {
    return guard('markPending', () => this.#writeDeliveries(keys, runId, 'pending', () => ({ ref: null, code: null, reason: null, attempts: 1 })), RUN_HINT);
  }

  markDelivered(rows: readonly (CopyKey & { ref: string })[], runId: number): Promise<void> {
    // Also for a copy that findExisting found in the target without this
    // ledger having sent it (a new or lost ledger): inserted with 0 attempts.
    return guard('markDelivered', () => this.#writeDeliveries(rows, runId, 'delivered', (r) => ({ ref: r.ref, code: null, reason: null, attempts: 0 })), RUN_HINT);
  }

  markFailed(rows: readonly (CopyKey & { code: string; reason: string })[], runId: number): Promise<void> {
    return guard('markFailed', () => this.#writeDeliveries(rows, runId, 'failed', (r) => ({ ref: null, code: r.code, reason: r.reason, attempts: 0 })), RUN_HINT);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await guard('close', () => this.#db.destroy());
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

  /**
   * The rows for these copies, written by the row writer in one transaction.
   * A copy listed twice in one call is written once (the last listing wins):
   * PostgreSQL refuses to update a row twice in one statement, and the
   * outcome is the same.
   */
  async #writeDeliveries<R extends CopyKey>(
    rows: readonly R[],
    runId: number,
    state: DeliveriesTable['state'],
    fields: (r: R) => Pick<DeliveriesTable, 'ref' | 'code' | 'reason' | 'attempts'>,
  ): Promise<void> {
    if (rows.length === 0) return;
    const updatedAt = this.#now().toISOString();
    const values: DeliveriesTable[] = [];
    for (const { mailbox, folder, copies } of byFolder(rows)) {
      const folderId = await this.#ensureFolderId(mailbox, folder);
      for (const r of copies.values()) values.push({ folder_id: folderId, message_id: r.messageId, state, ...fields(r), run_id: runId, updated_at: updatedAt });
    }
    await this.#writeRows(values);
  }
}

/**
 * Writes delivery rows in one transaction: insert, or update the copy's
 * state, ref, code, reason, run and time, and add the row's `attempts` (1 for
 * pending, 0 otherwise) to the copy's count. The SQLite adapter passes one
 * over a reused prepared statement; this is the portable one.
 */
export type DeliveryRowWriter = (rows: readonly DeliveriesTable[]) => Promise<void>;

export function portableDeliveryWriter(db: Kysely<LedgerDatabase>): DeliveryRowWriter {
  return (rows) =>
    inChunks(db, rows, (trx, chunk) =>
      trx
        .insertInto('deliveries')
        .values(chunk)
        .onConflict((oc) =>
          oc.columns(['folder_id', 'message_id']).doUpdateSet((eb) => ({
            state: eb.ref('excluded.state'),
            ref: eb.ref('excluded.ref'),
            code: eb.ref('excluded.code'),
            reason: eb.ref('excluded.reason'),
            run_id: eb.ref('excluded.run_id'),
            attempts: eb('deliveries.attempts', '+', eb.ref('excluded.attempts')),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute(),
    );
}

/** One transaction, one statement per chunk of rows that stays under MAX_PARAMETERS. */
async function inChunks<R extends object>(db: Kysely<LedgerDatabase>, rows: readonly R[], write: (trx: Transaction<LedgerDatabase>, chunk: R[]) => Promise<unknown>): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const perRow = Object.keys(first).length;
  await db.transaction().execute(async (trx) => {
    for (const chunk of chunks(rows, Math.floor(MAX_PARAMETERS / perRow))) await write(trx, chunk);
  });
}

/**
 * Copies grouped by mailbox folder, each message once (the last listing
 * wins), in first-seen order: a batch is one folder of one mailbox. Nested
 * maps, so that 100,000 copies build no key strings.
 */
function byFolder<R extends CopyKey>(rows: readonly R[]): { mailbox: string; folder: string; copies: Map<string, R> }[] {
  const mailboxes = new Map<string, Map<string, Map<string, R>>>();
  for (const r of rows) {
    let folders = mailboxes.get(r.mailbox);
    if (!folders) mailboxes.set(r.mailbox, (folders = new Map()));
    let copies = folders.get(r.folder);
    if (!copies) folders.set(r.folder, (copies = new Map()));
    copies.set(r.messageId, r);
  }
  return [...mailboxes].flatMap(([mailbox, folders]) => [...folders].map(([folder, copies]) => ({ mailbox, folder, copies })));
}

const RUN_HINT = 'runId must be one that startRun returned';

function* chunks<T>(list: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

/** Every fault of the database as LEDGER_ERROR naming the operation; a broken foreign key with what the caller must do first. */
async function guard<T>(operation: string, body: () => Promise<T>, foreignKeyHint?: string): Promise<T> {
  try {
    return await body();
  } catch (e) {
    throw ledgerError(operation, e, foreignKeyHint);
  }
}

export function ledgerError(operation: string, e: unknown, foreignKeyHint?: string): XipError {
  if (e instanceof XipError) return e;
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : String(e);
  const hint = code === 'SQLITE_CONSTRAINT_FOREIGNKEY' && foreignKeyHint ? ` (${foreignKeyHint})` : '';
  return new XipError('LEDGER_ERROR', `${operation}: ${typeof code === 'string' ? `${code}: ` : ''}${message}${hint}`, { cause: e });
}
