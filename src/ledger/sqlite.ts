// The ledger in one SQLite file, through better-sqlite3 and Kysely.
//
// - journal_mode=WAL: readers (the console, a second process) never block the
//   writer, and a commit is one append to the WAL.
// - synchronous=FULL: the WAL is fsynced at every commit, so a copy marked
//   claimed is on disk before the target is touched (port.ts: claim),
//   even if the machine loses power, not only if the process dies.
// - busy_timeout: another process's write transaction is waited for.
// - foreign_keys: SQLite leaves them off unless asked, per connection.
//
// Nothing here runs at import: the database is opened by openSqliteLedger.
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  OperationNodeTransformer,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type SqliteDialectConfig,
  type UnknownRow,
  type ValueNode,
} from 'kysely';
import { XipError } from '../errors.js';
import { ledgerError } from './batches.js';
import { migrateLedger } from './migrations/index.js';
import type { Ledger } from './port.js';
import type { LedgerDatabase } from './schema.js';
import { preparedDeliveryWriter } from './sqlite-writer.js';
import { statesOver, type LedgerState } from './stores.js';

export interface SqliteLedgerOptions {
  /** How long a statement waits for another process's write transaction before LEDGER_ERROR (SQLITE_BUSY), in ms. */
  readonly busyTimeoutMs?: number | undefined;
  /** The clock for leases, first_seen, updated_at and the like; tests set it. */
  readonly now?: (() => Date) | undefined;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens (creating if missing) and migrates the ledger at `path`. Throws
 * LEDGER_ERROR when the path cannot be opened, the file is not a SQLite
 * database or is corrupt, WAL cannot be used there, or a migration fails.
 */
export async function openSqliteLedger(path: string, options: SqliteLedgerOptions = {}): Promise<Ledger> {
  return (await openSqliteState(path, options)).ledger;
}

/** What openSqliteState opens: the ledger and the stores beside it, over one connection. */
export type SqliteState = LedgerState;

/**
 * The ledger, the connectors' store (ports/connector-store.ts) and the
 * accounts' store (ports/account-store.ts) over one database connection:
 * what `xip connector`, `xip user` and `xip serve` open under XIP_HOME.
 * Closing the ledger closes them all.
 */
export async function openSqliteState(path: string, options: SqliteLedgerOptions = {}): Promise<SqliteState> {
  const { kysely, database } = openSqliteKysely(path, options);
  try {
    await migrateLedger(kysely as Kysely<unknown>);
  } catch (e) {
    await kysely.destroy().catch(() => undefined); // the migration's error is the one to report
    const error = ledgerError('migrating', e);
    throw new XipError('LEDGER_ERROR', `opening the ledger ${path}: ${error.detail ?? error.message}`, { cause: error.cause ?? e });
  }
  return statesOver(kysely, { now: options.now, writer: preparedDeliveryWriter(kysely, database), skipLocked: false });
}

/**
 * The configured database under Kysely, not migrated: what openSqliteLedger
 * builds on, and what tests use to make a ledger of an older version or to
 * run the portable writer on SQLite.
 */
export function openSqliteKysely(path: string, options: SqliteLedgerOptions = {}): { kysely: Kysely<LedgerDatabase>; database: Database.Database } {
  const database = openDatabase(path, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  return { kysely: new Kysely<LedgerDatabase>({ dialect: new LedgerSqliteDialect({ database }), plugins: [new BooleansAsIntegers()] }), database };
}

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (e) {
    throw ledgerError(`opening the ledger ${path}`, e);
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    // The first statement that reads the file: a file that is not a database fails here (SQLITE_NOTADB).
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && !db.memory) throw new Error(`the journal mode stayed "${String(mode)}": WAL needs a local file system with shared memory`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Reads the schema: a corrupt first page fails here rather than at the first write.
    db.prepare('select count(*) from sqlite_schema').get();
  } catch (e) {
    db.close();
    throw ledgerError(`opening the ledger ${path}`, e);
  }
  return db;
}

/**
 * Two corrections to Kysely's SQLite dialect, both for concurrent processes
 * and crashes:
 *
 * - Transactions begin IMMEDIATE: the write lock is taken at BEGIN, waiting
 *   up to busy_timeout. A deferred transaction that reads first and then
 *   writes fails at once with SQLITE_BUSY when another process wrote in
 *   between (WAL snapshot), which busy_timeout cannot help.
 * - DDL runs in transactions: SQLite supports it, but Kysely's adapter says it
 *   does not, so its Migrator would apply a migration statement by statement
 *   and leave half of one after a crash. With it, a migration is all or
 *   nothing, and two processes opening a new ledger migrate one after the other.
 */
class LedgerSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * SQLite has no boolean type and better-sqlite3 refuses to bind a JS
 * boolean: the stores write booleans (PostgreSQL's are real ones), and this
 * plugin binds them as 1 and 0, which the columns' CHECKs accept
 * (migrations/engine.ts). Reads give 0/1 back; the stores read flags
 * through isSet (schema.ts).
 */
class BooleansAsIntegers implements KyselyPlugin {
  readonly #transformer = new (class extends OperationNodeTransformer {
    protected override transformValue(node: ValueNode): ValueNode {
      return typeof node.value === 'boolean' ? { ...node, value: node.value ? 1 : 0 } : node;
    }

    protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
      return node.values.some((v) => typeof v === 'boolean') ? { ...node, values: node.values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)) } : node;
    }
  })();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
