// The four stores over one Kysely instance, whichever engine it drives:
// what openSqliteState (sqlite.ts) and openPostgresState (postgres.ts) hand
// to the installation once the database is open and migrated.
import type { Kysely } from 'kysely';
import type { AccountStore } from '../ports/account-store.js';
import type { ConnectorStore } from '../ports/connector-store.js';
import type { RunParts } from '../ports/run-parts.js';
import type { WorkerRegistry } from '../ports/worker-registry.js';
import { KyselyAccountStore, type AccountDatabase } from './account-store.js';
import type { DeliveryWriter } from './claims.js';
import { KyselyConnectorStore } from './connector-store.js';
import { KyselyLedger } from './kysely-ledger.js';
import type { Ledger } from './port.js';
import { KyselyRunParts, type RunPartsDatabase } from './run-parts.js';
import type { LedgerDatabase } from './schema.js';
import { KyselyWorkerRegistry, type WorkerDatabase } from './worker-registry.js';

/** The ledger and the stores beside it, over one database; closing the ledger closes them all. */
export interface LedgerState {
  readonly ledger: Ledger;
  readonly connectors: ConnectorStore;
  readonly accounts: AccountStore;
  readonly workers: WorkerRegistry;
  readonly parts: RunParts;
}

/** `skipLocked`: the engine has FOR UPDATE SKIP LOCKED (PostgreSQL), for claims of run parts. */
export function statesOver(kysely: Kysely<LedgerDatabase>, options: { now?: (() => Date) | undefined; writer?: DeliveryWriter | undefined; skipLocked: boolean }): LedgerState {
  const ledger = new KyselyLedger(kysely, { now: options.now, writer: options.writer });
  const connectors = new KyselyConnectorStore(kysely, { now: options.now, close: () => ledger.close() });
  // The same database, seen through the tables of 0005_accounts (account-store.ts types them).
  const accounts = new KyselyAccountStore(kysely as unknown as Kysely<AccountDatabase>);
  const workers = new KyselyWorkerRegistry(kysely as unknown as Kysely<WorkerDatabase>, { now: options.now });
  const parts = new KyselyRunParts(kysely as unknown as Kysely<RunPartsDatabase>, { now: options.now, skipLocked: options.skipLocked });
  return { ledger, connectors, accounts, workers, parts };
}
