// Step 4 at the container level with an openssl-run PKI: revocation by CRL and
// RFC 3161 signature time-stamps (a valid one sets the validation time; one
// from an untrusted TSA is TIMESTAMP_INVALID).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { loadPrivateKey, parseCertificates, parseCrls } from './cms/index.js';
import { DAY_MS, TestCa, TestTsa } from './cms/test-support/pki.js';
import { packDirectory } from './pack.js';
import { tempDir } from './test-support/container.js';
import { verifyFile } from './verify.js';

let dir: string;
let root: TestCa;
let src: string;

async function pack(name: string, signer: { certPem: Buffer; keyPem: Buffer }, tsa?: TestTsa): Promise<string> {
  const output = join(dir, `${name}.xip`);
  await packDirectory({
    dir: src,
    output,
    certificate: parseCertificates(signer.certPem, 'signer')[0]!,
    privateKey: loadPrivateKey(signer.keyPem, 'key'),
    source: 'pki-test',
    ...(tsa ? { timestamp: (value: Buffer) => tsa.timestamp(value) } : {}),
  });
  return output;
}

async function rejects(file: string, code: string, options: Parameters<typeof verifyFile>[1]): Promise<void> {
  await assert.rejects(verifyFile(file, options), (e: unknown) => e instanceof XipError && e.code === code);
}

describe('trust with an openssl PKI', () => {
  before(async () => {
    dir = await tempDir('xip-pki-');
    root = await TestCa.create(dir, 'root');
    src = join(dir, 'src');
    mkdirSync(join(src, 'items'), { recursive: true });
    writeFileSync(join(src, 'items', 'a.json'), '{"id":"a"}');
  });

  it('CERT_REVOKED when a CRL from the issuer revokes the signer; verified without that CRL', async () => {
    const signer = await root.issue({ name: 'revoked-signer' });
    const file = await pack('revoked', signer);
    const trust = parseCertificates(root.certPem, 'root');
    const before = parseCrls(readFileSync(await root.crl()), 'crl-before');
    assert.equal((await verifyFile(file, { trust, crls: before })).ok, true);
    const crls = parseCrls(readFileSync(await root.revoke(signer.certPath)), 'crl');
    await rejects(file, 'CERT_REVOKED', { trust, crls });
    // Validated at a time before the revocation, it was not yet revoked.
    assert.equal((await verifyFile(file, { trust, crls, at: new Date(Date.now() - DAY_MS) })).ok, true);
  });

  it('a valid signature time-stamp sets the validation time, so an expired signer still verifies', async () => {
    const signer = await root.issue({ name: 'short-signer', notAfter: new Date(Date.now() + 2 * DAY_MS) });
    const tsa = await TestTsa.create(root, 'tsa');
    const file = await pack('stamped', signer, tsa);
    const trust = parseCertificates(root.certPem, 'root');
    const later = new Date(Date.now() + 30 * DAY_MS);
    const report = await verifyFile(file, { trust, now: later });
    assert.equal(report.validationTimeSource, 'timestamp');
    assert.ok(Math.abs(Date.parse(report.validationTime) - Date.now()) < 10 * 60_000, report.validationTime);
    // Without the token the same signer is expired at that time.
    await rejects(await pack('unstamped', signer), 'CERT_EXPIRED', { trust, now: later });
  });

  it('TIMESTAMP_INVALID when the TSA does not chain to the trust store', async () => {
    const signer = await root.issue({ name: 'signer-2' });
    const otherRoot = await TestCa.create(dir, 'other-root');
    const file = await pack('foreign-tsa', signer, await TestTsa.create(otherRoot, 'foreign-tsa'));
    await rejects(file, 'TIMESTAMP_INVALID', { trust: parseCertificates(root.certPem, 'root') });
    // The caller's time wins over the token, which is then not consulted.
    assert.equal((await verifyFile(file, { trust: parseCertificates(root.certPem, 'root'), at: new Date() })).validationTimeSource, 'caller');
  });
});
