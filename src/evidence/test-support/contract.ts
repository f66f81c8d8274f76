// The EvidenceStore contract (src/ports/evidence-store.ts) as node:test
// cases that every store must pass, run by store.test.ts (the file system)
// and azure-blob-store.test.ts (Azure Blob Storage, on Azurite). What a case
// checks beyond the port (what is left of temporary files, a stored file
// altered behind the store's back) is read or done through the subject's own
// seams, never through the store under test.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { XipError, type ErrorCode } from '../../errors.js';
import type { EvidenceFile, EvidenceStore } from '../../ports/evidence-store.js';

/** One fresh, empty store and the seams of its storage. */
export interface StoreUnderTest {
  readonly store: EvidenceStore;
  /** Makes a stored file look stored at `when` (its mtime, its `storedat`). */
  backdate(sha256: string, when: Date): Promise<void>;
  /** Replaces a stored file's bytes behind the store's back. */
  tamper(sha256: string, bytes: Buffer): Promise<void>;
  /** Puts something that is not the store's own beside the stored file `sha256`. */
  stray(sha256: string): Promise<void>;
  /** What is left of temporary files (names); [] when nothing is. */
  leftovers(): Promise<string[]>;
  /** The stored files' names in their fan-out folder `ab/`, as the storage lists them. */
  storedNames(fanOut: string): Promise<string[]>;
}

export interface ContractSubject {
  /** For the test names. */
  readonly name: string;
  fresh(): Promise<StoreUnderTest>;
}

export const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A stream of the bytes in several chunks, as a source gives them. */
export function chunked(bytes: Buffer, size = 1000): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return Readable.from(parts);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function listAll(iterable: AsyncIterable<EvidenceFile>): Promise<EvidenceFile[]> {
  const out: EvidenceFile[] = [];
  for await (const file of iterable) out.push(file);
  return out;
}

export function withCode(code: ErrorCode, detail?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (detail) assert.match(e.detail ?? '', detail);
    return true;
  };
}

/** A stream that sends `first` bytes, then fails with `error`. */
export function failingAfter(first: number, error: Error): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(first, 1));
      } else {
        setImmediate(() => this.destroy(error));
      }
    },
  });
}

export function evidenceStoreContract(subject: ContractSubject): void {
  describe(`the EvidenceStore contract: ${subject.name}`, () => {
    it('put stores the bytes under their SHA-256; stat, open, check and list agree', async () => {
      const t = await subject.fresh();
      const bytes = Buffer.from('x'.repeat(2500) + 'container bytes');
      const put = await t.store.put(chunked(bytes));
      assert.equal(put.sha256, sha(bytes));
      assert.equal(put.size, bytes.length);
      assert.equal(put.created, true);
      assert.deepEqual(await t.store.stat(put.sha256), { sha256: put.sha256, size: bytes.length, storedAt: put.storedAt });
      assert.deepEqual(await readAll(await t.store.open(put.sha256)), bytes);
      assert.equal(await t.store.check(put.sha256), true);
      assert.deepEqual(await listAll(t.store.list()), [{ sha256: put.sha256, size: bytes.length, storedAt: put.storedAt }]);
      assert.deepEqual(await t.storedNames(put.sha256.slice(0, 2)), [put.sha256]);
      assert.deepEqual(await t.leftovers(), []);
    });

    it('stores empty bytes too', async () => {
      const t = await subject.fresh();
      const put = await t.store.put(Readable.from([]));
      assert.equal(put.sha256, sha(''));
      assert.equal(put.size, 0);
      assert.deepEqual(await readAll(await t.store.open(put.sha256)), Buffer.alloc(0));
      assert.equal(await t.store.check(put.sha256), true);
    });

    it('the same bytes twice: created is false the second time, one file, the first storedAt', async () => {
      const t = await subject.fresh();
      const bytes = Buffer.from('the same container');
      const first = await t.store.put(Readable.from([bytes]));
      const when = new Date('2024-01-02T03:04:05Z');
      await t.backdate(first.sha256, when);
      const second = await t.store.put(Readable.from([bytes]));
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.equal(second.storedAt.getTime(), when.getTime());
      assert.deepEqual(await t.storedNames(first.sha256.slice(0, 2)), [first.sha256]);
      assert.deepEqual(await t.leftovers(), []);
    });

    it('concurrent puts of the same bytes: exactly one created, one file, nothing left over', async () => {
      const t = await subject.fresh();
      const bytes = Buffer.alloc(200_000, 7);
      const results = await Promise.all(Array.from({ length: 6 }, () => t.store.put(chunked(bytes))));
      assert.deepEqual(results.map((r) => r.created).sort(), [false, false, false, false, false, true]);
      assert.deepEqual(new Set(results.map((r) => r.sha256)), new Set([sha(bytes)]));
      assert.deepEqual(await t.storedNames(sha(bytes).slice(0, 2)), [sha(bytes)]);
      assert.deepEqual(await t.leftovers(), []);
      assert.equal(await t.store.check(sha(bytes)), true);
    });

    it('a source stream that errors stores nothing, leaves nothing over, and rethrows its own error', async () => {
      const t = await subject.fresh();
      const broken = new Error('connection lost');
      await assert.rejects(t.store.put(failingAfter(5000, broken)), (e) => e === broken);
      assert.deepEqual(await t.leftovers(), []);
      assert.deepEqual(await listAll(t.store.list()), []);
    });

    it('list gives every stored file, oldest first (then by SHA-256), and nothing that is not the store\'s', async () => {
      const t = await subject.fresh();
      const shas: string[] = [];
      for (const text of ['a', 'b', 'c', 'd']) shas.push((await t.store.put(Readable.from([Buffer.from(text)]))).sha256);
      // Times against the order of the names (the order storage lists them
      // in), and two files stored in the same instant.
      const [s0, s1, s2, s3] = shas.sort().reverse() as [string, string, string, string];
      const times = [new Date('2020-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'), new Date('2022-01-01T00:00:00Z')] as const;
      await t.backdate(s0, times[0]);
      await t.backdate(s1, times[1]);
      await t.backdate(s2, times[2]);
      await t.backdate(s3, times[2]);
      await t.stray(s0);
      const listed = await listAll(t.store.list());
      assert.deepEqual(listed.map((f) => f.sha256), [s0, s1, s3, s2]);
      assert.deepEqual(listed[0], { sha256: s0, size: 1, storedAt: times[0] });
    });

    it('check is false for a stored file altered behind the store', async () => {
      const t = await subject.fresh();
      const put = await t.store.put(Readable.from([Buffer.from('original evidence')]));
      await t.tamper(put.sha256, Buffer.from('altered evidence!'));
      assert.equal(await t.store.check(put.sha256), false);
    });

    it('open and check of an absent file are EVIDENCE_NOT_FOUND; stat is undefined', async () => {
      const t = await subject.fresh();
      const absent = sha('never stored');
      assert.equal(await t.store.stat(absent), undefined);
      await assert.rejects(t.store.open(absent), withCode('EVIDENCE_NOT_FOUND', /no stored file has the SHA-256/));
      await assert.rejects(t.store.check(absent), withCode('EVIDENCE_NOT_FOUND', /no stored file has the SHA-256/));
    });

    it('a malformed SHA-256 is never looked up: EVIDENCE_NOT_FOUND saying what is expected', async () => {
      const t = await subject.fresh();
      const put = await t.store.put(Readable.from([Buffer.from('stored')]));
      // The stored file's own name, but in upper case, or with a path around it.
      const bad = [put.sha256.toUpperCase(), `../sha256/${put.sha256.slice(0, 2)}/${put.sha256}`, put.sha256.slice(0, 63), ''];
      for (const arg of bad) {
        await assert.rejects(t.store.open(arg), withCode('EVIDENCE_NOT_FOUND', /expected 64 lower-case hex digits/));
        await assert.rejects(t.store.check(arg), withCode('EVIDENCE_NOT_FOUND', /expected 64 lower-case hex digits/));
        assert.equal(await t.store.stat(arg), undefined);
      }
    });

    it('a store nothing was put in lists empty', async () => {
      const t = await subject.fresh();
      assert.deepEqual(await listAll(t.store.list()), []);
    });
  });
}
