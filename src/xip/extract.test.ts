// Issue 8 fault 10: extraction's messages say what is wrong. Entries "a" and
// "a/b" were reported as written "through a symbolic link" when there was
// none; an entry name too long for the file system came out as
// "ENAMETOOLONG: ENAMETOOLONG" and 65 KB of path.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { extractFile } from './extract.js';
import { buildContainer, tempDir, testIdentity } from './test-support/container.js';

let dir: string;
let n = 0;
before(async () => {
  dir = await tempDir();
});

async function extractError(data: Record<string, string>, prepare?: (dest: string) => Promise<void>): Promise<{ error: XipError; dest: string }> {
  const file = await buildContainer(join(dir, `c${n}.xip`), { data });
  const dest = join(dir, `out${n++}`);
  if (prepare) {
    await mkdir(dest);
    await prepare(dest);
  }
  try {
    await extractFile(file, { trust: testIdentity().trust, dest });
  } catch (e) {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    return { error: e, dest };
  }
  throw new Error('extractFile succeeded');
}

describe('extraction messages', () => {
  it('entries "a" and "a/b" are EXTRACT_TARGET_EXISTS naming both, not a symbolic link, and nothing is written', async () => {
    const { error, dest } = await extractError({ a: 'file', 'a/b': 'under it' });
    assert.equal(error.code, 'EXTRACT_TARGET_EXISTS');
    assert.equal(error.entry, 'a/b');
    assert.equal(error.detail, 'entry "a/b" needs "a" as a directory, but the container\'s entry "a" is a file: they cannot both be extracted');
    assert.deepEqual(await readdir(dest), []);
  });

  it('finds the conflict however far apart the two names are, and compared as a case-insensitive file system would', async () => {
    const { error } = await extractError({ 'Docs/x/y.txt': '1', 'm.txt': '2', docs: '3' });
    assert.equal(error.code, 'EXTRACT_TARGET_EXISTS');
    assert.match(error.detail ?? '', /^entry "Docs\/x\/y\.txt" needs "docs" as a directory/);
  });

  it('a real symbolic link in the destination is still EXTRACT_OUTSIDE', async () => {
    const { error } = await extractError({ 'a/b': 'x' }, async (dest) => symlink(dir, join(dest, 'a')));
    assert.equal(error.code, 'EXTRACT_OUTSIDE');
    assert.match(error.detail ?? '', /a is a symbolic link$/);
  });

  it('an entry name too long for the file system is IO_ERROR saying so, with the path shortened', async () => {
    const long = `${'n'.repeat(300)}/${'m'.repeat(60_000)}.txt`;
    const { error, dest } = await extractError({ [long]: 'x' });
    assert.equal(error.code, 'IO_ERROR');
    assert.equal(error.entry, long);
    assert.match(error.detail ?? '', /^cannot check .*…n+ \(\d+ characters\): the name is too long for this file system \(ENAMETOOLONG\)$/);
    assert.ok((error.detail ?? '').length < 300, `${(error.detail ?? '').length} characters`);
    assert.equal(existsSync(join(dest, 'n'.repeat(300))), false);
  });
});
