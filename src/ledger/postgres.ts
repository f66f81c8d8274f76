// Everything XIP_HOME's SQLite file holds (ledger, runs and their logs,
// connectors, accounts, the audit trail) in one PostgreSQL database, through
// Kysely's PostgresDialect over a pg Pool: what several workers share
// (issue 12). The stores are the same as SQLite's (stores.ts); what differs
// is here and in migrations/engine.ts:
//
// - Concurrency: every write is one statement or one transaction at READ
//   COMMITTED. Claims and leases are conditional upserts (claims.ts,
//   connector-store.ts): INSERT … ON CONFLICT DO UPDATE locks the row it
//   conflicts with and re-evaluates its WHERE against the latest committed
//   version, so of two workers claiming one copy the second waits for the
//   first's commit and then sees its claim. Batches write in Message-ID
//   order (claimOrder), so two claims cannot deadlock; a deadlock or a
//   serialization failure that happens anyway rolls the transaction back
//   and batches.ts's guard runs it again.
// - Lost connections: a backend terminated (57P01) or a socket reset gives
//   LEDGER_ERROR; reads and idempotent writes are retried on a new
//   connection, writes that must not happen twice are not (batches.ts,
//   Safety). The pool drops a broken connection and opens another for the
//   next call.
// - Types: timestamptz comes back as the same ISO 8601 UTC text SQLite
//   stores, bigint (counts, sizes) as a number, boolean as a boolean
//   (schema.ts reads flags either way).
// - Migrations run under a session-level advisory lock, MIGRATION_LOCK_KEY,
//   so that workers starting together migrate once, one after the other.
//
// Nothing connects at import: the pool is made by openPostgresState.
import { hostname } from 'node:os';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { XipError } from '../errors.js';
import { ledgerError } from './batches.js';
import { scrubSecrets } from './faults.js';
import { LEDGER_MIGRATIONS, migrateLedger } from './migrations/index.js';
import type { LedgerDatabase } from './schema.js';
import { statesOver, type LedgerState } from './stores.js';
import type { Migration } from 'kysely';

/**
 * The key of the advisory lock held while migrating: the ASCII bytes of
 * "xipmig" as a bigint (0x7869706d6967). An operator sees it in pg_locks
 * (locktype 'advisory', classid 30825, objid 1886218599 for the two halves).
 * Kysely's Migrator takes its own lock inside (3853314791062309107); this
 * one also covers the creation of its bookkeeping tables, which Kysely does
 * before locking and which two workers would otherwise race on.
 */
export const MIGRATION_LOCK_KEY = 132394253117799n;

export interface PostgresOptions {
  /**
   * The application_name of every connection (pg_stat_activity), by which an
   * operator tells workers apart and a test terminates one worker's
   * backends. Default xip-HOST-PID.
   */
  readonly applicationName?: string | undefined;
  /** Connections the pool holds at most. */
  readonly maxConnections?: number | undefined;
  /** How long opening a connection may take before LEDGER_ERROR, in ms. */
  readonly connectTimeoutMs?: number | undefined;
  /** The clock for leases, first_seen, updated_at and the like; tests set it. */
  readonly now?: (() => Date) | undefined;
  /** The migrations to run (tests count them); the ledger's by default. */
  readonly migrations?: Readonly<Record<string, Migration>> | undefined;
}

export const DEFAULT_MAX_CONNECTIONS = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export function defaultApplicationName(): string {
  return `xip-worker-${hostname()}-${process.pid}`;
}

/** Whether a database setting names PostgreSQL (postgres:// or postgresql://). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens the pool, migrates the database under the advisory lock, and hands
 * back the ledger and the stores over it; closing the ledger ends the pool.
 * LEDGER_ERROR (the URL shown without its password) when the URL is not a
 * PostgreSQL one, the server does not answer or refuses the login, or a
 * migration fails.
 */
export async function openPostgresState(url: string, options: PostgresOptions = {}): Promise<LedgerState> {
  const kysely = openPostgresKysely(url, options);
  try {
    await migratePostgres(kysely as Kysely<unknown>, options.migrations);
  } catch (e) {
    await kysely.destroy().catch(() => undefined); // the migration's error is the one to report
    const error = ledgerError('migrating', e);
    throw new XipError('LEDGER_ERROR', `opening the database ${scrubSecrets(url)}: ${error.detail ?? error.message}`, { cause: error.cause ?? e });
  }
  return statesOver(kysely, { now: options.now, skipLocked: true });
}

/** The database under Kysely, not migrated: what openPostgresState builds on, and what tests use to look inside. */
export function openPostgresKysely(url: string, options: PostgresOptions = {}): Kysely<LedgerDatabase> {
  if (!isPostgresUrl(url)) throw new XipError('LEDGER_ERROR', `the database URL ${scrubSecrets(url)} is not postgres://USER:PASSWORD@HOST:PORT/DATABASE`);
  const pool = new pg.Pool({
    connectionString: url,
    application_name: options.applicationName ?? defaultApplicationName(),
    max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  });
  // A connection that ends while idle in the pool (its backend terminated, the
  // server restarted) is reported here; the pool has dropped it already and
  // the next call opens another. Without a listener, Node would end the
  // process on this 'error' event.
  pool.on('error', () => undefined);
  // The same for a connection checked out between two statements (inside a
  // transaction): pg emits its end as an 'error' event on the client, which
  // would end the process; the next statement on it fails instead (and is
  // retried where that is safe: batches.ts), and the pool drops it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Brings the database to the latest migration while holding
 * MIGRATION_LOCK_KEY on one connection, on which the migrations also run: a
 * second worker waits at the lock, then finds nothing left to do.
 */
export async function migratePostgres(db: Kysely<unknown>, migrations: Readonly<Record<string, Migration>> = LEDGER_MIGRATIONS): Promise<void> {
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK_KEY.toString())}::bigint)`.execute(conn);
    try {
      await migrateLedger(conn, undefined, migrations);
    } finally {
      // A session lock outlives a failed migration: release it, or the
      // connection would go back to the pool still holding it.
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK_KEY.toString())}::bigint)`.execute(conn).catch(() => undefined);
    }
  });
}

const defaultParser = pg.types.getTypeParser.bind(pg.types) as (oid: number, format?: string) => (value: string) => unknown;

/**
 * Values as the stores expect them from either engine (schema.ts):
 * timestamptz as ISO 8601 UTC text with milliseconds (what toISOString
 * writes, and SQLite stores), bigint as a number (counts; sizes of files,
 * far below 2^53).
 */
function typeParser(oid: number, format?: string): (value: string) => unknown {
  if (format === undefined || format === 'text') {
    if (oid === pg.types.builtins.TIMESTAMPTZ) {
      const parse = defaultParser(oid, 'text') as (value: string) => Date;
      return (value) => parse(value).toISOString();
    }
    if (oid === pg.types.builtins.INT8) return (value) => Number(value);
  }
  return defaultParser(oid, format);
}
