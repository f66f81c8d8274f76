// The ledger's migrations, in code (no directory read at run time, so they
// ship inside the build). Names sort in the order they apply; a published
// migration never changes: a change to the schema is a new one.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { XipError } from '../../errors.js';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_items_by_container.js';
import * as m0003 from './0003_claims_and_leases.js';
import * as m0004 from './0004_connectors.js';
import * as m0005 from './0005_accounts.js';
import * as m0006 from './0006_sso_identities.js';
import * as m0007 from './0007_workers.js';
import * as m0008 from './0008_scheduled_slots.js';
import * as m0009 from './0009_run_parts.js';
import * as m0010 from './0010_sso_pending.js';

export const LEDGER_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_initial': m0001,
  '0002_items_by_container': m0002,
  '0003_claims_and_leases': m0003,
  '0004_connectors': m0004,
  '0005_accounts': m0005,
  '0006_sso_identities': m0006,
  '0007_workers': m0007,
  '0008_scheduled_slots': m0008,
  '0009_run_parts': m0009,
  '0010_sso_pending': m0010,
});

export const LATEST_MIGRATION = Object.keys(LEDGER_MIGRATIONS).sort().at(-1) as string;

export function migrationProvider(migrations: Readonly<Record<string, Migration>> = LEDGER_MIGRATIONS): MigrationProvider {
  return { getMigrations: async () => ({ ...migrations }) };
}

/**
 * Brings the ledger to `target` (the latest by default), through
 * `migrations` (the ledger's; tests wrap them). Throws LEDGER_ERROR
 * when a migration fails (it is rolled back whole where the dialect runs DDL
 * in transactions) or the ledger was written by a newer version.
 */
export async function migrateLedger(db: Kysely<unknown>, target?: string, migrations: Readonly<Record<string, Migration>> = LEDGER_MIGRATIONS): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(migrations) });
  const { error, results } = target === undefined || target === LATEST_MIGRATION ? await migrator.migrateToLatest() : await migrator.migrateTo(target);
  if (error === undefined) return;
  const message = error instanceof Error ? error.message : String(error);
  const missing = /previously executed migration (\S+) is missing/.exec(message);
  if (missing) {
    throw new XipError('LEDGER_ERROR', `the ledger has migration ${missing[1]}, which this version does not know: it was written by a newer xip-connector`, { cause: error });
  }
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  throw new XipError('LEDGER_ERROR', `migrating the ledger${failed ? ` (${failed})` : ''} failed: ${message}`, { cause: error });
}
