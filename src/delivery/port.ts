// The one port through which the core delivers messages into mailboxes
// (style.md: the core owns its ports). Each folder beside this file (maildir/,
// imap/) implements it; the import orchestrator, the ledger and the mapping
// are built against it and import no adapter.
import type { Readable } from 'node:stream';
import type { DeliveryCode } from './errors.js';

export type { DeliveryCode } from './errors.js';

export interface OutgoingMessage {
  readonly messageId: string /* with <> */;
  readonly size: number /* exact octets */;
  readonly internalDate: Date;
  open(): Readable /* CRLF message bytes; may be called more than once */;
}

export type DeliveryOutcome =
  | { readonly messageId: string; readonly ok: true; readonly ref: string /* IMAP "uidvalidity:uid" (APPENDUID) or Maildir "folder/cur/filename" */ }
  | { readonly messageId: string; readonly ok: false; readonly code: DeliveryCode; readonly reason: string };

export interface MailboxTarget {
  readonly description: string; // for logs, without secrets
  /** Message-IDs already present in the mailbox's folder, with their ref — used when the ledger is lost or after a crash. */
  findExisting(mailbox: string, folder: string, messageIds: readonly string[]): Promise<Map<string, string>>;
  /** Every Message-ID in the mailbox's folder, with its ref (empty when the folder does not exist): one pass, for a ledger that has never delivered there. */
  listExisting(mailbox: string, folder: string): Promise<Map<string, string>>;
  /** Deliver a batch into mailbox/folder (creating the folder when missing), \Seen, INTERNALDATE/file time = internalDate. Durable when it returns. One outcome per message, in order. Connection faults are retried inside with backoff (bounded) and resume where they were; what cannot be delivered is a failed outcome, never a throw, unless the target as a whole is unusable (then throw a coded error). */
  deliverBatch(mailbox: string, folder: string, messages: readonly OutgoingMessage[]): Promise<DeliveryOutcome[]>;
  close(): Promise<void>;
}
