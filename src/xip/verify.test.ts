// Steps 2 to 5 of xip-format.md §4, each with a container crafted to fail it
// (step 1's ZIP checks are proven in zip/*.test.ts; certificate details in cms/*.test.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { XipError, type ErrorCode } from '../errors.js';
import { buildContainer, tempDir, testIdentity, type ContainerSpec } from './test-support/container.js';
import { rename } from 'node:fs/promises';
import { openForReading, verifyFile, verifyHandle, type VerifyOptions } from './verify.js';
import { openVerifiedContainer } from './container.js';

let dir: string;
let n = 0;
before(async () => {
  dir = await tempDir();
});

const data = { 'items/chat.ndjson': '{"id":"1"}\n{"id":"2"}\n', 'attachments/q.txt': 'quote', 'Grüße/ü.txt': 'non-ASCII name' };

async function build(spec: Partial<ContainerSpec> = {}): Promise<string> {
  return buildContainer(join(dir, `c${n++}.xip`), { data, ...spec });
}

async function expectCode(file: string, code: ErrorCode, options: Partial<VerifyOptions> = {}, entry?: string): Promise<void> {
  await assert.rejects(verifyFile(file, { trust: testIdentity().trust, ...options }), (e: unknown) => {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (entry !== undefined) assert.equal(e.entry, entry);
    return true;
  });
}

describe('verification of a well-formed container', () => {
  it('reports the signer, the chain, the package and each data entry with size and sha256', async () => {
    const id = testIdentity();
    const file = await build();
    const report = await verifyFile(file, { trust: id.trust });
    assert.equal(report.ok, true);
    assert.equal(report.signer.subject, id.certificate.info.subject);
    assert.equal(report.signer.sha256, id.certificate.info.sha256);
    assert.equal(report.chain.length, 2);
    assert.equal(report.validationTimeSource, 'now');
    assert.deepEqual(report.package, { version: '1', source: 'test', created: '2026-11-22T00:00:00Z', items: 2 }); // the test builder declares the items its data holds
    assert.deepEqual(
      report.entries.map((e) => [e.name, e.size, e.sha256]),
      Object.entries(data).map(([name, d]) => [name, Buffer.byteLength(d), createHash('sha256').update(d).digest('hex')]),
    );
    assert.deepEqual(report.warnings, []);
  });

  it('accepts SHA-512 manifest digests and still reports sha256', async () => {
    const report = await verifyFile(await build({ digestAlgorithm: 'sha512' }), { trust: testIdentity().trust });
    assert.equal(report.entries[0]!.digestAlgorithm, 'sha512');
    assert.equal(report.entries[0]!.sha256, createHash('sha256').update(data['items/chat.ndjson']).digest('hex'));
  });

  it('accepts mimetype as the last entry (as real ASiC-E producers write it) with a warning', async () => {
    const report = await verifyFile(await build({ mimetypeLast: true }), { trust: testIdentity().trust });
    assert.deepEqual(report.warnings, ['mimetype is not the first entry']);
  });

  it('uses the validation time the caller asks for', async () => {
    const at = new Date(Date.now() + 86_400_000);
    const report = await verifyFile(await build(), { trust: testIdentity().trust, at });
    assert.equal(report.validationTime, at.toISOString());
    assert.equal(report.validationTimeSource, 'caller');
  });

  it('accepts other manifest and signature names of the ASiC-E patterns', async () => {
    const file = await build({ manifestName: 'META-INF/ASiCManifest001.xml', signatureName: 'META-INF/signature001.p7s' });
    assert.equal((await verifyFile(file, { trust: testIdentity().trust })).entries.length, 3);
  });
});

describe('step 2: layout', () => {
  it('MIMETYPE_MISSING without a mimetype entry', async () => expectCode(await build({ mimetype: null }), 'MIMETYPE_MISSING'));
  it('MIMETYPE_INVALID when mimetype holds anything else', async () => expectCode(await build({ mimetype: 'application/vnd.etsi.asic-s+zip' }), 'MIMETYPE_INVALID'));
  it('MIMETYPE_INVALID for a trailing newline', async () => expectCode(await build({ mimetype: 'application/vnd.etsi.asic-e+zip\n' }), 'MIMETYPE_INVALID'));
  it('MANIFEST_MISSING without a manifest', async () => expectCode(await build({ manifestName: null }), 'MANIFEST_MISSING'));
  it('MANIFEST_INVALID for a manifest that does not parse', async () =>
    expectCode(await build({ alterManifest: (x) => x.replace('</asic:ASiCManifest>', '') }), 'MANIFEST_INVALID', {}, 'META-INF/ASiCManifest.xml'));
  it('MANIFEST_INVALID for a manifest listing META-INF entries as data', async () =>
    expectCode(await build({ listedOnly: { 'META-INF/x.txt': 'x' } }), 'MANIFEST_INVALID'));
  it('MANIFEST_INVALID when SigReference names a non-signature entry', async () =>
    expectCode(await build({ sigReference: 'items/chat.ndjson' }), 'MANIFEST_INVALID'));
  it('SIGNATURE_MISSING without a signature', async () => expectCode(await build({ signatureName: null }), 'SIGNATURE_MISSING'));
  it('SIGNATURE_MISSING when SigReference names an absent signature', async () =>
    expectCode(await build({ sigReference: 'META-INF/signature9.p7s' }), 'SIGNATURE_MISSING'));
  it('SIGNATURE_FORMAT_UNSUPPORTED for a second manifest', async () =>
    expectCode(await build({ extra: [{ name: 'META-INF/ASiCManifest2.xml', data: '<x/>' }] }), 'SIGNATURE_FORMAT_UNSUPPORTED'));
  it('SIGNATURE_FORMAT_UNSUPPORTED for a second signature', async () =>
    expectCode(await build({ extra: [{ name: 'META-INF/signature2.p7s', data: 'x' }] }), 'SIGNATURE_FORMAT_UNSUPPORTED'));
  it('SIGNATURE_FORMAT_UNSUPPORTED for a XAdES signature beside the CMS one', async () =>
    expectCode(await build({ extra: [{ name: 'META-INF/signatures0.xml', data: '<x/>' }] }), 'SIGNATURE_FORMAT_UNSUPPORTED'));
  it('SIGNATURE_FORMAT_UNSUPPORTED for a time-stamp token or archive manifest', async () => {
    await expectCode(await build({ extra: [{ name: 'META-INF/timestamp.tst', data: 'x' }] }), 'SIGNATURE_FORMAT_UNSUPPORTED');
    await expectCode(await build({ extra: [{ name: 'META-INF/ASiCArchiveManifest.xml', data: '<x/>' }] }), 'SIGNATURE_FORMAT_UNSUPPORTED');
  });
});

describe('step 3: signature', () => {
  it('SIGNATURE_INVALID when the manifest was changed after signing', async () =>
    expectCode(await build({ alterManifest: (x) => x.replace('source="test"', 'source="tset"') }), 'SIGNATURE_INVALID'));
  it('SIGNATURE_INVALID for a signature that is not CMS', async () =>
    expectCode(await build({ signature: Buffer.from('not a signature') }), 'SIGNATURE_INVALID'));
  it('SIGNATURE_INVALID for a signature over another manifest', async () => {
    const id = testIdentity();
    const { signManifest } = await import('./cms/index.js');
    const other = await signManifest(Buffer.from('<other/>'), { certificate: id.certificate, privateKey: id.privateKey });
    await expectCode(await build({ signature: other }), 'SIGNATURE_INVALID');
  });
});

describe('step 4: trust', () => {
  it('CERT_UNTRUSTED when the trust store holds another CA', async () =>
    expectCode(await build(), 'CERT_UNTRUSTED', { trust: testIdentity('other').trust }));
  it('CERT_EXPIRED after the certificates expired', async () =>
    expectCode(await build(), 'CERT_EXPIRED', { at: new Date(Date.now() + 400 * 86_400_000) }));
  it('CERT_NOT_YET_VALID before they were issued', async () =>
    expectCode(await build(), 'CERT_NOT_YET_VALID', { at: new Date(Date.now() - 86_400_000) }));
  it('CERT_USAGE when the signer may only encipher keys', async () => {
    const id = testIdentity('encipher', { signerUsage: 'encipherment' });
    await expectCode(await build({ identity: id }), 'CERT_USAGE', { trust: id.trust });
  });
});

describe('step 5: data', () => {
  it('ENTRY_UNSIGNED for an entry the manifest does not list', async () =>
    expectCode(await build({ unsigned: { 'items/extra.json': '{}' } }), 'ENTRY_UNSIGNED', {}, 'items/extra.json'));
  it('ENTRY_MISSING for a listed entry that is absent', async () =>
    expectCode(await build({ listedOnly: { 'items/gone.json': '{}' } }), 'ENTRY_MISSING', {}, 'items/gone.json'));
  it('DIGEST_MISMATCH for an entry changed after signing', async () =>
    expectCode(await build({ alterData: { 'attachments/q.txt': 'quotf' } }), 'DIGEST_MISMATCH', {}, 'attachments/q.txt'));
  it('DIGEST_MISMATCH for an entry truncated after signing', async () =>
    expectCode(await build({ alterData: { 'Grüße/ü.txt': '' } }), 'DIGEST_MISMATCH', {}, 'Grüße/ü.txt'));
});

describe('order of the steps', () => {
  it('reports the earliest failing step when several fail', async () => {
    // Bad data (step 5) and an untrusted signer (step 4): step 4 is reported.
    await expectCode(await build({ alterData: { 'attachments/q.txt': 'x' } }), 'CERT_UNTRUSTED', { trust: testIdentity('other').trust });
    // Bad mimetype (step 2) and a changed manifest (step 3): step 2 is reported.
    await expectCode(await build({ mimetype: 'x', alterManifest: (x) => x.replace('test', 'tset') }), 'MIMETYPE_INVALID');
  });
});

describe('the bytes verified are the bytes read', () => {
  it('verification goes on reading the file it opened when another is put in its place by name', async () => {
    const path = await build();
    const tampered = await build({ alterData: { 'attachments/q.txt': 'quotf' } });
    const handle = await openForReading(path);
    try {
      await rename(tampered, path); // the name now points at a tampered file
      const { report } = await verifyHandle(handle, { trust: testIdentity().trust });
      assert.equal(report.entries.length, 3);
    } finally {
      await handle.close();
    }
    await expectCode(path, 'DIGEST_MISMATCH'); // opened anew, the tampered file is rejected
  });

  it('a staged container hands out the verified bytes even when the original is replaced afterwards', async () => {
    const path = await build();
    const container = await openVerifiedContainer(path, { trust: testIdentity().trust });
    try {
      await rename(await build({ alterData: { 'attachments/q.txt': 'quotf' } }), path);
      const chunks: Buffer[] = [];
      for await (const chunk of container.openEntry('attachments/q.txt')) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'quote');
      assert.equal(container.sha256.length, 64);
    } finally {
      await container.close();
    }
  });
});
