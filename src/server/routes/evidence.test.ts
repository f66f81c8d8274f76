// /api/evidence: the evidence store for auditors, on a real installation
// whose connector fetched two containers (one imported, one rejected):
// listed newest first a page at a time, shown with its verdict and whether
// its bytes still hash to their name, downloaded exactly as received — and
// refused (EVIDENCE_CORRUPT) once altered on disk.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Client, type Harness } from '../test-support/harness.js';
import { hashChecked } from './evidence.js';

let h: Harness;
let auditor: Client;
let good: string;
let rejected: string;

interface File {
  sha256: string;
  size: number;
  firstConnector: string;
  firstName: string;
  verdict: string;
  code: string | null;
  processedInRun: number | null;
}

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const json = <T>(r: { json(): unknown }) => r.json() as T;

describe('/api/evidence', () => {
  before(async () => {
    h = await startHarness();
    const admin = await h.account('admin', 'connector-admin');
    auditor = await h.account('auditor', 'auditor');
    assert.equal((await admin.inject('POST', '/api/connectors', h.config('chat'))).statusCode, 201);
    await h.runWith('chat', ['a']);
    await h.runWith('chat', ['x'], 'stranger');
    good = sha256Of(await readFile(join(h.dir, 'c1.xip')));
    rejected = sha256Of(await readFile(join(h.dir, 'c2.xip')));
  });
  after(async () => h.close());

  it('lists the files newest first, with the fields of xip evidence list --json, a page at a time', async () => {
    const all = json<{ files: File[]; next: string | null }>(await auditor.inject('GET', '/api/evidence'));
    assert.deepEqual(
      all.files.map((f) => [f.sha256, f.firstConnector, f.firstName, f.verdict, f.code]),
      [
        [rejected, 'chat', 'day-2.xip', 'rejected', 'CERT_UNTRUSTED'],
        [good, 'chat', 'day-1.xip', 'imported', null],
      ],
    );
    assert.equal(all.next, null);
    assert.ok(all.files.every((f) => f.size > 0 && typeof f.processedInRun === 'number'));
    const first = json<{ files: File[]; next: string }>(await auditor.inject('GET', '/api/evidence?limit=1'));
    assert.deepEqual([first.files.map((f) => f.sha256), first.next], [[rejected], rejected]);
    const second = json<{ files: File[]; next: string | null }>(await auditor.inject('GET', `/api/evidence?limit=1&before=${first.next}`));
    assert.deepEqual([second.files.map((f) => f.sha256), second.next], [[good], null]);
    assert.equal((await auditor.inject('GET', '/api/evidence?before=nope')).statusCode, 400);
  });

  it('shows one file: its row, intact, and the verdict on it as a container; 404 EVIDENCE_NOT_FOUND when absent', async () => {
    const one = json<File & { intact: boolean; container: { ok: boolean; code: string | null } }>(await auditor.inject('GET', `/api/evidence/${good}`));
    assert.deepEqual([one.sha256, one.verdict, one.intact, one.container.ok, one.container.code], [good, 'imported', true, true, null]);
    const bad = json<{ intact: boolean; container: { ok: boolean; code: string } }>(await auditor.inject('GET', `/api/evidence/${rejected}`));
    assert.deepEqual([bad.intact, bad.container.ok, bad.container.code], [true, false, 'CERT_UNTRUSTED']);
    const absent = await auditor.inject('GET', `/api/evidence/${'0'.repeat(64)}`);
    assert.equal(absent.statusCode, 404);
    assert.equal(json<{ code: string }>(absent).code, 'EVIDENCE_NOT_FOUND');
    assert.equal((await auditor.inject('GET', '/api/evidence/..%2F..%2Fetc%2Fpasswd')).statusCode, 400);
  });

  it('downloads a file exactly as received: application/zip, an attachment named SHA256.xip', async () => {
    const r = await auditor.inject('GET', `/api/evidence/${good}/file`);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/zip');
    assert.equal(r.headers['content-disposition'], `attachment; filename="${good}.xip"`);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.ok(r.rawPayload.equals(await readFile(join(h.dir, 'c1.xip'))));
    assert.equal(Number(r.headers['content-length']), r.rawPayload.length);
    assert.equal((await auditor.inject('GET', `/api/evidence/${'0'.repeat(64)}/file`)).statusCode, 404);
  });

  it('a file altered on disk: intact false, and its download refused with EVIDENCE_CORRUPT before a byte is sent', async () => {
    const path = join(h.state.home.evidence, 'sha256', rejected.slice(0, 2), rejected);
    const bytes = await readFile(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await chmod(path, 0o644);
    await writeFile(path, bytes);
    assert.equal(json<{ intact: boolean }>(await auditor.inject('GET', `/api/evidence/${rejected}`)).intact, false);
    const r = await auditor.inject('GET', `/api/evidence/${rejected}/file`);
    assert.equal(r.statusCode, 500);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(json<{ code: string }>(r).code, 'EVIDENCE_CORRUPT');
    assert.ok(!r.body.includes(h.dir), 'no path of the server');
  });

  it('while streaming: bytes that do not hash to the name fail the stream at its end instead of ending it', async () => {
    const bytes = Buffer.from('the bytes as stored');
    assert.equal(await text(hashChecked(Readable.from([bytes]), sha256Of(bytes))), 'the bytes as stored');
    await assert.rejects(text(hashChecked(Readable.from([bytes]), sha256Of(Buffer.from('other')))), { code: 'EVIDENCE_CORRUPT' });
  });

  it('auditors only', async () => {
    for (const role of ['connector-admin', 'viewer'] as const) {
      const client = await h.account(`${role}-2`, role);
      for (const url of ['/api/evidence', `/api/evidence/${good}`, `/api/evidence/${good}/file`]) assert.equal((await client.inject('GET', url)).statusCode, 403, `${role} ${url}`);
    }
  });
});
