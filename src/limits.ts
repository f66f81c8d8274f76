// Every limit with its default, in one place (imapflow's lib/handler/limits.js
// style): callers pass a partial set, and an explicit 0 is kept, not swallowed.

export interface ZipLimits {
  /** Most entries a container may have (xip-format.md §4 step 1, ZIP_LIMIT). */
  readonly maxEntries: number;
  /** Most declared uncompressed bytes over all entries. */
  readonly maxTotalUncompressed: number;
  /** Highest uncompressed/compressed ratio for an entry of more than `ratioMinSize` bytes. */
  readonly maxCompressionRatio: number;
  /** Entries up to this uncompressed size are exempt from the ratio check. */
  readonly ratioMinSize: number;
  /**
   * Highest declared uncompressed/compressed ratio over the whole archive
   * (the sums over every entry), once the total declared size passes
   * `ratioMinSize`: many entries each just under `ratioMinSize` are exempt
   * from the per-entry check, but not from this one (ZIP_LIMIT).
   */
  readonly maxTotalCompressionRatio: number;
  /** Largest manifest read into memory. */
  readonly maxManifestBytes: number;
  /**
   * Deepest element nesting in the manifest, the root being 1 (MANIFEST_INVALID).
   * An XIP manifest needs 4; the parser's cost grows with the square of the
   * depth, so a deep one is refused at the first element past the limit.
   */
  readonly maxManifestDepth: number;
  /** Most elements in the manifest: 3 per data entry, a few more (MANIFEST_INVALID). */
  readonly maxManifestElements: number;
  /** Largest signature (CMS) read into memory. */
  readonly maxSignatureBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = Object.freeze({
  maxEntries: 1_000_000,
  maxTotalUncompressed: 64 * 1024 ** 3,
  maxCompressionRatio: 200,
  ratioMinSize: 1024 ** 2,
  maxTotalCompressionRatio: 200,
  maxManifestBytes: 256 * 1024 ** 2,
  maxManifestDepth: 64,
  // maxEntries data entries of 3 elements each, and room for extensions.
  maxManifestElements: 4_000_000,
  maxSignatureBytes: 16 * 1024 ** 2,
});

export function resolveZipLimits(partial: Partial<ZipLimits> = {}): ZipLimits {
  return resolveLimits(DEFAULT_ZIP_LIMITS, partial);
}

export interface ItemLimits {
  /**
   * Largest single item held in memory to be parsed (xip-items.md §1–2): a
   * `.json` entry, one line of an `.ndjson` entry, the header block of an
   * `.eml` entry, and `xip.json`. The format sets no limit, but JSON has to
   * be parsed whole, and V8 cannot hold a string much past 512 MiB anyway.
   * Attachments and `.eml` bodies are streamed and are not bounded by it.
   * A larger item fails alone with ITEM_TOO_LARGE; the others go on.
   */
  readonly maxItemBytes: number;
  /**
   * Most arrays and objects nested in one JSON item, the item itself counting
   * as one (so `properties` may hold 126 more levels). No export needs more;
   * 128 is serde_json's recursion limit. Parsing and writing are iterative, so
   * the stack is safe at any setting; the limit makes an absurd item
   * (`properties` 5,000 deep in 10 KB) fail alone with ITEM_TOO_DEEP, named
   * by entry and line, before anything walks it.
   */
  readonly maxItemDepth: number;
}

export const DEFAULT_ITEM_LIMITS: ItemLimits = Object.freeze({
  maxItemBytes: 64 * 1024 ** 2,
  maxItemDepth: 128,
});

export function resolveItemLimits(partial: Partial<ItemLimits> = {}): ItemLimits {
  return resolveLimits(DEFAULT_ITEM_LIMITS, partial);
}

/** Defaults overlaid with what the caller set; an explicit 0 is kept. Unknown names and negative or non-finite values are refused. */
function resolveLimits<T extends object>(defaults: T, partial: Partial<T>): T {
  const out: Record<string, number> = { ...(defaults as Record<string, number>) };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if (!(key in defaults)) throw new TypeError(`unknown limit ${key}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`limit ${key} must be a non-negative number, got ${String(value)}`);
    }
    out[key] = value;
  }
  return Object.freeze(out) as T;
}
