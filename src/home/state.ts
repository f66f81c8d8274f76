// Opening an installation: XIP_HOME made if missing, its database (ledger,
// connectors, runs and their logs, accounts and the audit trail, migrated),
// and the key to its secrets.
//
// The database is XIP_HOME/xip.db (SQLite) unless XIP_DATABASE_URL names a
// PostgreSQL database (postgres://USER:PASSWORD@HOST:PORT/DATABASE), which
// several workers share (issue 12). XIP_HOME still holds the secret key, the
// evidence store, staging and logs. The URL is read from the environment
// only, never from a flag: a command line is visible to every user of the
// machine (ps, /proc), and the URL carries the password. It is shown only
// with its password replaced by *** (ledger/faults.ts).
import { hostname } from 'node:os';
import { XipError } from '../errors.js';
import { scrubSecrets } from '../ledger/faults.js';
import { isPostgresUrl, openPostgresState } from '../ledger/postgres.js';
import { openSqliteState } from '../ledger/sqlite.js';
import type { LedgerState } from '../ledger/stores.js';
import type { AccountStore } from '../ports/account-store.js';
import type { RunParts } from '../ports/run-parts.js';
import type { WorkerRegistry } from '../ports/worker-registry.js';
import { ensureHome, homeFrom } from './home.js';
import type { InstallationState } from './run-connector.js';
import { openSecretBox } from './secrets.js';

export const DATABASE_URL_ENV = 'XIP_DATABASE_URL';

/** XIP_DATABASE_URL when set (USAGE when it is not a PostgreSQL URL), else undefined: SQLite. */
export function databaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const url = env[DATABASE_URL_ENV];
  if (url === undefined || url === '') return undefined;
  if (!isPostgresUrl(url)) throw new XipError('USAGE', `${DATABASE_URL_ENV} must be postgres://USER:PASSWORD@HOST:PORT/DATABASE, got "${scrubSecrets(url).slice(0, 80)}"`);
  return url;
}

/**
 * The database's stores: PostgreSQL when XIP_DATABASE_URL is set, else the
 * SQLite file at `sqlitePath`. Each process names its connections
 * xip-<command>-HOST-PID (pg_stat_activity's application_name), so that an
 * operator sees which worker holds what.
 */
export async function openDatabase(env: NodeJS.ProcessEnv, sqlitePath: string, command: string): Promise<LedgerState> {
  const url = databaseUrl(env);
  if (url === undefined) return openSqliteState(sqlitePath);
  return openPostgresState(url, { applicationName: `xip-${command}-${hostname()}-${process.pid}` });
}

/** `command` names this process's database connections (openDatabase). */
export async function openInstallation(
  env: NodeJS.ProcessEnv,
  command = 'cli',
): Promise<InstallationState & { readonly accounts: AccountStore; readonly workers: WorkerRegistry; readonly parts: RunParts; close(): Promise<void> }> {
  const home = homeFrom(env);
  databaseUrl(env); // a wrong URL is refused before anything is made
  await ensureHome(home);
  const box = await openSecretBox(home.root, env);
  const { ledger, connectors, accounts, workers, parts } = await openDatabase(env, home.database, command);
  return { home, ledger, store: connectors, accounts, workers, parts, box, close: () => ledger.close() };
}
