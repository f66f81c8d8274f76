export { buildMessage, subjectOf, type MessageSource } from './build.js';
export { createMessageContext, type MessageContext } from './context.js';
export { messageIdFor } from './message-id.js';
