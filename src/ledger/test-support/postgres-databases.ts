// Fresh PostgreSQL databases for the store tests, on one server per test file
// (test/support/postgres.ts): the schema is migrated once into a template,
// and each fresh database is a copy of it (CREATE DATABASE … TEMPLATE, a file
// copy on the server: milliseconds, where migrating anew would take a
// tenth of a second per test).
import pg from 'pg';
import { startPostgres, type Postgres } from '../../../test/support/postgres.js';
import { openPostgresState } from '../postgres.js';

export interface PostgresDatabases {
  readonly server: Postgres;
  /** A new empty database (not migrated): its URL. */
  empty(): Promise<string>;
  /** A new database at the latest migration: its URL. */
  migrated(): Promise<string>;
  /** One query on the database at `url` through a connection of its own; the rows. */
  query<T>(url: string, text: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export async function startPostgresDatabases(): Promise<PostgresDatabases> {
  const server = await startPostgres();
  // The maintenance database: CREATE DATABASE runs there, never in the copied template.
  const admin = new pg.Pool({ connectionString: server.urlFor('postgres'), max: 2, application_name: 'xip-test-admin' });
  admin.on('error', () => undefined);
  let n = 0;
  let template: Promise<string> | undefined;
  const create = async (from?: string): Promise<string> => {
    const name = `t${process.pid}_${++n}`;
    await admin.query(`create database ${name}${from ? ` template ${from}` : ''}`);
    return server.urlFor(name);
  };
  const makeTemplate = async (): Promise<string> => {
    const url = await create();
    const state = await openPostgresState(url, { applicationName: 'xip-test-template' });
    await state.ledger.close();
    return url.slice(url.lastIndexOf('/') + 1);
  };
  return {
    server,
    empty: () => create(),
    migrated: async () => create(await (template ??= makeTemplate())),
    async query<T>(url: string, text: string, values: unknown[] = []) {
      const client = new pg.Client({ connectionString: url, application_name: 'xip-test-reader' });
      await client.connect();
      try {
        return (await client.query(text, values)).rows as T[];
      } finally {
        await client.end();
      }
    },
    async stop() {
      await admin.end().catch(() => undefined);
      await server.stop();
    },
  };
}
