export type { DataEntry, VerifiedEntries } from './ports.js';
export type { Attachment, EmlItem, Item, ItemFailure, ItemOrigin, ItemResult, JsonItem, Participant, Party, ReadItem, Role } from './item.js';
export { readItems, entryKind, type ItemStream, type ReadItemsOptions } from './read.js';
export { resolveSource, type SourceResolution } from './source.js';
export { validateItem } from './schema.js';
export { JsonNumber, stringifyJson, type JsonValue } from './json.js';
export { ITEM_CODES, isItemCode, type ItemCode } from './errors.js';
