// The item codes live in the one catalogue, src/errors.ts; re-exported here
// for the items and message modules.
export { ITEM_CODES, isItemCode, type ItemCode } from '../errors.js';
