// The ports the core owns (style.md): adapters implement them, the wiring
// (cli/, later server/) hands them to the core.
export * from './container-source.js';
export * from './ledger.js';
export * from './mailbox-target.js';
