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

/** Every record of `text`, blank lines left out. Throws CsvSyntaxError. */
export function parseCsv(text: string): CsvRecord[] {
  const s = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  while (i < s.length) {
    const start = line;
    const fields: string[] = [];
    let quotedAny = false;
    // One record: fields until a line break or the end.
    for (;;) {
      let value = '';
      if (s[i] === '"') {
        quotedAny = true;
        const opened = line;
        i++;
        for (;;) {
          if (i >= s.length) throw new CsvSyntaxError(opened, 'a quoted field is not closed (a " is missing)');
          const c = s[i] as string;
          if (c === '"') {
            if (s[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && s[i + 1] !== '\n')) line++;
          value += c;
          i++;
        }
        if (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          throw new CsvSyntaxError(line, 'text after the closing quote of a field (a quote inside a quoted field is written "")');
        }
      } else {
        const from = i;
        while (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          if (s[i] === '"') throw new CsvSyntaxError(line, 'a quote inside a field that does not start with one (quote the whole field, and write a quote as "")');
          i++;
        }
        value = s.slice(from, i);
      }
      fields.push(value);
      if (s[i] === ',') {
        i++;
        continue;
      }
      // A line break or the end closes the record.
      if (s[i] === '\r') i++;
      if (s[i] === '\n') i++;
      line++;
      break;
    }
    const blank = !quotedAny && fields.length === 1 && (fields[0] as string).trim() === '';
    if (!blank) records.push({ line: start, fields });
  }
  return records;
}

/** A data row of a table, by column name, with its line. */
export interface CsvRow {
  readonly line: number;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * The rows of a CSV file whose header must be exactly `columns`, each with
 * exactly that many fields. Every fault is `code` with "<source> line N: <rule>".
 */
export function readTable(text: string, source: string, columns: readonly string[], code: ErrorCode): CsvRow[] {
  const fail = (line: number, rule: string): never => {
    throw new XipError(code, `${source} line ${line}: ${rule}`);
  };
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) return fail(e.line, e.rule);
    throw e;
  }
  const [header, ...rows] = records;
  const expected = columns.join(',');
  if (header === undefined) return fail(1, `the file is empty; its first line must be the header "${expected}"`);
  if (header.fields.join(',') !== expected || header.fields.length !== columns.length) {
    return fail(header.line, `the header must be exactly "${expected}", found "${header.fields.join(',')}"`);
  }
  return rows.map(({ line, fields }) => {
    if (fields.length !== columns.length) {
      fail(line, `expected ${columns.length} fields (${expected}), found ${fields.length}`);
    }
    const values: Record<string, string> = {};
    columns.forEach((name, k) => {
      values[name] = fields[k] as string;
    });
    return { line, values };
  });
}
