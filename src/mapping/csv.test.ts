import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CsvSyntaxError, parseCsv, readTable } from './csv.js';

describe('parseCsv: RFC 4180 records with the line each starts on', () => {
  it('reads quoted fields holding commas, line breaks and doubled quotes', () => {
    const records = parseCsv('a,b\r\n"x, y","say ""hi""\r\nthere"\r\nlast,""\r\n');
    assert.deepEqual(records, [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"\r\nthere'] },
      { line: 4, fields: ['last', ''] },
    ]);
  });

  it('accepts LF endings, a missing final line break and a leading BOM', () => {
    assert.deepEqual(parseCsv('\uFEFFa,b\nc,d'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['c', 'd'] },
    ]);
  });

  it('ignores blank lines, keeping the line numbers of the others', () => {
    assert.deepEqual(parseCsv('\na,b\n\n   \r\nc,d\n\n'), [
      { line: 2, fields: ['a', 'b'] },
      { line: 5, fields: ['c', 'd'] },
    ]);
  });

  it('keeps empty fields, including a trailing one', () => {
    assert.deepEqual(parseCsv(',\na,'), [
      { line: 1, fields: ['', ''] },
      { line: 2, fields: ['a', ''] },
    ]);
  });

  const faults: [string, string, number, RegExp][] = [
    ['an unclosed quoted field, at the line it opens', 'a,b\nc,"d\ne\n', 2, /quoted field is not closed/],
    ['text after a closing quote', 'a,b\n"c"x,d\n', 2, /text after the closing quote/],
    ['a quote inside an unquoted field', 'a,b\nc,d"e\n', 2, /a quote inside a field/],
  ];
  for (const [what, text, line, rule] of faults) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseCsv(text), (e: unknown) => e instanceof CsvSyntaxError && e.line === line && rule.test(e.rule));
    });
  }
});

describe('readTable: the exact header, and the field count of each row', () => {
  it('gives each row its values by column name', () => {
    assert.deepEqual(readTable('k,v\n1,2\n', 'f.csv', ['k', 'v'], 'MAPPING_INVALID'), [{ line: 2, values: { k: '1', v: '2' } }]);
  });

  it('accepts a header written with quotes', () => {
    assert.equal(readTable('"k","v"\n1,2\n', 'f.csv', ['k', 'v'], 'MAPPING_INVALID').length, 1);
  });

  it('names the file, the line and the rule of a syntax error', () => {
    assert.throws(() => readTable('k,v\n1,"2\n', 'f.csv', ['k', 'v'], 'MAPPING_INVALID'), {
      code: 'MAPPING_INVALID',
      detail: 'f.csv line 2: a quoted field is not closed (a " is missing)',
    });
  });
});
