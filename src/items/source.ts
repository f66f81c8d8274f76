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
}

export async function resolveSource(
  entries: VerifiedEntries,
  opts: { readonly connectorName: string; readonly limits?: Partial<ItemLimits> | undefined },
): Promise<SourceResolution> {
  const { maxItemBytes } = resolveItemLimits(opts.limits);
  if (entries.packageSource !== undefined && entries.packageSource !== '') {
    return { source: entries.packageSource, from: 'package' };
  }
  const entry = entries.entries.find((e) => e.name === 'xip.json');
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
    const source = (value as Record<string, unknown>).source;
    if (typeof source === 'string' && source !== '') return { source, from: 'xip.json' };
    if (source !== undefined && source !== null) {
      throw new XipError('XIP_JSON_INVALID', 'xip.json: source must be a non-empty string', { entry: 'xip.json' });
    }
  }
  if (opts.connectorName === '') throw new TypeError('resolveSource: connectorName must not be empty');
  return { source: opts.connectorName, from: 'connector' };
}
