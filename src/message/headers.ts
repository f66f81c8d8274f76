// Header fields of the messages we write (xip-items.md §3): RFC 2047
// encoded-words for non-ASCII text, folding to keep every line within the
// RFC 5322 §2.1.1 limit of 998 octets (76 where a line can be folded at all).
import { encodeWord, quoteString } from 'nodemailer/lib/mime-funcs';

/** RFC 5322 §2.1.1: "Each line of characters MUST be no more than 998 characters". */
export const MAX_LINE_OCTETS = 998;
const FOLD_AT = 76;
/**
 * A run without whitespace longer than this cannot be folded to a sensible
 * width, so text holding one is written as encoded-words, which can.
 */
const MAX_UNFOLDABLE_RUN = 200;
/** Length of each encoded-word (RFC 2047 §2 allows 75). */
const WORD_LENGTH = 52;

/** Q for mostly-Latin text, B otherwise: whichever is shorter (nodemailer's rule). */
function wordEncoding(value: string): 'Q' | 'B' {
  let nonLatin = 0;
  let latin = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) nonLatin++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) latin++;
  }
  return nonLatin < latin ? 'Q' : 'B';
}

/** Whether the value has more than MAX_UNFOLDABLE_RUN characters in a row without whitespace (a scan: a regex backtracks here). */
function hasLongRun(value: string): boolean {
  if (value.length <= MAX_UNFOLDABLE_RUN) return false;
  let run = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    run = c === 0x20 || c === 0x09 ? 0 : run + 1;
    if (run > MAX_UNFOLDABLE_RUN) return true;
  }
  return false;
}

/**
 * Whether header text must be written as encoded-words: non-ASCII or control
 * characters (RFC 5322 allows neither; RFC 2047 §1), text that a decoder
 * would mistake for an encoded-word ("=?"), or a run too long to fold.
 */
function needsWords(value: string): boolean {
  return /[^\x20-\x7e\t]/.test(value) || value.includes('=?') || hasLongRun(value);
}

/** Encoded-words for the whole value, each at most WORD_LENGTH long, separated by spaces (fold points). */
export function words(value: string): string {
  return encodeWord(value, wordEncoding(value), WORD_LENGTH);
}

/** An unstructured field body (RFC 5322 §3.2.5, e.g. Subject, the X-XIP-* headers), encoded when needed. */
export function unstructured(value: string): string {
  return needsWords(value) ? words(value) : value;
}

/** A display name (RFC 5322 phrase): as atoms, a quoted-string, or encoded-words (RFC 2047 §5 (3)). */
export function phrase(name: string): string {
  if (needsWords(name) || name.trim() !== name) return words(name);
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name) && !/ {2}/.test(name)) return name;
  return quoteString(name);
}

const isWsp = (c: string | undefined): boolean => c === ' ' || c === '\t';

/**
 * Folds "Name: value" before whitespace (RFC 5322 §2.2.3) so that lines stay
 * within FOLD_AT characters where the text allows it. Never right after the
 * colon, and never so that a line is whitespace only (§3.2.2).
 */
function fold(line: string, firstBreak: number): string {
  const lines: string[] = [];
  let start = 0;
  while (line.length - start > FOLD_AT) {
    const from = Math.max(start + 1, firstBreak);
    let cut = -1;
    for (let i = start + FOLD_AT; i >= from; i--) {
      if (isWsp(line[i]) && !isWsp(line[i - 1])) { cut = i; break; }
    }
    if (cut < 0) {
      // No fold point within the width: take the next one, the line is longer.
      for (let i = Math.max(start + FOLD_AT + 1, from); i < line.length; i++) {
        if (isWsp(line[i]) && !isWsp(line[i - 1])) { cut = i; break; }
      }
    }
    if (cut < 0) break;
    lines.push(line.slice(start, cut));
    start = cut;
  }
  lines.push(line.slice(start));
  return lines.join('\r\n');
}

/**
 * One header field, folded, with its CRLF. The value must already be encoded
 * (no CR or LF). Throws if a line would still exceed 998 octets: the callers
 * encode so that it cannot happen.
 */
export function field(name: string, value: string): string {
  const folded = fold(`${name}: ${value}`, name.length + 2);
  for (const line of folded.split('\r\n')) {
    if (Buffer.byteLength(line) > MAX_LINE_OCTETS) throw new Error(`header ${name}: a line of ${Buffer.byteLength(line)} octets cannot be folded`);
  }
  return `${folded}\r\n`;
}
