// Batching for the ledger's statements, and its one way of reporting a fault.
import type { Kysely, Transaction } from 'kysely';
import { XipError } from '../errors.js';
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

/** Every fault of the database as LEDGER_ERROR naming the operation; a broken foreign key with what the caller must do first. */
export async function guard<T>(operation: string, body: () => Promise<T>, foreignKeyHint?: string): Promise<T> {
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
