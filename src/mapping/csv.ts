// The CSV files of xip-items.md §4 (the directory and the custom mapping),
// read per RFC 4180: fields separated by ",", a field in double quotes may
// hold ",", line breaks and "" for a quote. Line breaks are CRLF as the RFC
// says, or LF (and a lone CR) as editors write them. A leading BOM is dropped
// (spreadsheets write one) and blank lines are ignored.
//
// Every record carries the line it starts on, so that a person can be told
// "users.csv line 7: …" and find it in an editor.
import { XipError, type ErrorCode } from '../errors.js';

export interface CsvRecord {
  /** 1-based line on which the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
}

/** A syntax error: the line and the rule, without the file's name (the caller adds it). */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly rule: string,
  ) {
    super(`line ${line}: ${rule}`);
    this.name = 'CsvSyntaxError';
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * The records of `text` one at a time, blank lines left out. Throws
 * CsvSyntaxError. Nothing but the record being read is held: a million-row
 * directory is never a million arrays at once (issue 8, fault 6), and a
 * field is one slice of the text, not a string built a character at a time.
 */
export function* csvRecords(text: string): Generator<CsvRecord> {
  const s = text;
  const n = s.length;
  let i = s.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let quotedAny = false;
    // One record: fields until a line break or the end.
    for (;;) {
      let value: string;
      if (s.charCodeAt(i) === QUOTE) {
        quotedAny = true;
        const opened = line;
        i++;
        let from = i;
        let parts: string[] | undefined; // only when the field holds "" (a quote)
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(opened, 'a quoted field is not closed (a " is missing)');
          const c = s.charCodeAt(i);
          if (c === QUOTE) {
            if (s.charCodeAt(i + 1) === QUOTE) {
              (parts ??= []).push(s.slice(from, i + 1));
              i += 2;
              from = i;
              continue;
            }
            break;
          }
          if (c === LF || (c === CR && s.charCodeAt(i + 1) !== LF)) line++;
          i++;
        }
        value = parts ? parts.join('') + s.slice(from, i) : s.slice(from, i);
        i++; // the closing quote
        const next = s.charCodeAt(i);
        if (i < n && next !== COMMA && next !== LF && next !== CR) {
          throw new CsvSyntaxError(line, 'text after the closing quote of a field (a quote inside a quoted field is written "")');
        }
      } else {
        const from = i;
        for (; i < n; i++) {
          const c = s.charCodeAt(i);
          if (c === COMMA || c === LF || c === CR) break;
          if (c === QUOTE) throw new CsvSyntaxError(line, 'a quote inside a field that does not start with one (quote the whole field, and write a quote as "")');
        }
        value = s.slice(from, i);
      }
      fields.push(value);
      if (s.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      // A line break or the end closes the record.
      if (s.charCodeAt(i) === CR) i++;
      if (s.charCodeAt(i) === LF) i++;
      line++;
      break;
    }
    const blank = !quotedAny && fields.length === 1 && (fields[0] as string).trim() === '';
    if (!blank) yield { line: start, fields };
  }
}

/** Every record of `text`, blank lines left out. Throws CsvSyntaxError. */
export function parseCsv(text: string): CsvRecord[] {
  return [...csvRecords(text)];
}

/** A data row of a table, by column name, with its line. */
export interface CsvRow {
  readonly line: number;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * The rows of a CSV file whose header must be exactly `columns`, each with
 * exactly that many fields, one at a time. Every fault is `code` with
 * "<source> line N: <rule>".
 */
export function* tableRows(text: string, source: string, columns: readonly string[], code: ErrorCode): Generator<CsvRow> {
  const fail = (line: number, rule: string): never => {
    throw new XipError(code, `${source} line ${line}: ${rule}`);
  };
  const records = csvRecords(text);
  const next = (): IteratorResult<CsvRecord> => {
    try {
      return records.next();
    } catch (e) {
      if (e instanceof CsvSyntaxError) return fail(e.line, e.rule);
      throw e;
    }
  };
  const expected = columns.join(',');
  const first = next();
  if (first.done) return fail(1, `the file is empty; its first line must be the header "${expected}"`);
  const header = first.value;
  if (header.fields.join(',') !== expected || header.fields.length !== columns.length) {
    return fail(header.line, `the header must be exactly "${expected}", found "${header.fields.join(',')}"`);
  }
  for (let r = next(); !r.done; r = next()) {
    const { line, fields } = r.value;
    if (fields.length !== columns.length) fail(line, `expected ${columns.length} fields (${expected}), found ${fields.length}`);
    const values: Record<string, string> = {};
    columns.forEach((name, k) => {
      values[name] = fields[k] as string;
    });
    yield { line, values };
  }
}

/** Every row of tableRows at once. */
export function readTable(text: string, source: string, columns: readonly string[], code: ErrorCode): CsvRow[] {
  return [...tableRows(text, source, columns, code)];
}
