// The ZIP layer against files this project did not write: yauzl's failure
// corpus and real ASiC-E containers, kept in test/fixtures/interop (see its
// README, LICENSES.md and expectations.json). The whole-verifier run over the same
// corpus lives with the verifier; this one stops at step 1 (and reads the
// entries, since for some broken files only reading can tell).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isXipCode, XipError, type ErrorCode } from '../../errors.js';
import { resolveZipLimits } from '../../limits.js';
import { openZip } from './reader.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const interop = join(repoRoot, 'test', 'fixtures', 'interop');

interface Case {
  readonly file: string;
  readonly ok: boolean;
  readonly codes?: readonly string[] | null;
}

const cases = (JSON.parse(readFileSync(join(interop, 'expectations.json'), 'utf8')) as { cases: Case[] }).cases;

/** The first XipError of opening `file` and reading all its entries, or undefined. */
async function zipLayerError(file: string): Promise<XipError | undefined> {
  const handle = await open(join(interop, file), 'r');
  try {
    const archive = await openZip(handle, resolveZipLimits());
    for (const entry of archive.entries) await archive.readEntry(entry, 64 * 1024 * 1024);
    return undefined;
  } catch (error) {
    if (error instanceof XipError) return error;
    throw error;
  } finally {
    await handle.close();
  }
}

describe('yauzl failure corpus (interop/zip)', () => {
  const zipCases = cases.filter((c) => c.file.startsWith('zip/'));
  it('has cases to run', () => assert.ok(zipCases.length >= 20, `only ${zipCases.length} zip cases`));
  for (const c of zipCases) {
    const expected = c.codes ?? null;
    it(`${c.file} fails with ${expected ? expected.join(' or ') : 'a code of the spec'}`, async () => {
      const error = await zipLayerError(c.file);
      assert.ok(error, 'opened and read without an error');
      if (expected) assert.ok(expected.includes(error.code), `got ${error.code}: ${error.detail ?? ''}`);
      else assert.ok(isXipCode(error.code), `got ${error.code}, which is not a code of xip-format.md §5`);
    });
  }
});

describe('ASiC-E containers (interop/containers)', () => {
  const passing = cases.filter((c) => c.ok).map((c) => c.file);
  const laterSteps = ['dss-brokenReference', 'dss-removedReference', 'dss-nonConformantManifest', 'dss-dss1792'].map((n) => `containers/${n}.asice`);
  const clean = [...new Set([...passing, ...laterSteps])];
  it('has containers expected to pass', () => assert.ok(passing.length >= 2, `only ${passing.length} passing cases`));
  for (const file of clean) {
    it(`${file} passes step 1 and its entries read back`, async () => {
      const error = await zipLayerError(file);
      assert.equal(error, undefined, error && `${error.code}: ${error.detail ?? ''}`);
    });
  }

  const refused: [string, ErrorCode][] = [
    ['containers/ldp-asice-relative.asice', 'ZIP_UNSAFE_PATH'],
    ['containers/ldp-dot.asice', 'ZIP_UNSAFE_PATH'],
    ['containers/dd4j-2-mimetypes.asice', 'ZIP_DUPLICATE_ENTRY'],
    ['containers/dss-xades-test-zip-comment.asice', 'ZIP_EXTRA_DATA'],
  ];
  for (const [file, code] of refused) {
    it(`${file} fails step 1 with ${code}`, async () => {
      const error = await zipLayerError(file);
      assert.equal(error?.code, code, error && `${error.code}: ${error.detail ?? ''}`);
    });
  }
});
