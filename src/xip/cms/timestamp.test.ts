// RFC 3161 signature time-stamps made by the real `openssl ts -reply`: the
// validation time they give (xip-format.md §4 step 4) and TIMESTAMP_INVALID.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseCertificates, parseCrls, type X509 } from './certs.js';
import { parseSignature, verifySignature, type ParsedSignature } from './signature.js';
import { signManifest } from './sign.js';
import { assertCode } from './test-support/assert.js';
import { withTimestampToken } from './test-support/craft.js';
import { DAY_MS, makeTestPki, TestCa, TestTsa, type Issued, type TestPki } from './test-support/pki.js';
import { verifyTimestampToken } from './timestamp.js';
import { verifyTrust } from './trust.js';

const manifest = Buffer.from('<manifest/>');
let dir: string;
let pki: TestPki;
let root: X509;
let intermediate: X509;
let tsa: TestTsa;
let shortLived: Issued;
const now = Date.now();

function cert(pem: Buffer): X509 {
  return parseCertificates(pem, 'test')[0] as X509;
}

async function sign(issued: Issued, stamp?: (value: Buffer) => Promise<Buffer>): Promise<Buffer> {
  return signManifest(manifest, {
    certificate: cert(issued.certPem),
    privateKey: crypto.createPrivateKey(issued.keyPem),
    chain: [intermediate],
    ...(stamp ? { timestamp: stamp } : {}),
  });
}

const signer = (): Issued => ({ certPath: pki.signerCertPath, keyPath: pki.signerKeyPath, certPem: pki.signerCertPem, keyPem: pki.signerKeyPem });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xip-cms-ts-'));
  pki = await makeTestPki(dir);
  root = cert(pki.caCertPem);
  intermediate = cert(pki.intermediateCertPem);
  tsa = await TestTsa.create(pki.root);
  // Expires tomorrow: "now" two days ahead finds it expired.
  shortLived = await pki.intermediate.issue({ name: 'short-lived', kind: 'p256', notAfter: new Date(now + DAY_MS) });
});

describe('a time-stamp that verifies gives the validation time', () => {
  it("genTime, with the TSA's certificate and chain reported", async () => {
    const sig = parseSignature(await sign(signer(), (v) => tsa.timestamp(v)));
    assert.ok(sig.timestampToken, 'sig.timestampToken');
    const r = verifyTrust(sig, { trust: [root] });
    assert.equal(r.validationTimeSource, 'timestamp');
    assert.ok(Math.abs(r.validationTime.getTime() - Date.now()) < 120_000, `genTime ${r.validationTime.toISOString()} is about now`);
    assert.equal(r.timestamp?.genTime, r.validationTime);
    assert.equal(r.timestamp?.tsa.subject, 'CN=tsa, O=xip tests');
    assert.deepEqual(r.timestamp?.tsaChain.map((c) => c.subject), ['CN=tsa, O=xip tests', 'CN=test-root, O=xip tests']);
    assert.equal(r.chain.length, 3);
  });
  it('so a signer certificate that has expired since still verifies', async () => {
    const later = new Date(now + 2 * DAY_MS);
    const stamped = parseSignature(await sign(shortLived, (v) => tsa.timestamp(v)));
    const r = verifyTrust(stamped, { trust: [root], now: later });
    assert.equal(r.validationTimeSource, 'timestamp');
    const unstamped = parseSignature(await sign(shortLived));
    assertCode(() => verifyTrust(unstamped, { trust: [root], now: later }), 'CERT_EXPIRED', /short-lived/);
    // A time the caller asks for wins over the token.
    assertCode(() => verifyTrust(stamped, { trust: [root], at: later }), 'CERT_EXPIRED', /short-lived/);
  });
  it('a TSA naming its certificate with ESS signingCertificate v1 (SHA-1 cert ID) is accepted', async () => {
    const v1 = await TestTsa.create(pki.root, 'tsa-v1', { essCertIdAlg: 'sha1' });
    const sig = parseSignature(await sign(signer(), (v) => v1.timestamp(v)));
    assert.equal(verifyTrust(sig, { trust: [root] }).timestamp?.tsa.subject, 'CN=tsa-v1, O=xip tests');
  });
});

describe('TIMESTAMP_INVALID', () => {
  let other: ParsedSignature;
  before(async () => {
    other = parseSignature(await sign(signer(), (v) => tsa.timestamp(v)));
  });
  it('for a token over other bytes (here: another signature value)', async () => {
    // Another signer: RSA PKCS#1 v1.5 is deterministic, and the same signer within the same second would give the same value.
    const der = withTimestampToken(await sign(shortLived), other.timestampToken as Buffer);
    const sig = parseSignature(der);
    verifySignature(sig, manifest);
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'TIMESTAMP_INVALID', /other data than this signature value/);
    assertCode(() => verifyTimestampToken(other.timestampToken as Buffer, Buffer.from('x'), { trust: [root] }), 'TIMESTAMP_INVALID', /other data/);
  });
  it('but a caller-given time is used without consulting the token', async () => {
    const sig = parseSignature(withTimestampToken(await sign(signer()), other.timestampToken as Buffer));
    assert.equal(verifyTrust(sig, { trust: [root], at: new Date(now) }).validationTimeSource, 'caller');
  });
  it('for a TSA that does not chain to the trust store', async () => {
    const otherRoot = await TestCa.create(dir, 'tsa-other-root');
    const foreign = await TestTsa.create(otherRoot, 'foreign-tsa');
    const sig = parseSignature(await sign(signer(), (v) => foreign.timestamp(v)));
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'TIMESTAMP_INVALID', /TSA certificate: CERT_UNTRUSTED/);
    assert.equal(verifyTrust(sig, { trust: [root, cert(otherRoot.certPem)] }).validationTimeSource, 'timestamp');
  });
  it('for a token altered after the TSA signed it', async () => {
    const token = Buffer.from(other.timestampToken as Buffer);
    // The TSTInfo's genTime: GeneralizedTime "YYYYMMDDHHMMSSZ" (tag 0x18); change its last seconds digit.
    const at = token.indexOf(Buffer.from([0x18, 0x0f]));
    assert.ok(at > 0, 'at > 0');
    const digit = at + 2 + 13;
    token[digit] = 0x30 + (((token[digit] as number) - 0x30 + 1) % 10);
    assertCode(() => verifyTimestampToken(token, other.signatureValue, { trust: [root] }), 'TIMESTAMP_INVALID', /messageDigest/);
  });
  it('for a token that is not a time-stamp token at all', async () => {
    const sig = parseSignature(withTimestampToken(await sign(signer()), await sign(signer())));
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'TIMESTAMP_INVALID', /not id-ct-TSTInfo/);
  });
  it('for a TSA certificate revoked before genTime by a CRL of its issuer', async () => {
    const revokedTsa = await TestTsa.create(pki.root, 'revoked-tsa');
    const crls = parseCrls(await readFile(await pki.root.revoke(revokedTsa.issued.certPath)), 'root-crl.pem');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // genTime strictly after the revocation second
    const sig = parseSignature(await sign(signer(), (v) => revokedTsa.timestamp(v)));
    verifyTrust(sig, { trust: [root] });
    assertCode(() => verifyTrust(sig, { trust: [root], crls }), 'TIMESTAMP_INVALID', /CERT_REVOKED/);
  });
  it('for a genTime in the future of the given current time', async () => {
    assertCode(() => verifyTrust(other, { trust: [root], now: new Date(now - DAY_MS) }), 'TIMESTAMP_INVALID', /in the future/);
  });
});
