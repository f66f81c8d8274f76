// xip-format.md §4 step 4 against an openssl-made PKI: chains to any trust-store
// certificate, validity at the validation time, CRLs, and the signer's key usage.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseCertificates, parseCrls, type Crl, type X509 } from './certs.js';
import { parseSignature, type ParsedSignature } from './signature.js';
import { signManifest } from './sign.js';
import { assertCode } from './test-support/assert.js';
import { DAY_MS, makeTestPki, openssl, TestCa, type Issued, type TestPki } from './test-support/pki.js';
import { verifyTrust } from './trust.js';

const manifest = Buffer.from('<manifest/>');
let dir: string;
let pki: TestPki;
let root: X509;
let intermediate: X509;
let signedByCache: ParsedSignature;
const now = Date.now();

function cert(pem: Buffer): X509 {
  return parseCertificates(pem, 'test')[0] as X509;
}

async function signedBy(issued: Issued, chain: readonly X509[] = [intermediate]): Promise<ParsedSignature> {
  const der = await signManifest(manifest, { certificate: cert(issued.certPem), privateKey: crypto.createPrivateKey(issued.keyPem), chain });
  return parseSignature(der);
}

const subjects = (r: { chain: Array<{ subject: string }> }): string[] => r.chain.map((c) => c.subject);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xip-cms-trust-'));
  pki = await makeTestPki(dir);
  root = cert(pki.caCertPem);
  intermediate = cert(pki.intermediateCertPem);
  signedByCache = await signedBy(signer());
});

const signer = (): Issued => ({ certPath: pki.signerCertPath, keyPath: pki.signerKeyPath, certPem: pki.signerCertPem, keyPem: pki.signerKeyPem });

describe('chains', () => {
  it('from the signer through the CMS intermediate to the root in the trust store', async () => {
    const sig = await signedBy(signer());
    const at = new Date(now);
    const r = verifyTrust(sig, { trust: [root], now: at });
    assert.deepEqual(subjects(r), ['CN=test-signer, O=xip tests', 'CN=test-intermediate, O=xip tests', 'CN=test-root, O=xip tests']);
    assert.equal(r.validationTimeSource, 'now');
    assert.equal(r.validationTime, at);
    assert.equal(r.chain[0]?.sha256, sig.signer.info.sha256);
    assert.equal(r.timestamp, undefined);
  });
  it('to a trust store that holds only the intermediate (any trust-store certificate is an anchor)', async () => {
    const r = verifyTrust(await signedBy(signer()), { trust: [intermediate] });
    assert.deepEqual(subjects(r), ['CN=test-signer, O=xip tests', 'CN=test-intermediate, O=xip tests']);
  });
  it('of one certificate when the signer itself is in the trust store', async () => {
    const sig = await signedBy(signer());
    assert.equal(verifyTrust(sig, { trust: [sig.signer] }).chain.length, 1);
  });
  it('through an intermediate found in the trust store when the CMS lacks it', async () => {
    const sig = await signedBy(signer(), []);
    assert.equal(sig.certificates.length, 1);
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'CERT_UNTRUSTED', /no path from "CN=test-signer/);
    assert.equal(verifyTrust(sig, { trust: [root, intermediate] }).chain.length, 2);
  });
  it('trying the other candidates when a same-named issuer has another key', async () => {
    const impostor = await TestCa.create(join(dir, 'impostor'), 'test-intermediate');
    const sig = await signedBy(signer());
    const r = verifyTrust(sig, { trust: [cert(impostor.certPem), root] });
    assert.equal(r.chain[1]?.sha256, intermediate.info.sha256);
  });
  it('CERT_UNTRUSTED for a trust store of another root', async () => {
    const other = await TestCa.create(dir, 'other-root');
    assertCode(() => verifyTrust(signedByCache, { trust: [cert(other.certPem)] }), 'CERT_UNTRUSTED');
  });
  it('CERT_UNTRUSTED through a v3 intermediate that is not a CA (basicConstraints)', async () => {
    const notCa = await TestCa.create(dir, 'not-a-ca', { issuer: pki.root, profile: 'signer' });
    const leaf = await notCa.issue({ name: 'under-not-a-ca', kind: 'p256' });
    const sig = await signedBy(leaf, [cert(notCa.certPem)]);
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'CERT_UNTRUSTED', /not a CA certificate/);
    // As an anchor it needs no CA flag: every trust-store certificate is trusted as such.
    assert.equal(verifyTrust(sig, { trust: [cert(notCa.certPem)] }).chain.length, 2);
  });
  it(`CERT_UNTRUSTED beyond 10 certificates`, async () => {
    let ca = pki.root;
    const cas: X509[] = [];
    for (let i = 0; i < 10; i++) {
      ca = await TestCa.create(dir, `deep-${i}`, { issuer: ca, kind: 'p256' });
      cas.push(cert(ca.certPem));
    }
    const leaf = await ca.issue({ name: 'deep-leaf', kind: 'p256' });
    const sig = await signedBy(leaf, cas);
    // leaf + 10 intermediates + root = 12; up to the second intermediate = 10.
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'CERT_UNTRUSTED', /longer than 10/);
    assertCode(() => verifyTrust(sig, { trust: [cas[0] as X509] }), 'CERT_UNTRUSTED', /longer than 10/);
    assert.equal(verifyTrust(sig, { trust: [cas[1] as X509] }).chain.length, 10);
  });
});

describe('validity at the validation time', () => {
  it('CERT_EXPIRED for a leaf that expired, valid when the caller asks for a time inside its validity', async () => {
    const expired = await pki.intermediate.issue({ name: 'expired', notBefore: new Date(now - 400 * DAY_MS), notAfter: new Date(now - 10 * DAY_MS) });
    const sig = await signedBy(expired);
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'CERT_EXPIRED', /"CN=expired, O=xip tests" had expired/);
    // The intermediate and root start 30 days ago: ask for 20 days ago.
    const at = new Date(now - 20 * DAY_MS);
    const r = verifyTrust(sig, { trust: [root], at });
    assert.equal(r.validationTimeSource, 'caller');
    assert.equal(r.validationTime, at);
  });
  it('CERT_NOT_YET_VALID for a leaf valid from next week, valid at a time the caller asks for', async () => {
    const future = await pki.intermediate.issue({ name: 'future', notBefore: new Date(now + 7 * DAY_MS), notAfter: new Date(now + 400 * DAY_MS) });
    const sig = await signedBy(future);
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'CERT_NOT_YET_VALID', /"CN=future, O=xip tests" was not yet valid/);
    assert.equal(verifyTrust(sig, { trust: [root], at: new Date(now + 8 * DAY_MS) }).chain.length, 3);
  });
  it('checks the anchor too', async () => {
    const shortRoot = await TestCa.create(dir, 'short-root', { notAfter: new Date(now + DAY_MS) });
    const leaf = await shortRoot.issue({ name: 'under-short-root', kind: 'p256' });
    const sig = await signedBy(leaf, []);
    verifyTrust(sig, { trust: [cert(shortRoot.certPem)] });
    assertCode(() => verifyTrust(sig, { trust: [cert(shortRoot.certPem)], at: new Date(now + 5 * DAY_MS) }), 'CERT_EXPIRED', /short-root/);
    assertCode(() => verifyTrust(sig, { trust: [cert(shortRoot.certPem)], now: new Date(now + 5 * DAY_MS) }), 'CERT_EXPIRED', /short-root/);
  });
});

describe('CRLs', () => {
  let revoked: Issued;
  let crl: Crl[];
  before(async () => {
    revoked = await pki.intermediate.issue({ name: 'revoked' });
    crl = parseCrls(await readFile(await pki.intermediate.revoke(revoked.certPath)), 'crl.pem');
  });
  it('CERT_REVOKED for a leaf on a CRL of its issuer', async () => {
    const sig = await signedBy(revoked);
    verifyTrust(sig, { trust: [root] });
    assertCode(() => verifyTrust(sig, { trust: [root], crls: crl }), 'CERT_REVOKED', /"CN=revoked, O=xip tests" \(serial [0-9a-f]+\) was revoked on .* by the CRL of "CN=test-intermediate, O=xip tests"/);
  });
  it('not revoked at a validation time before the revocation date', async () => {
    const sig = await signedBy(revoked);
    const at = new Date(now - 3600_000);
    assert.ok(at < (crl[0]?.entries[0]?.revocationDate as Date), 'at < (crl[0]?.entries[0]?.revocationDate as Date)');
    assert.equal(verifyTrust(sig, { trust: [root], crls: crl, at }).chain.length, 3);
  });
  it('other certificates are not affected, and DER CRLs read the same', async () => {
    const derPath = join(dir, 'crl.der');
    await openssl(['crl', '-in', join(pki.intermediate.dir, 'crl.pem'), '-outform', 'DER', '-out', derPath]);
    const der = parseCrls(await readFile(derPath), 'crl.der');
    verifyTrust(signedByCache, { trust: [root], crls: der });
    const sig = await signedBy(revoked);
    assertCode(() => verifyTrust(sig, { trust: [root], crls: der }), 'CERT_REVOKED');
  });
  it("ignores a CRL with the issuer's name but not signed with the issuer's key", async () => {
    const impostor = await TestCa.create(join(dir, 'impostor-crl'), 'test-intermediate');
    const forged = parseCrls(await readFile(await impostor.revoke(pki.signerCertPath)), 'forged.pem');
    assert.equal(forged[0]?.entries[0]?.serialHex, signedByCache.signer.serialHex);
    assert.equal(verifyTrust(signedByCache, { trust: [root], crls: forged }).chain.length, 3);
  });
});

describe("the signer's key usage", () => {
  it('CERT_USAGE for keyUsage keyEncipherment only', async () => {
    const enc = await pki.intermediate.issue({ name: 'encipherment', profile: 'encipherment' });
    // Signed by openssl, to show the refusal does not depend on who wrote the signature.
    const sigPath = join(dir, 'enc.p7s');
    const manifestPath = join(dir, 'm.xml');
    await writeFile(manifestPath, manifest);
    await openssl(['cms', '-sign', '-binary', '-cades', '-in', manifestPath, '-signer', enc.certPath, '-inkey', enc.keyPath, '-certfile', pki.intermediateCertPath, '-outform', 'DER', '-out', sigPath]);
    const sig = parseSignature(await readFile(sigPath));
    assertCode(() => verifyTrust(sig, { trust: [root] }), 'CERT_USAGE', /keyEncipherment/);
  });
  it('a certificate without keyUsage (v1) is accepted', async () => {
    const v1 = await pki.intermediate.issue({ name: 'v1-leaf', profile: 'noext' });
    const sig = await signedBy(v1);
    assert.equal(sig.signer.version, 1);
    assert.equal(verifyTrust(sig, { trust: [root] }).chain.length, 3);
  });
});

describe('options', () => {
  it('USAGE for an invalid date, rather than a chain that looks valid at no time at all', () => {
    assertCode(() => verifyTrust(signedByCache, { trust: [root], at: new Date('next tuesday') }), 'USAGE', /"at"/);
    assertCode(() => verifyTrust(signedByCache, { trust: [root], now: new Date(Number.NaN) }), 'USAGE', /"now"/);
  });
});
