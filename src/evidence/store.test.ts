// The file-system evidence store: bytes in, named by their SHA-256, read-only,
// never two copies, never a half-written file under a final name or left in
// tmp/, and a stored file altered on disk found out by check().
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { XipError, type ErrorCode } from '../errors.js';
import type { EvidenceFile } from '../ports/evidence-store.js';
import { fileEvidenceStore } from './store.js';

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

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const pathIn = (root: string, sha256: string) => join(root, 'sha256', sha256.slice(0, 2), sha256);

/** A stream of the bytes in several chunks, as a source gives them. */
function chunked(bytes: Buffer): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 1000) parts.push(bytes.subarray(at, at + 1000));
  return Readable.from(parts);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listAll(iterable: AsyncIterable<EvidenceFile>): Promise<EvidenceFile[]> {
  const out: EvidenceFile[] = [];
  for await (const file of iterable) out.push(file);
  return out;
}

function withCode(code: ErrorCode, detail?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (detail) assert.match(e.detail ?? '', detail);
    return true;
  };
}

describe('fileEvidenceStore', () => {
  it('put stores the bytes under their SHA-256 (fanned out), read-only; stat, open and check agree', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    const bytes = Buffer.from('x'.repeat(2500) + 'container bytes');
    const put = await store.put(chunked(bytes));
    assert.equal(put.sha256, sha(bytes));
    assert.equal(put.size, bytes.length);
    assert.equal(put.created, true);
    const st = await stat(pathIn(root, put.sha256));
    assert.equal(st.mode & 0o777, 0o444);
    assert.equal((await stat(join(root, 'sha256', put.sha256.slice(0, 2)))).mode & 0o777, 0o700);
    assert.equal(put.storedAt.getTime(), st.mtime.getTime());
    assert.deepEqual(await store.stat(put.sha256), { sha256: put.sha256, size: bytes.length, storedAt: st.mtime });
    assert.deepEqual(await readAll(await store.open(put.sha256)), bytes);
    assert.equal(await store.check(put.sha256), true);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('stores empty bytes too', async () => {
    const store = fileEvidenceStore(newRoot());
    const put = await store.put(Readable.from([]));
    assert.equal(put.sha256, sha(''));
    assert.equal(put.size, 0);
    assert.equal(await store.check(put.sha256), true);
  });

  it('the same bytes twice: created is false the second time, one file, the first storedAt', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    const bytes = Buffer.from('the same container');
    const first = await store.put(Readable.from([bytes]));
    const when = new Date('2024-01-02T03:04:05Z');
    await utimes(pathIn(root, first.sha256), when, when);
    const second = await store.put(Readable.from([bytes]));
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.storedAt.getTime(), when.getTime());
    assert.deepEqual(await readdir(join(root, 'sha256', first.sha256.slice(0, 2))), [first.sha256]);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('concurrent puts of the same bytes: exactly one created, one file, nothing left in tmp', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    const bytes = Buffer.alloc(200_000, 7);
    const results = await Promise.all(Array.from({ length: 6 }, () => store.put(chunked(bytes))));
    assert.deepEqual(results.map((r) => r.created).sort(), [false, false, false, false, false, true]);
    assert.deepEqual(new Set(results.map((r) => r.sha256)), new Set([sha(bytes)]));
    assert.deepEqual(await readdir(join(root, 'sha256', sha(bytes).slice(0, 2))), [sha(bytes)]);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
    assert.equal(await store.check(sha(bytes)), true);
  });

  it('a source stream that errors stores nothing, leaves tmp/ empty, and rethrows its own error', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    const broken = new Error('connection lost');
    let sent = false;
    const source = new Readable({
      read() {
        if (!sent) {
          sent = true;
          this.push(Buffer.alloc(5000, 1));
        } else {
          setImmediate(() => this.destroy(broken));
        }
      },
    });
    await assert.rejects(store.put(source), (e) => e === broken);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
    assert.deepEqual(await listAll(store.list()), []);
  });

  it('list gives every stored file, oldest first (then by SHA-256)', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    const shas: string[] = [];
    for (const text of ['a', 'b', 'c', 'd']) shas.push((await store.put(Readable.from([Buffer.from(text)]))).sha256);
    // Times against the order of the names (which is the order the system
    // lists them in), and two files stored in the same instant.
    const [s0, s1, s2, s3] = shas.sort().reverse() as [string, string, string, string];
    const times = [new Date('2020-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'), new Date('2022-01-01T00:00:00Z')] as const;
    await utimes(pathIn(root, s0), times[0], times[0]);
    await utimes(pathIn(root, s1), times[1], times[1]);
    await utimes(pathIn(root, s2), times[2], times[2]);
    await utimes(pathIn(root, s3), times[2], times[2]);
    // Something that is not the store's own: not listed.
    await writeFile(join(root, 'sha256', s0.slice(0, 2), 'stray.txt'), 'x');
    const listed = await listAll(store.list());
    assert.deepEqual(listed.map((f) => f.sha256), [s0, s1, s3, s2]);
    assert.deepEqual(listed[0], { sha256: s0, size: 1, storedAt: times[0] });
  });

  it('check is false for a stored file altered on disk', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    const put = await store.put(Readable.from([Buffer.from('original evidence')]));
    const path = pathIn(root, put.sha256);
    await chmod(path, 0o644);
    await writeFile(path, 'altered evidence!');
    assert.equal(await store.check(put.sha256), false);
  });

  it('open and check of an absent file are EVIDENCE_NOT_FOUND; stat is undefined', async () => {
    const store = fileEvidenceStore(newRoot());
    const absent = sha('never stored');
    assert.equal(await store.stat(absent), undefined);
    await assert.rejects(store.open(absent), withCode('EVIDENCE_NOT_FOUND', /no stored file has the SHA-256/));
    await assert.rejects(store.check(absent), withCode('EVIDENCE_NOT_FOUND', /no stored file has the SHA-256/));
  });

  it('a malformed SHA-256 never becomes a path: EVIDENCE_NOT_FOUND saying what is expected', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    const put = await store.put(Readable.from([Buffer.from('stored')]));
    // The stored file's own name, but in upper case, or with a path around it.
    const bad = [put.sha256.toUpperCase(), `../sha256/${put.sha256.slice(0, 2)}/${put.sha256}`, put.sha256.slice(0, 63), ''];
    for (const arg of bad) {
      await assert.rejects(store.open(arg), withCode('EVIDENCE_NOT_FOUND', /expected 64 lower-case hex digits/));
      await assert.rejects(store.check(arg), withCode('EVIDENCE_NOT_FOUND', /expected 64 lower-case hex digits/));
      assert.equal(await store.stat(arg), undefined);
    }
  });

  it('creating the store touches nothing; a store nothing was put in lists empty', async () => {
    const root = newRoot();
    const store = fileEvidenceStore(root);
    await assert.rejects(stat(root), { code: 'ENOENT' });
    assert.deepEqual(await listAll(store.list()), []);
    await assert.rejects(stat(root), { code: 'ENOENT' });
  });
});
