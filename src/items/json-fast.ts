// The fast path of reading an item's JSON (json.ts has the exact reader).
import { isIndexKey, parseJson, WS, type JsonValue } from './json.js';

// The fast path. parseJson is exact but several times slower than the
// engine's JSON.parse (about 30 µs against 7 for a 1 KB chat item), which a
// run of 200,000 items feels. JSON.parse gives the same value whenever the
// text has no number a double would not write back the same, no key that
// JavaScript would enumerate out of order or that needs care ("__proto__",
// or one with an escape that might spell it), and no nesting past the limit:
// one linear scan, string-aware (brackets inside strings are not counted),
// decides. Anything it is unsure of goes to parseJson, and so does text that
// JSON.parse refuses, so that the message is parseJson's.
const STRING_REST = /(?:[^"\\]|\\[\s\S])*"/y;
const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Whether JSON.parse could give another value than parseJson for this text. */
export function needsExactParse(text: string, maxDepth: number): boolean {
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      STRING_REST.lastIndex = i + 1;
      if (!STRING_REST.test(text)) return true;
      const end = STRING_REST.lastIndex;
      let k = end;
      while (k < n && WS(text.charCodeAt(k))) k++;
      if (text.charCodeAt(k) === 0x3a) {
        const key = text.slice(i + 1, end - 1);
        if (key === '__proto__' || key.includes('\\') || isIndexKey(key)) return true;
      }
      i = end;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER_TOKEN.lastIndex = i;
      if (!NUMBER_TOKEN.test(text)) return true;
      const raw = text.slice(i, NUMBER_TOKEN.lastIndex);
      if (String(Number(raw)) !== raw) return true;
      i = NUMBER_TOKEN.lastIndex;
    } else {
      if (c === 0x7b || c === 0x5b) {
        if (++depth >= maxDepth) return true;
      } else if (c === 0x7d || c === 0x5d) depth--;
      i++;
    }
  }
  return false;
}

/** parseJson's value, through JSON.parse where that gives the same (see needsExactParse). */
export function parseItemJson(text: string, maxDepth: number): JsonValue {
  if (needsExactParse(text, maxDepth)) return parseJson(text, maxDepth);
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return parseJson(text, maxDepth); // throws, with its own message
  }
}
