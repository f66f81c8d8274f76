// Batching for the ledger's statements, and its one way of reporting a fault.
import type { Kysely, Transaction } from 'kysely';
import { XipError } from '../errors.js';
import { isConnectionLost, isForeignKeyViolation, isRolledBackConflict, scrubSecrets } from './faults.js';
import type { CopyKey } from './port.js';
import type { LedgerDatabase } from './schema.js';

/**
 * Most bound values in one statement: under SQLite's 32,766
 * (SQLITE_MAX_VARIABLE_NUMBER since 3.32) and PostgreSQL's 65,535.
 */
export const MAX_PARAMETERS = 30_000;

/** One transaction, one statement per chunk of rows that stays under MAX_PARAMETERS (`perRow` bound values each). */
export async function inChunks<R>(db: Kysely<LedgerDatabase>, rows: readonly R[], perRow: number, write: (trx: Transaction<LedgerDatabase>, chunk: R[]) => Promise<unknown>): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const chunk of chunks(rows, Math.floor(MAX_PARAMETERS / perRow))) await write(trx, chunk);
  });
}

export function* chunks<T>(list: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

/**
 * Copies grouped by mailbox folder, each message once (the last listing
 * wins), in first-seen order: a batch is one folder of one mailbox. Nested
 * maps, so that 100,000 copies build no key strings.
 */
export function byFolder<R extends CopyKey>(rows: readonly R[]): { mailbox: string; folder: string; copies: Map<string, R> }[] {
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

/**
 * What a store operation may have done when its connection was lost, and so
 * whether guard may run it again:
 *
 * - 'read': nothing; run again.
 * - 'idempotent': a write whose second application promises nothing more
 *   than the first (an upsert, a conditional update, a claim: a claim that
 *   committed unseen is taken again by the same run as `recheck`, which
 *   looks the copy up before any resend); run again.
 * - 'once': a write that must not happen twice (a new run, an audit entry,
 *   an account, a lease, numbered failures): not run again when its
 *   connection was lost, since it may have committed; the caller gets
 *   LEDGER_ERROR saying so.
 *
 * A transaction the server rolled back to resolve a deadlock or a
 * serialization conflict wrote nothing, so every operation is run again.
 */
export type Safety = 'read' | 'idempotent' | 'once';

/**
 * Attempts after the first, and the pause before each (ms): a new connection
 * to a server that is back. Three, the last a second later: when every
 * backend of a process was terminated, the pool may hand a retry another
 * idle connection that died too before it has noticed (seen in CI under load).
 */
export const RETRY_DELAYS_MS: readonly number[] = [50, 250, 1_000];

/**
 * Runs one store operation: every fault of the database as LEDGER_ERROR
 * naming the operation (a broken foreign key with what the caller must do
 * first), retried where `safety` allows (see Safety).
 */
export async function guard<T>(operation: string, body: () => Promise<T>, foreignKeyHint?: string, safety: Safety = 'once'): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await body();
    } catch (e) {
      const lost = isConnectionLost(e);
      const retriable = isRolledBackConflict(e) || (lost && safety !== 'once');
      const delay = RETRY_DELAYS_MS[attempt];
      if (retriable && delay !== undefined && !(e instanceof XipError)) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      const note = !lost ? '' : safety === 'once' ? ' (the connection to the database was lost: not retried, as this write may have been committed)' : ` (the connection to the database was lost; tried ${attempt + 1} times)`;
      throw ledgerError(operation, e, foreignKeyHint, note);
    }
  }
}

/** A write that may be done twice (Safety): guard with retries. */
export function guardIdempotent<T>(operation: string, body: () => Promise<T>, foreignKeyHint?: string): Promise<T> {
  return guard(operation, body, foreignKeyHint, 'idempotent');
}

/** A store operation that only reads: guard with retries. */
export function guardRead<T>(operation: string, body: () => Promise<T>): Promise<T> {
  return guard(operation, body, undefined, 'read');
}

export function ledgerError(operation: string, e: unknown, foreignKeyHint?: string, note = ''): XipError {
  if (e instanceof XipError) return e;
  const code = (e as { code?: unknown })?.code;
  // pg puts the server's words in message; a URL in one (a connection error) never shows its password.
  const message = scrubSecrets(e instanceof Error ? e.message : String(e));
  const hint = isForeignKeyViolation(e) && foreignKeyHint ? ` (${foreignKeyHint})` : '';
  return new XipError('LEDGER_ERROR', `${operation}: ${typeof code === 'string' ? `${code}: ` : ''}${message}${hint}${note}`, { cause: e });
}
