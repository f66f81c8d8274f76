// The port is the core's (src/ports/mailbox-target.ts); the adapters beside
// this file implement it.
export type { DeliveryCode, DeliveryOutcome, DeliveryStatus, MailboxTarget, OutgoingMessage } from '../ports/mailbox-target.js';
