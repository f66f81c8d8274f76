// The file-system evidence store: the EvidenceStore contract
// (test-support/contract.ts: bytes in, named by their SHA-256, never two
// copies, never a half-written file under a final name or left in tmp/, a
// stored file altered on disk found out by check()), and what is its own:
// read-only files, private folders, the mtime as the stored time.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileEvidenceStore } from './store.js';
import { chunked, evidenceStoreContract, listAll, sha } from './test-support/contract.js';

let base: string;
let n = 0;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'xip-evidence-'));
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A fresh store root (not created: the store makes what it needs). */
function newRoot(): string {
  n += 1;
  return join(base, `store-${n}`);
}

const pathIn = (root: string, sha256: string) => join(root, 'sha256', sha256.slice(0, 2), sha256);
const namesIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();

evidenceStoreContract({
  name: 'the file system',
  fresh: async () => {
    const root = newRoot();
    return {
      store: fileEvidenceStore(root),
      backdate: (sha256, when) => utimes(pathIn(root, sha256), when, when),
      tamper: async (sha256, bytes) => {
        await chmod(pathIn(root, sha256), 0o644);
        await writeFile(pathIn(root, sha256), bytes);
      },
      stray: (sha256) => writeFile(join(root, 'sha256', sha256.slice(0, 2), 'stray.txt'), 'x'),
      leftovers: () => namesIn(join(root, 'tmp')),
      storedNames: (fanOut) => namesIn(join(root, 'sha256', fanOut)),
    };
  },
});

describe('fileEvidenceStore', () => {
  it('a stored file is read-only (0444) in a private folder (0700); its mtime is its storedAt', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    const bytes = Buffer.from('x'.repeat(2500) + 'container bytes');
    const put = await store.put(chunked(bytes));
    const st = await stat(pathIn(root, put.sha256));
    assert.equal(st.mode & 0o777, 0o444);
    assert.equal((await stat(join(root, 'sha256', put.sha256.slice(0, 2)))).mode & 0o777, 0o700);
    assert.equal(put.storedAt.getTime(), st.mtime.getTime());
    assert.deepEqual(await store.stat(put.sha256), { sha256: sha(bytes), size: bytes.length, storedAt: st.mtime });
  });

  it('creating the store touches nothing; a store nothing was put in lists empty', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    await assert.rejects(stat(root), { code: 'ENOENT' });
    assert.deepEqual(await listAll(store.list()), []);
    await assert.rejects(stat(root), { code: 'ENOENT' });
  });
});
