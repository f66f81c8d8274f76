import type { DataEntry, VerifiedEntries } from '../items/ports.js';

/** What every message of one container shares. */
export interface MessageContext {
  /** xip-items.md §3 `source` (see items/source.ts resolveSource). */
  readonly source: string;
  readonly entries: VerifiedEntries;
  readonly entryByName: ReadonlyMap<string, DataEntry>;
}

export function createMessageContext(entries: VerifiedEntries, source: string): MessageContext {
  if (source === '') throw new TypeError('createMessageContext: source must not be empty');
  return Object.freeze({ source, entries, entryByName: new Map(entries.entries.map((e) => [e.name, e])) });
}
