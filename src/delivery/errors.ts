// Stable codes for what can go wrong when a message is delivered into a
// mailbox. Shaped like src/errors.ts so that the catalogues can be merged
// there. A code on a failed DeliveryOutcome is a verdict on one copy of one
// message: the other copies go on. A DeliveryError thrown by a target means the
// target as a whole cannot be used (MailboxTarget in port.ts).

import type { DeliveryOutcome } from './port.js';

export const DELIVERY_CODES = {
  MAILBOX_NOT_FOUND: 'The mailbox does not exist on the target, or the administrative identity may not act for it; add it to the mail server (or fix the directory) and import again.',
  FOLDER_INVALID: 'The folder name cannot be used on this target (empty, or a part is empty, ".", "..", starts with "~", or holds the hierarchy separator or a control character); choose another folder name.',
  MESSAGE_TOO_LARGE: "The message is larger than the target accepts (the server's APPENDLIMIT, or its maximum message size); raise the server's limit if the message should be kept, and import again.",
  MESSAGE_INVALID: 'The message could not be produced as declared (its byte stream failed, or yielded another size than declared); this is a fault of the connector or its staging area, not of the target: report it with the run log.',
  STORAGE_FULL: "The target's storage or the mailbox's quota is full; free space or raise the quota, and import again: the copies that failed are retried.",
  TARGET_AUTH_FAILED: 'The target refused the administrative identity: check the user in --to and XIP_IMAP_PASSWORD, and that this identity may act for other mailboxes (SASL authorization or a Dovecot master user).',
  TARGET_UNAVAILABLE: 'The target could not be reached or kept failing after retries (network, server down, or a directory that cannot be written); fix the cause and run the import again: what was delivered is not delivered twice.',
  TARGET_REJECTED: 'The target refused the message for a reason it gave (quoted in the detail); check the server log for that mailbox.',
} as const;

export type DeliveryCode = keyof typeof DELIVERY_CODES;

export function isDeliveryCode(code: string): code is DeliveryCode {
  return Object.hasOwn(DELIVERY_CODES, code);
}

/**
 * The target as a whole cannot be used. `partial` holds the outcomes already
 * known for the batch that was being delivered when it happened (copies that
 * did arrive, so that the caller can record them); the rest of that batch was
 * not delivered.
 */
export class DeliveryError extends Error {
  readonly code: DeliveryCode;
  readonly detail: string | undefined;
  readonly partial: readonly DeliveryOutcome[];

  constructor(code: DeliveryCode, detail?: string, options?: { cause?: unknown; partial?: readonly DeliveryOutcome[] }) {
    super(detail ?? DELIVERY_CODES[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryError';
    this.code = code;
    this.detail = detail;
    this.partial = options?.partial ?? [];
  }

  /** The catalogue sentence followed by what was found: what a person reads. */
  get explanation(): string {
    return this.detail ? `${DELIVERY_CODES[this.code]} (${this.detail})` : DELIVERY_CODES[this.code];
  }
}

export function isDeliveryError(e: unknown): e is DeliveryError {
  return e instanceof DeliveryError;
}

/** A failed outcome for one message. */
export function failed(messageId: string, code: DeliveryCode, reason: string): DeliveryOutcome {
  return { messageId, ok: false, code, reason };
}
