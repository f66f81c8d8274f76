// Mutations of seed inputs, as fast-check arbitraries: an input is "corpus
// entry i with these edits applied", so fast-check generates it from its seed
// and shrinks a failing one towards fewer, smaller edits. The edits are the
// usual ones of byte-level fuzzers (libFuzzer's MutationDispatcher, AFL's
// havoc stage): bit flips, interesting integers, insertions and deletions,
// dictionary tokens, repeated chunks (deep nesting, long runs) and crossover
// with another seed; plus one aware of ZIP records, which writes an
// interesting integer at a field offset after a "PK" signature, so that the
// length, offset and count fields of the headers are hit far more often than
// by chance.
import fc from 'fast-check';

export type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'byte'; readonly at: number; readonly value: number }
  | { readonly op: 'int'; readonly at: number; readonly width: 1 | 2 | 4 | 8; readonly pick: number; readonly bigEndian: boolean }
  | { readonly op: 'field'; readonly record: number; readonly offset: number; readonly width: 2 | 4 | 8; readonly pick: number }
  | { readonly op: 'delete'; readonly at: number; readonly length: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'token'; readonly at: number; readonly token: number; readonly replace: boolean }
  | { readonly op: 'repeat'; readonly at: number; readonly length: number; readonly times: number }
  | { readonly op: 'splice'; readonly at: number; readonly other: number; readonly from: number; readonly length: number }
  | { readonly op: 'truncate'; readonly at: number };

/** Values at the edges of signed and unsigned ranges, where length and offset checks go wrong. */
const INTERESTING: readonly bigint[] = [
  0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xfffen, 0xffffn, 0x10000n,
  0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x1fffffffffffffn, 0x7fffffffffffffffn, 0xffffffffffffffffn,
  22n, 30n, 46n, 56n, 64n, 1024n, 4096n, 65535n, 1048576n, 1048577n,
];

/** ZIP record signatures (APPNOTE 4.3): local header, central header, end records, data descriptor. */
const ZIP_SIGNATURES: readonly number[] = [0x04034b50, 0x02014b50, 0x06054b50, 0x06064b50, 0x07064b50, 0x08074b50];

const position = fc.nat({ max: 1 << 24 });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('byte' as const), at: position, value: fc.nat({ max: 255 }) }),
  fc.record({
    op: fc.constant('int' as const),
    at: position,
    width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
    pick: fc.nat({ max: INTERESTING.length - 1 }),
    bigEndian: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('field' as const),
    record: fc.nat({ max: 64 }),
    offset: fc.nat({ max: 56 }),
    width: fc.constantFrom(2 as const, 4 as const, 8 as const),
    pick: fc.nat({ max: INTERESTING.length - 1 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 256 }) }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('token' as const), at: position, token: fc.nat({ max: 1 << 16 }), replace: fc.boolean() }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: position,
    length: fc.integer({ min: 1, max: 64 }),
    // Now and then many times over: deep nesting and long runs are where parsers go quadratic or overflow their stack.
    times: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 16 }), weight: 9 }, { arbitrary: fc.integer({ min: 100, max: 50_000 }), weight: 1 }),
  }),
  fc.record({ op: fc.constant('splice' as const), at: position, other: fc.nat({ max: 1 << 16 }), from: position, length: fc.integer({ min: 1, max: 4096 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
);

export interface MutationContext {
  /** Inputs to splice from (the corpus). */
  readonly corpus: readonly Buffer[];
  /** Tokens of the target's format, inserted whole. */
  readonly dictionary: readonly Buffer[];
  /** The longest input produced: longer results are cut, so one execution stays bounded. */
  readonly maxLength: number;
}

function writeInt(out: Buffer, at: number, width: number, value: bigint, bigEndian: boolean): void {
  for (let k = 0; k < width && at + k < out.length; k++) {
    const byte = Number((value >> BigInt(8 * k)) & 0xffn);
    out[bigEndian ? at + width - 1 - k : at + k] = byte;
  }
}

/** Offsets of ZIP record signatures in `input`. */
function zipRecords(input: Buffer): number[] {
  const found: number[] = [];
  for (let i = input.indexOf('PK'); i >= 0 && i + 4 <= input.length; i = input.indexOf('PK', i + 1)) {
    if (ZIP_SIGNATURES.includes(input.readUInt32LE(i))) found.push(i);
  }
  return found;
}

/** Applies one edit; positions are taken modulo the input's length so that every generated value means something. */
export function applyMutation(input: Buffer, m: Mutation, ctx: MutationContext): Buffer {
  const n = input.length;
  const at = (p: number, extra = 0) => (n + extra === 0 ? 0 : p % (n + extra));
  switch (m.op) {
    case 'flip': {
      if (n === 0) return input;
      const out = Buffer.from(input);
      out[at(m.at)]! ^= 1 << m.bit;
      return out;
    }
    case 'byte': {
      if (n === 0) return Buffer.from([m.value]);
      const out = Buffer.from(input);
      out[at(m.at)] = m.value;
      return out;
    }
    case 'int': {
      if (n === 0) return input;
      const out = Buffer.from(input);
      writeInt(out, at(m.at), m.width, INTERESTING[m.pick]!, m.bigEndian);
      return out;
    }
    case 'field': {
      const records = zipRecords(input);
      if (records.length === 0) return input;
      const out = Buffer.from(input);
      writeInt(out, records[m.record % records.length]! + 4 + m.offset, m.width, INTERESTING[m.pick]!, false);
      return out;
    }
    case 'delete': {
      if (n === 0) return input;
      const from = at(m.at);
      return Buffer.concat([input.subarray(0, from), input.subarray(from + m.length)]);
    }
    case 'insert': {
      const where = at(m.at, 1);
      return Buffer.concat([input.subarray(0, where), m.bytes, input.subarray(where)]);
    }
    case 'token': {
      if (ctx.dictionary.length === 0) return input;
      const token = ctx.dictionary[m.token % ctx.dictionary.length]!;
      const where = at(m.at, 1);
      const rest = m.replace ? where + token.length : where;
      return Buffer.concat([input.subarray(0, where), token, input.subarray(rest)]);
    }
    case 'repeat': {
      if (n === 0) return input;
      const from = at(m.at);
      const chunk = input.subarray(from, from + m.length);
      const times = Math.min(m.times, Math.floor(ctx.maxLength / Math.max(1, chunk.length)));
      return Buffer.concat([input.subarray(0, from), ...new Array<Buffer>(times).fill(chunk), input.subarray(from)]);
    }
    case 'splice': {
      if (ctx.corpus.length === 0) return input;
      const other = ctx.corpus[m.other % ctx.corpus.length]!;
      if (other.length === 0) return input;
      const from = m.from % other.length;
      const where = at(m.at, 1);
      return Buffer.concat([input.subarray(0, where), other.subarray(from, from + m.length), input.subarray(where)]);
    }
    case 'truncate':
      return input.subarray(0, at(m.at, 1));
  }
}

/** The bytes of one execution: a corpus entry with its edits, cut at maxLength. */
export function mutate(base: Buffer, mutations: readonly Mutation[], ctx: MutationContext): Buffer {
  let out = base;
  for (const m of mutations) {
    out = applyMutation(out, m, ctx);
    if (out.length > ctx.maxLength) out = out.subarray(0, ctx.maxLength);
  }
  return out;
}

export interface FuzzCase {
  readonly seed: number;
  readonly mutations: readonly Mutation[];
}

/** One input: which corpus entry (modulo its current size) and up to `maxMutations` edits; none at all now and then, so the seeds run as they are. */
export function caseArb(maxMutations = 8): fc.Arbitrary<FuzzCase> {
  return fc.record({ seed: fc.nat({ max: 1 << 20 }), mutations: fc.array(mutationArb, { maxLength: maxMutations }) });
}
