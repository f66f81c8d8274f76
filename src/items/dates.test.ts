import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRfc3339, formatRfc5322, parseRfc3339, parseRfc5322, toDate } from './dates.js';

describe('dates', () => {
  it('keeps the offset of an RFC 3339 time when writing the RFC 5322 Date', () => {
    const p = parseRfc3339('2026-11-22T14:03:11.120+01:00');
    assert.ok(p);
    assert.equal(formatRfc5322(p), 'Sun, 22 Nov 2026 14:03:11 +0100');
    assert.equal(toDate(p).toISOString(), '2026-11-22T13:03:11.120Z');
    assert.equal(formatRfc5322(parseRfc3339('2026-01-05T00:30:00-09:30')!), 'Mon, 5 Jan 2026 00:30:00 -0930');
    assert.equal(formatRfc5322(parseRfc3339('2026-01-05T00:30:00Z')!), 'Mon, 5 Jan 2026 00:30:00 +0000');
    assert.equal(formatRfc5322(parseRfc3339('2026-01-05T00:30:00-00:00')!), 'Mon, 5 Jan 2026 00:30:00 -0000');
    assert.equal(toDate(parseRfc3339('0099-03-01T00:00:00Z')!).toISOString(), '0099-03-01T00:00:00.000Z');
  });

  it('rejects RFC 3339 text without an offset or with impossible values', () => {
    for (const bad of ['2026-11-22T14:03:11', '2026-11-22 14:03:11Z', '2026-13-01T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:00+01:60', '2026-1-01T00:00:00Z']) {
      assert.equal(parseRfc3339(bad), undefined, bad);
    }
  });

  it('reads RFC 5322 dates, obsolete zones, two-digit years and comments', () => {
    const cases: [string, string][] = [
      ['Sun, 22 Nov 2026 14:03:11 +0100', '2026-11-22T14:03:11+01:00'],
      ['22 Nov 2026 14:03 -0000', '2026-11-22T14:03:00-00:00'],
      ['Tue, 1 Jul 03 10:52:37 EDT (comment (nested))', '2003-07-01T10:52:37-04:00'],
      ['Mon,  5 Jan 1998   00:30:00   GMT', '1998-01-05T00:30:00+00:00'],
    ];
    for (const [text, expected] of cases) assert.equal(formatRfc3339(parseRfc5322(text)!), expected, text);
    assert.equal(parseRfc5322('yesterday'), undefined);
  });
});
