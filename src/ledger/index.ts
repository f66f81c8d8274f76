export { deliveryKey, type ContainerRecord, type CopyKey, type DeliveryRecord, type DeliveryState, type ItemRecord, type Ledger } from './port.js';
export { openSqliteLedger, type SqliteLedgerOptions } from './sqlite.js';
