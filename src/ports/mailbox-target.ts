// The one port through which the core delivers messages into mailboxes
// (style.md: the core owns its ports). Each folder of src/delivery/ (maildir/,
// imap/, later graph/) implements it; the import run is built against it and
// imports no adapter (eslint.config.js enforces it).
//
// Outcomes: every message of a batch ends in exactly one of three states, and
// the import run's exactly-once protocol rests on a target telling the truth:
//
//   delivered  stored and durable; `ref` says where (IMAP "uidvalidity:uid",
//              Maildir "folder/cur/filename", Graph the message id).
//   failed     known NOT to be stored: safe to send again later. Only report
//              this when nothing of the message can have been kept (the server
//              refused it, the file was never renamed into place, …).
//   unknown    may or may not be stored: the connection was lost after the
//              message was sent, a directory fsync failed after the rename,
//              the server's answer never came. The ledger keeps the copy
//              pending, and it is looked up in the target (findExisting)
//              before it is ever sent again.
//
// When in doubt a target says `unknown`: a wrong `failed` makes a duplicate, a
// wrong `unknown` costs one look-up.
import type { Readable } from 'node:stream';
import { DELIVERY_CODES, isDeliveryCode, XipError, type DeliveryCode } from '../errors.js';

export { DELIVERY_CODES, isDeliveryCode, type DeliveryCode };

export interface OutgoingMessage {
  /** The normalised Message-ID, "<id-left@id-right>" (message/message-id.ts: parseMessageId). */
  readonly messageId: string;
  readonly size: number /* exact octets */;
  readonly internalDate: Date;
  open(): Readable /* CRLF message bytes; may be called more than once */;
}

export type DeliveryStatus = 'delivered' | 'failed' | 'unknown';

export type DeliveryOutcome =
  | { readonly messageId: string; readonly status: 'delivered'; readonly ref: string }
  | { readonly messageId: string; readonly status: 'failed' | 'unknown'; readonly code: DeliveryCode; readonly reason: string };

export interface MailboxTarget {
  readonly description: string; // for logs, without secrets
  /**
   * Batches (each for another mailbox) the target serves well at once, when
   * more than the run's default of 4: Graph's limits are per mailbox, so it
   * goes faster with many mailboxes in flight. An explicit concurrency wins.
   */
  readonly parallelism?: number;
  /**
   * How long a write may still land in the store after its sender stopped
   * (killed, crashed, cut off): a server carries out a command it received
   * whole even when nobody waits for its answer any more. Copies whose last
   * attempt stopped are looked up only once this has passed since it
   * stopped, so that the lookup sees what that attempt stored. 0 where
   * nothing outlives the writer (Maildir: the run's own process writes).
   */
  readonly settleMs: number;
  /**
   * Which of these Message-IDs the mailbox's folder holds, with their ref —
   * used for copies whose last attempt is `unknown` (or was cut short by a
   * crash) and when the ledger is lost. A Message-ID is compared in its
   * normalised form, whatever form the stored header has.
   */
  findExisting(mailbox: string, folder: string, messageIds: readonly string[]): Promise<Map<string, string>>;
  /** Every Message-ID (normalised) in the mailbox's folder, with its ref (empty when the folder does not exist): one pass, for a ledger that has never delivered there. */
  listExisting(mailbox: string, folder: string): Promise<Map<string, string>>;
  /**
   * Delivers a batch into mailbox/folder (creating the folder when missing,
   * and taking a folder that already exists as it is), \Seen,
   * INTERNALDATE/file time = internalDate. One outcome per message, in order;
   * `delivered` means durable when this returns. Connection faults are retried
   * inside with backoff (bounded) and resume where they were. What cannot be
   * delivered is a `failed` or `unknown` outcome, never a throw, unless the
   * target as a whole is unusable: then a DeliveryError, whose `partial`
   * holds the outcomes known; every message of the batch absent from
   * `partial` is `unknown`.
   */
  deliverBatch(mailbox: string, folder: string, messages: readonly OutgoingMessage[]): Promise<DeliveryOutcome[]>;
  close(): Promise<void>;
}

/**
 * The target as a whole cannot be used. `partial` holds the outcomes already
 * known for the batch that was being delivered when it happened; the rest of
 * that batch is `unknown` to the caller.
 */
export class DeliveryError extends XipError {
  declare readonly code: DeliveryCode;
  readonly partial: readonly DeliveryOutcome[];

  constructor(code: DeliveryCode, detail?: string, options?: { cause?: unknown; partial?: readonly DeliveryOutcome[] }) {
    super(code, detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryError';
    this.partial = options?.partial ?? [];
  }
}

export function isDeliveryError(e: unknown): e is DeliveryError {
  return e instanceof DeliveryError;
}

/** A `failed` outcome: known not to be stored. */
export function failed(messageId: string, code: DeliveryCode, reason: string): DeliveryOutcome {
  return { messageId, status: 'failed', code, reason };
}

/** An `unknown` outcome: may be stored; looked up before any resend. */
export function unknown(messageId: string, code: DeliveryCode, reason: string): DeliveryOutcome {
  return { messageId, status: 'unknown', code, reason };
}

export function delivered(messageId: string, ref: string): DeliveryOutcome {
  return { messageId, status: 'delivered', ref };
}
