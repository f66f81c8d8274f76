// The engines a store test runs on: SQLite (a file in a temporary folder)
// and PostgreSQL (a real server, started on first use and stopped when the
// test file ends; a fresh database for each state). A test written against
// FreshState runs unchanged on both, reading what is stored through raw SQL
// on a connection of its own.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { openPostgresState } from '../postgres.js';
import { openSqliteState } from '../sqlite.js';
import type { LedgerState } from '../stores.js';
import { tempDir } from './ledgers.js';
import { startPostgresDatabases, type PostgresDatabases } from './postgres-databases.js';

export interface FreshState extends LedgerState {
  /** Rows read through another connection; times as ISO 8601 text on both engines. */
  rows<T>(query: string): Promise<T[]>;
  /** Statements (one or several, `;`-separated) run through another connection (one that is not the stores'). */
  exec(statement: string): Promise<void>;
  /** A second state over the same database, as another process would open. */
  another(): Promise<LedgerState>;
  /** Closes the stores and removes what was made. */
  dispose(): Promise<void>;
}

export interface EngineUnderTest {
  readonly name: 'SQLite' | 'PostgreSQL';
  fresh(options?: { now?: () => Date }): Promise<FreshState>;
}

const sqlite: EngineUnderTest = {
  name: 'SQLite',
  async fresh(options = {}) {
    const tmp = tempDir();
    const path = join(tmp.dir, 'xip.db');
    const state = await openSqliteState(path, options);
    const raw = <T>(body: (db: Database.Database) => T): T => {
      const db = new Database(path);
      try {
        return body(db);
      } finally {
        db.close();
      }
    };
    return {
      ...state,
      rows: async <T>(query: string) => raw((db) => db.prepare(query).all() as T[]),
      exec: async (statement) => raw((db) => void db.exec(statement)),
      another: () => openSqliteState(path, options),
      async dispose() {
        await state.ledger.close();
        tmp.remove();
      },
    };
  },
};

/** SQLite, and PostgreSQL on a server of this test file's own. */
export function storeEngines(): readonly EngineUnderTest[] {
  let databases: Promise<PostgresDatabases> | undefined;
  after(async () => {
    if (databases) await (await databases).stop();
  });
  const postgres: EngineUnderTest = {
    name: 'PostgreSQL',
    async fresh(options = {}) {
      const url = await (await (databases ??= startPostgresDatabases())).migrated();
      const state = await openPostgresState(url, { ...options, applicationName: 'xip-test-stores' });
      // One raw connection per state, opened on first use (connecting costs a tenth of a second here).
      let raw: Promise<pg.Client> | undefined;
      const client = async <T>(body: (c: pg.Client) => Promise<T>): Promise<T> => {
        raw ??= (async () => {
          const c = new pg.Client({ connectionString: url, application_name: 'xip-test-raw' });
          c.on('error', () => undefined);
          await c.connect();
          return c;
        })();
        return body(await raw);
      };
      return {
        ...state,
        rows: <T>(query: string) =>
          client(async (c) => (await c.query(query)).rows.map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]))) as T[]),
        exec: (statement) => client(async (c) => void (await c.query(statement))),
        another: () => openPostgresState(url, { ...options, applicationName: 'xip-test-another' }),
        async dispose() {
          await state.ledger.close();
          if (raw) await (await raw).end();
        },
      };
    },
  };
  return [sqlite, postgres];
}
