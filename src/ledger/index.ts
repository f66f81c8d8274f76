export {
  deliveryKey,
  type Claim,
  type ContainerRecord,
  type CopyKey,
  type DeliveryRecord,
  type DeliveryState,
  type FailureRecord,
  type ItemRecord,
  type Ledger,
  type LiveRun,
  type RunFinish,
  type RunStart,
} from './port.js';
export { openSqliteLedger, type SqliteLedgerOptions } from './sqlite.js';
export { MIGRATION_LOCK_KEY, openPostgresState, type PostgresOptions } from './postgres.js';
export type { LedgerState } from './stores.js';
