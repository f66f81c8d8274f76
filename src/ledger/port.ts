// The port is the core's (src/ports/ledger.ts); kysely-ledger.ts implements it.
export * from '../ports/ledger.js';
