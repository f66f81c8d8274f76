// Delivery faults. The codes are in the one catalogue (src/errors.ts,
// DELIVERY_CODES); the error class and the outcome helpers belong to the
// core's port (src/ports/mailbox-target.ts). A code on a failed or unknown
// outcome is a verdict on one copy of one message: the other copies go on.
export { DELIVERY_CODES, DeliveryError, delivered, failed, isDeliveryCode, isDeliveryError, unknown, type DeliveryCode } from '../ports/mailbox-target.js';
