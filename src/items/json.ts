// JSON of items (xip-items.md §1–2), read and written without silent changes
// and without recursion, so that no item can overflow the stack:
//
// - nesting is bounded (maxItemDepth): a deeper item fails alone
//   (ITEM_TOO_DEEP) instead of costing the stack of every walk after it;
// - a number whose text a JavaScript number would not write back the same
//   (integers beyond 2^53, "-0", "1e400", "1.0", floats with more digits than
//   a double holds) is kept as a JsonNumber holding its text;
// - a "__proto__" key is an own property like any other (JSON.parse does so
//   too; an assignment would set the prototype instead and lose the key);
// - an object whose keys JavaScript would enumerate in another order
//   (integer-like keys come first) keeps its own order for writing.
//
// stringifyJson writes such values back as compact JSON: the text of every
// number and the order of every key as they came. Strings are written with
// JSON.stringify's escapes, which denote the same characters as the input's.

/** A JSON number kept as its text, because no JavaScript number writes back as that text. */
export class JsonNumber {
  constructor(readonly text: string) {}
  /** The nearest double (lossy: the reason this is not a number). */
  valueOf(): number {
    return Number(this.text);
  }
  /** For JSON.stringify, which cannot write raw text: the nearest double. stringifyJson writes `text`. */
  toJSON(): number {
    return Number(this.text);
  }
}

export type JsonValue = null | boolean | number | string | JsonNumber | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Non-enumerable: the source order of an object's keys where it differs from JavaScript's own. */
const KEY_ORDER = Symbol('xip.jsonKeyOrder');

/** An item nests arrays and objects more than `limit` deep, first at `path`. */
export class JsonDepthError extends Error {
  constructor(
    readonly limit: number,
    readonly path: string,
  ) {
    super(`${path}: arrays and objects nested more than ${limit} deep`);
    this.name = 'JsonDepthError';
  }
}

/** A key JavaScript enumerates before the others, in ascending order (a canonical array index, ECMA-262 §6.1.7). */
export function isIndexKey(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const c0 = key.charCodeAt(0);
  if (c0 < 0x30 || c0 > 0x39 || (c0 === 0x30 && n > 1)) return false;
  for (let i = 1; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return Number(key) < 4294967295;
}

/** Sets an own, enumerable property: "__proto__" included. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** An object's keys in the order they came (its own enumerable string keys). */
export function orderedKeys(obj: object): readonly string[] {
  return (obj as { [KEY_ORDER]?: readonly string[] })[KEY_ORDER] ?? Object.keys(obj);
}

/** Builds an object with these keys in this order (first position of a repeated key, last value). */
export function objectInOrder(entries: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  const order: string[] = [];
  for (const [key, value] of entries) {
    if (!Object.hasOwn(obj, key)) order.push(key);
    setOwn(obj, key, value);
  }
  keepOrder(obj, order);
  return obj;
}

function keepOrder(obj: Record<string, unknown>, order: readonly string[]): void {
  const natural = Object.keys(obj);
  if (natural.every((k, i) => k === order[i])) return;
  Object.defineProperty(obj, KEY_ORDER, { value: Object.freeze([...order]) });
}

/** A run of string characters that need no decoding (sticky: matched where lastIndex says). */
// eslint-disable-next-line no-control-regex -- JSON strings may not hold them raw (RFC 8259 §7)
const PLAIN_CHARS = /[^"\\\x00-\x1f]*/y;

export const WS = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

interface ObjectFrame {
  readonly value: Record<string, JsonValue>;
  key: string;
  /** Every key in source order, once one came out of JavaScript's order. */
  order: string[] | undefined;
  /** Whether a key that is not an index came, or the highest index so far. */
  sawName: boolean;
  lastIndex: number;
}
type Frame = ObjectFrame | JsonValue[];

/**
 * Parses RFC 8259 JSON text (what JSON.parse accepts, nothing more) with at
 * most `maxDepth` arrays and objects nested. Throws SyntaxError, or
 * JsonDepthError as soon as the limit is passed, before reading further.
 */
export function parseJson(text: string, maxDepth: number): JsonValue {
  const n = text.length;
  let i = 0;
  const stack: Frame[] = [];

  const fail = (what: string): never => {
    throw new SyntaxError(i < n ? `${what} at position ${i} (${JSON.stringify(text[i])})` : `${what} at the end of the text`);
  };
  const skipWs = (): void => {
    while (i < n && WS(text.charCodeAt(i))) i++;
  };
  const pathOf = (): string => {
    let out = '';
    for (const f of stack.slice(0, 6)) {
      const key = f instanceof Array ? '' : f.key.length > 40 ? `${f.key.slice(0, 40)}…` : f.key;
      out += Array.isArray(f) ? `[${f.length}]` : out ? `.${key}` : key;
    }
    return (out || 'item') + (stack.length > 6 ? '…' : '');
  };
  const open = (): void => {
    if (stack.length >= maxDepth) throw new JsonDepthError(maxDepth, pathOf());
  };
  const string = (): string => {
    // i is at the opening quote. The common case, no escape and no control
    // character, is found by the engine's regex scanner rather than a loop.
    const start = i + 1;
    PLAIN_CHARS.lastIndex = start;
    PLAIN_CHARS.test(text);
    const j = PLAIN_CHARS.lastIndex;
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      i = j + 1;
      return text.slice(start, j);
    }
    if (c === 0x5c) return escapedString(start);
    i = j;
    return fail(j >= n ? 'Unterminated string' : 'Control character in a string');
  };
  const escapedString = (start: number): string => {
    let j = start;
    for (;;) {
      if (j >= n) { i = j; fail('Unterminated string'); }
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c < 0x20) { i = j; fail('Control character in a string'); }
      j += c === 0x5c ? 2 : 1;
    }
    i = j + 1;
    try {
      return JSON.parse(text.slice(start - 1, j + 1)) as string; // the escapes, decoded by the engine
    } catch {
      i = start - 1;
      return fail('Invalid escape in a string');
    }
  };
  const digits = (): number => {
    const from = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      i++;
    }
    return i - from;
  };
  const number = (): number | JsonNumber => {
    const start = i;
    if (text.charCodeAt(i) === 0x2d) i++;
    if (text.charCodeAt(i) === 0x30) i++;
    else if (digits() === 0) fail('Invalid number');
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (digits() === 0) fail('Invalid number');
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const s = text.charCodeAt(i);
      if (s === 0x2b || s === 0x2d) i++;
      if (digits() === 0) fail('Invalid number');
    }
    const raw = text.slice(start, i);
    const value = Number(raw);
    return String(value) === raw ? value : new JsonNumber(raw);
  };
  const literal = (word: string, value: JsonValue): JsonValue => {
    if (!text.startsWith(word, i)) fail('Unexpected token');
    i += word.length;
    return value;
  };
  const member = (frame: ObjectFrame): void => {
    // i is at the key's opening quote (or not, which is the error)
    if (text.charCodeAt(i) !== 0x22) fail('Expected a string key');
    frame.key = string();
    skipWs();
    if (text.charCodeAt(i) !== 0x3a) fail("Expected ':' after a key");
    i++;
    skipWs();
  };
  const set = (frame: ObjectFrame, value: JsonValue): void => {
    const { key } = frame;
    const repeated = Object.hasOwn(frame.value, key);
    if (!repeated) {
      if (frame.order) frame.order.push(key);
      else if (isIndexKey(key)) {
        const index = Number(key);
        if (frame.sawName || index < frame.lastIndex) frame.order = [...Object.keys(frame.value), key];
        else frame.lastIndex = index;
      } else frame.sawName = true;
    }
    setOwn(frame.value as Record<string, unknown>, key, value);
  };

  let root: JsonValue | undefined;
  skipWs();
  parse: for (;;) {
    // A value starts at i.
    let value: JsonValue;
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      open();
      i++;
      skipWs();
      const frame: ObjectFrame = { value: {}, key: '', order: undefined, sawName: false, lastIndex: -1 };
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        value = frame.value;
      } else {
        stack.push(frame);
        member(frame);
        continue;
      }
    } else if (c === 0x5b) {
      open();
      i++;
      skipWs();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        value = [];
      } else {
        stack.push([]);
        continue;
      }
    } else if (c === 0x22) value = string();
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) value = number();
    else if (c === 0x74) value = literal('true', true);
    else if (c === 0x66) value = literal('false', false);
    else if (c === 0x6e) value = literal('null', null);
    else value = fail(i < n ? 'Unexpected token' : 'Unexpected end of JSON input');

    // The value is complete: give it to its container, closing those that end here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        root = value;
        break parse;
      }
      skipWs();
      const next = text.charCodeAt(i);
      if (Array.isArray(top)) {
        top.push(value);
        if (next === 0x2c) { i++; skipWs(); continue parse; }
        if (next !== 0x5d) fail("Expected ',' or ']'");
        i++;
        stack.pop();
        value = top;
      } else {
        set(top, value);
        if (next === 0x2c) { i++; skipWs(); member(top); continue parse; }
        if (next !== 0x7d) fail("Expected ',' or '}'");
        i++;
        stack.pop();
        if (top.order) Object.defineProperty(top.value, KEY_ORDER, { value: Object.freeze(top.order) });
        value = top.value;
      }
    }
  }
  skipWs();
  if (i < n) fail('Unexpected data after the JSON value');
  return root;
}

/**
 * Compact JSON of a value read by parseJson (or built of plain JSON values):
 * numbers kept as JsonNumber written as their text, keys in their own order,
 * "__proto__" written like any key. Iterative, so any depth is safe; a cycle
 * (only possible in a value built in code) is a TypeError.
 */
export function stringifyJson(value: unknown): string {
  let out = '';
  const ancestors = new Set<object>();
  interface Open { readonly obj: object; readonly keys: readonly string[] | undefined; index: number; wrote: boolean }
  const stack: Open[] = [];

  /** Writes a scalar, or opens a container (pushed on the stack). */
  const begin = (v: unknown): void => {
    if (v instanceof JsonNumber) out += v.text;
    else if (typeof v === 'bigint') out += v.toString();
    else if (v === null || typeof v !== 'object') out += JSON.stringify(v) ?? 'null';
    else {
      if (ancestors.has(v)) throw new TypeError('stringifyJson: the value is cyclic');
      ancestors.add(v);
      const keys = Array.isArray(v) ? undefined : orderedKeys(v);
      out += keys ? '{' : '[';
      stack.push({ obj: v, keys, index: 0, wrote: false });
    }
  };

  begin(value);
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Open;
    if (top.keys === undefined) {
      const arr = top.obj as readonly unknown[];
      if (top.index >= arr.length) {
        out += ']';
        ancestors.delete(top.obj);
        stack.pop();
        continue;
      }
      if (top.index > 0) out += ',';
      const v = arr[top.index++];
      begin(typeof v === 'function' || typeof v === 'symbol' ? null : v);
    } else {
      if (top.index >= top.keys.length) {
        out += '}';
        ancestors.delete(top.obj);
        stack.pop();
        continue;
      }
      const key = top.keys[top.index++] as string;
      const v = (top.obj as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue; // as JSON.stringify
      out += `${top.wrote ? ',' : ''}${JSON.stringify(key)}:`;
      top.wrote = true;
      begin(v);
    }
  }
  return out;
}
