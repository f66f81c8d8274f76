// Ledgers on real SQLite files in a temporary directory, through both
// delivery writers: the prepared statement of the SQLite adapter, and the
// portable Kysely statements the PostgreSQL adapter uses (postgres.ts runs
// them on a real server in ledger-contract.test.ts).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { KyselyLedger } from '../kysely-ledger.js';
import { migrateLedger } from '../migrations/index.js';
import type { Ledger } from '../port.js';
import { openSqliteKysely, openSqliteLedger } from '../sqlite.js';

export type OpenLedger = (path: string, now?: () => Date) => Promise<Ledger>;

export const WRITERS: readonly [string, OpenLedger][] = [
  ['prepared statement (openSqliteLedger)', (path, now) => openSqliteLedger(path, { now })],
  [
    'portable Kysely statements',
    async (path, now) => {
      const { kysely } = openSqliteKysely(path);
      await migrateLedger(kysely as Kysely<unknown>);
      return new KyselyLedger(kysely, { now });
    },
  ],
];

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'xip-ledger-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Reads the file as another connection would (read-only), to check what is stored. */
export function rows<T>(path: string, query: string, ...params: unknown[]): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(query).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** A clock that moves one second per call, from 2026-01-01T00:00:00Z. */
export function steppingClock(): () => Date {
  let t = Date.parse('2026-01-01T00:00:00Z');
  return () => new Date((t += 1000) - 1000);
}
