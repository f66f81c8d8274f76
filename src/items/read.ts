// Reading the items of a verified container (xip-items.md §1–2): entries in
// manifest order, .ndjson lines in line order. One bad item is reported with
// its entry, line and id and never stops the others.
import { resolveItemLimits, type ItemLimits } from '../limits.js';
import { emlItem, readHeaderBlock } from './eml.js';
import { excerpt } from './excerpt.js';
import type { ItemCode } from './errors.js';
import type { Item, ItemResult } from './item.js';
import { parseItemJson } from './json-fast.js';
import { JsonDepthError, type JsonValue } from './json.js';
import { splitLines } from './lines.js';
import type { DataEntry, VerifiedEntries } from './ports.js';
import { readAll } from './read-entry.js';
import { namedPaths, validateItem } from './schema.js';

export interface ReadItemsOptions {
  readonly limits?: Partial<ItemLimits> | undefined;
  /**
   * Items to pass over first, counted as they would be yielded (a part of a
   * shared run starts at its range): .json and .eml entries passed over are
   * not read, .ndjson lines are split but not parsed. unused() is then not
   * known: the items passed over named no attachments.
   */
  readonly skip?: number | undefined;
}

export interface ItemStream extends AsyncIterable<ItemResult> {
  /**
   * Once iteration has ended: the data entries that are neither items nor
   * xip.json and that no item names as an attachment (§1 "reported as unused"),
   * in manifest order. A path named by an item that failed another rule counts
   * as named: that item is reported already.
   */
  unused(): readonly string[];
}

export type EntryKind = 'json' | 'ndjson' | 'eml' | 'xip.json' | 'other';

/** §1: items/**\/*.json, items/**\/*.ndjson, items/**\/*.eml, xip.json; anything else may be an attachment. */
export function entryKind(name: string): EntryKind {
  if (name === 'xip.json') return 'xip.json';
  if (!name.startsWith('items/')) return 'other';
  if (name.endsWith('.ndjson')) return 'ndjson';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.eml')) return 'eml';
  return 'other';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(entry: string, code: ItemCode, message: string, line?: number, id?: string): ItemResult {
  return { ok: false, failure: { entry, line, id, message, code } };
}

export function readItems(entries: VerifiedEntries, opts: ReadItemsOptions = {}): ItemStream {
  const limits = resolveItemLimits(opts.limits);
  const byName = new Map(entries.entries.map((e) => [e.name, e]));
  const named = new Set<string>();
  let done = false;
  let toSkip = opts.skip ?? 0;
  /** Whether this item is passed over (opts.skip), counting it. */
  const skipped = (): boolean => toSkip > 0 && toSkip-- > 0;

  /** Parses and checks one JSON text: the part shared by .json entries and .ndjson lines. */
  const fromJson = (bytes: Buffer, entry: string, line?: number): ItemResult => {
    const what = line === undefined ? 'entry' : 'line';
    let text: string;
    try {
      text = utf8.decode(bytes); // a leading BOM is dropped by the decoder
    } catch {
      return fail(entry, 'ITEM_JSON', `${what} is not valid JSON: not valid UTF-8`, line);
    }
    let value: JsonValue;
    try {
      // Not JSON.parse: it loses digits of large numbers, and nothing would
      // bound the depth that every later walk of the item has to go through.
      value = parseItemJson(text, limits.maxItemDepth);
    } catch (e) {
      if (e instanceof JsonDepthError) return fail(entry, 'ITEM_TOO_DEEP', `${e.message} (maxItemDepth)`, line);
      if (e instanceof SyntaxError) return fail(entry, 'ITEM_JSON', `${what} is not valid JSON: ${e.message}`, line);
      throw e;
    }
    for (const path of namedPaths(value)) named.add(path);
    const checked = validateItem(value);
    if (!checked.ok) return fail(entry, 'ITEM_INVALID', checked.message, line, checked.id);
    const missing = checked.item.attachments.flatMap((a, i) =>
      byName.has(a.path) ? [] : [`attachments[${i}].path: no entry "${excerpt(a.path)}" in the container`],
    );
    if (missing.length > 0) return fail(entry, 'ITEM_ATTACHMENT_MISSING', missing.join('; '), line, checked.item.id);
    return ok(checked.item, entry, line);
  };

  const ok = (item: Item, entry: string, line?: number): ItemResult => ({ ok: true, item, origin: line === undefined ? { entry } : { entry, line } });

  async function* ofEntry(entry: DataEntry): AsyncGenerator<ItemResult> {
    const kind = entryKind(entry.name);
    const max = limits.maxItemBytes;
    if ((kind === 'json' || kind === 'eml') && skipped()) return; // one item, not read
    if (kind === 'json') {
      const bytes = await readAll(entries, entry, max);
      yield bytes
        ? fromJson(bytes, entry.name)
        : fail(entry.name, 'ITEM_TOO_LARGE', `entry: ${entry.size} bytes, more than maxItemBytes (${max})`);
    } else if (kind === 'ndjson') {
      for await (const line of splitLines(entries.openEntry(entry.name), max)) {
        if ((line.tooLong || !isBlank(line.bytes)) && skipped()) continue; // an item, not parsed
        if (line.tooLong) {
          yield fail(entry.name, 'ITEM_TOO_LARGE', `line: ${line.length} bytes, more than maxItemBytes (${max})`, line.line);
        } else if (!isBlank(line.bytes)) {
          yield fromJson(line.bytes, entry.name, line.line);
        }
      }
    } else if (kind === 'eml') {
      const block = await readHeaderBlock(entries.openEntry(entry.name), max);
      if (!block.ok) {
        yield fail(entry.name, 'ITEM_TOO_LARGE', `header block: more than maxItemBytes (${max}) bytes`);
        return;
      }
      const parsed = emlItem(entry.name, block.bytes);
      yield parsed.ok ? ok(parsed.item, entry.name) : fail(entry.name, 'ITEM_INVALID', parsed.message, undefined, parsed.id);
    }
  }

  return {
    async *[Symbol.asyncIterator]() {
      for (const entry of entries.entries) yield* ofEntry(entry);
      done = true;
    },
    unused() {
      if (!done) throw new Error('ItemStream.unused() is known only once every item has been read');
      if ((opts.skip ?? 0) > 0) throw new Error('ItemStream.unused() is not known when items were passed over (skip)');
      return entries.entries.filter((e) => entryKind(e.name) === 'other' && !named.has(e.name)).map((e) => e.name);
    },
  };
}

/** §1: blank lines are ignored (a line of spaces and tabs counts as blank). */
function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09) return false;
  return true;
}
