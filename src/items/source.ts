// The `source` of xip-items.md §3: the manifest's xip:Package @source, else
// xip.json's "source", else the connector's name. It is half of every item's
// identity (the Message-ID hashes source and id), so a present but unreadable
// xip.json stops the container rather than silently changing the source.
import { resolveItemLimits, type ItemLimits } from '../limits.js';
import { XipError } from '../errors.js';
import type { VerifiedEntries } from './ports.js';
import { readAll } from './read-entry.js';

export interface SourceResolution {
  readonly source: string;
  readonly from: 'package' | 'xip.json' | 'connector';
  /** The item count the container declares: the manifest's xip:Package items, else xip.json's "items" (undefined when neither says). */
  readonly declaredItems?: number | undefined;
}

export async function resolveSource(
  entries: VerifiedEntries,
  opts: { readonly connectorName: string; readonly limits?: Partial<ItemLimits> | undefined },
): Promise<SourceResolution> {
  const { maxItemBytes } = resolveItemLimits(opts.limits);
  if (entries.packageSource !== undefined && entries.packageSource !== '') {
    return { source: entries.packageSource, from: 'package', declaredItems: entries.packageItems };
  }
  const entry = entries.entries.find((e) => e.name === 'xip.json');
  let declaredItems: number | undefined = entries.packageItems;
  if (entry) {
    const bytes = await readAll(entries, entry, maxItemBytes);
    if (!bytes) throw new XipError('XIP_JSON_INVALID', `xip.json is larger than maxItemBytes (${maxItemBytes})`, { entry: 'xip.json' });
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (cause) {
      throw new XipError('XIP_JSON_INVALID', `xip.json: ${(cause as Error).message}`, { entry: 'xip.json', cause });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new XipError('XIP_JSON_INVALID', 'xip.json: must be a JSON object', { entry: 'xip.json' });
    }
    const { source, items } = value as Record<string, unknown>;
    if (items !== undefined && items !== null) {
      if (typeof items !== 'number' || !Number.isSafeInteger(items) || items < 0) {
        throw new XipError('XIP_JSON_INVALID', 'xip.json: items must be a whole number of items', { entry: 'xip.json' });
      }
      declaredItems ??= items;
    }
    if (typeof source === 'string' && source !== '') return { source, from: 'xip.json', declaredItems };
    if (source !== undefined && source !== null) {
      throw new XipError('XIP_JSON_INVALID', 'xip.json: source must be a non-empty string', { entry: 'xip.json' });
    }
  }
  if (opts.connectorName === '') throw new TypeError('resolveSource: connectorName must not be empty');
  return { source: opts.connectorName, from: 'connector', declaredItems };
}
