// The Message-IDs read from one container, in constant memory, so that a
// second item with one is reported (ITEM_DUPLICATE_ID) without the run
// holding every id it read: 200,000 ids as strings would cost ~17 MB, this
// costs 4 MiB whatever the count. A Bloom filter (2^25 bits, two hashes)
// answers "new" for sure or "maybe seen"; a "maybe" is settled by the
// ledger's record of that Message-ID (prepare.ts), so a false positive costs
// one look-up, never an item. At 200,000 ids about 30 look-ups are expected.
export const DEFAULT_SEEN_IDS_BITS = 25;

/** FNV-1a over the UTF-16 code units, 32 bits, from a seed. */
function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class SeenIds {
  readonly #bits: Uint32Array;
  readonly #mask: number;

  /** A filter of 2^bits bits (5 to 30): fewer bits, more look-ups. */
  constructor(bits = DEFAULT_SEEN_IDS_BITS) {
    this.#bits = new Uint32Array(1 << (bits - 5));
    this.#mask = (1 << bits) - 1;
  }

  /** Adds the id; returns false when it was certainly not seen before, true when it may have been. */
  addAndCheck(id: string): boolean {
    const a = (fnv1a(id, 0x811c9dc5) & this.#mask) >>> 0;
    const b = (fnv1a(id, 0x9e3779b9) & this.#mask) >>> 0;
    const seen = this.#test(a) && this.#test(b);
    this.#set(a);
    this.#set(b);
    return seen;
  }

  #test(bit: number): boolean {
    return (this.#bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  #set(bit: number): void {
    this.#bits[bit >>> 5]! |= 1 << (bit & 31);
  }
}
