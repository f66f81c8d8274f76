// Delivery faults. The codes are in the one catalogue (src/errors.ts,
// DELIVERY_CODES). A code on a failed DeliveryOutcome is a verdict on one copy
// of one message: the other copies go on. A DeliveryError thrown by a target
// means the target as a whole cannot be used (MailboxTarget in port.ts).
import { DELIVERY_CODES, isDeliveryCode, XipError, type DeliveryCode } from '../errors.js';
import type { DeliveryOutcome } from './port.js';

export { DELIVERY_CODES, isDeliveryCode, type DeliveryCode };

/**
 * The target as a whole cannot be used. `partial` holds the outcomes already
 * known for the batch that was being delivered when it happened (copies that
 * did arrive, so that the caller can record them); the rest of that batch was
 * not delivered.
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

/** A failed outcome for one message. */
export function failed(messageId: string, code: DeliveryCode, reason: string): DeliveryOutcome {
  return { messageId, ok: false, code, reason };
}
