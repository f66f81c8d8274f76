// The interoperability corpus (test/fixtures/interop): containers and broken
// ZIPs made by other projects, each answered as expectations.json says. Where
// each file comes from, and its licence: test/fixtures/interop/LICENSES.md.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { isXipCode, XipError } from '../src/errors.js';
import { parseCertificates } from '../src/xip/cms/index.js';
import { verifyFile } from '../src/xip/verify.js';

const INTEROP = fileURLToPath(new URL('fixtures/interop/', import.meta.url));

interface Case {
  file: string;
  trust: string;
  at?: string;
  ok: boolean;
  entries?: string[];
  codes?: string[] | null;
  note?: string;
}

const { cases } = JSON.parse(readFileSync(`${INTEROP}expectations.json`, 'utf8')) as { cases: Case[] };

describe('interoperability corpus (test/fixtures/interop/expectations.json)', () => {
  it('has cases to run', () => assert.ok(cases.length >= 30, `only ${cases.length} cases`));

  for (const c of cases) {
    const title = `${c.file} at ${c.at ?? 'now'} with ${c.trust}: ${c.ok ? 'verifies' : `fails with ${c.codes?.join(' or ') ?? 'any spec code'}`}${c.note ? ` (${c.note})` : ''}`;
    it(title, async () => {
      const trust = parseCertificates(readFileSync(INTEROP + c.trust), c.trust);
      const run = verifyFile(INTEROP + c.file, { trust, ...(c.at ? { at: new Date(c.at) } : {}) });
      if (c.ok) {
        const report = await run;
        assert.deepEqual(report.entries.map((e) => e.name), c.entries);
        if (c.at) assert.equal(report.validationTimeSource, 'caller');
        return;
      }
      await assert.rejects(run, (e: unknown) => {
        assert.ok(e instanceof XipError, `a crash, not a verdict: ${String(e)}`);
        assert.ok(isXipCode(e.code), `${e.code} is not a code of xip-format.md §5`);
        if (c.codes) assert.ok(c.codes.includes(e.code), `got ${e.code} (${e.message}), expected ${c.codes.join(' or ')}`);
        return true;
      });
    });
  }
});
