// Certificates and CRLs as files a user hands over (PEM or DER), compared with
// what `openssl x509` / `openssl crl` say about the same files.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseCertificates, parseCrls, type X509 } from './certs.js';
import { assertCode } from './test-support/assert.js';
import { makeKey, makeTestPki, openssl, TestTsa, type TestPki } from './test-support/pki.js';

let dir: string;
let pki: TestPki;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xip-cms-certs-'));
  pki = await makeTestPki(dir, { kind: 'p256' });
});

async function opensslSays(certPath: string, what: string): Promise<string> {
  return (await openssl(['x509', '-in', certPath, '-noout', what, '-nameopt', 'RFC2253'])).toString().trim();
}

async function derOf(certPath: string): Promise<Buffer> {
  return openssl(['x509', '-in', certPath, '-outform', 'DER']);
}

describe('parseCertificates', () => {
  it('reads a PEM bundle in order, with the facts openssl reports', async () => {
    const bundle = Buffer.concat([Buffer.from('# trust store\n'), pki.caCertPem, pki.intermediateCertPem]);
    const certs = parseCertificates(bundle, 'bundle.pem');
    assert.equal(certs.length, 2);
    const [root, intermediate] = certs as [X509, X509];
    assert.equal(root.info.subject, 'CN=test-root, O=xip tests');
    assert.equal(intermediate.info.issuer, 'CN=test-root, O=xip tests');
    const fingerprint = (await openssl(['x509', '-in', pki.caCertPath, '-noout', '-fingerprint', '-sha256'])).toString().trim();
    assert.equal(root.info.sha256, fingerprint.replace(/^.*=/, '').replace(/:/g, '').toLowerCase());
    assert.equal(root.info.serialNumber, (await opensslSays(pki.caCertPath, '-serial')).replace('serial=', '').toLowerCase());
    const notAfter = new Date((await opensslSays(pki.caCertPath, '-enddate')).replace('notAfter=', ''));
    assert.equal(root.info.notAfter, notAfter.toISOString());
    assert.equal(root.der.toString('base64'), (await derOf(pki.caCertPath)).toString('base64'));
  });
  it('reads DER, one certificate or several back to back', async () => {
    const one = parseCertificates(await derOf(pki.caCertPath), 'root.der');
    assert.equal(one.length, 1);
    const two = parseCertificates(Buffer.concat([await derOf(pki.caCertPath), await derOf(pki.signerCertPath)]), 'two.der');
    assert.deepEqual(two.map((c) => c.info.subject), ['CN=test-root, O=xip tests', 'CN=test-signer, O=xip tests']);
  });
  it('exposes the extensions chain building and usage checks need', async () => {
    const [root] = parseCertificates(pki.caCertPem, 'root') as [X509];
    const [signer] = parseCertificates(pki.signerCertPem, 'signer') as [X509];
    const tsa = await TestTsa.create(pki.root, 'tsa-for-certs');
    const [tsaCert] = parseCertificates(tsa.issued.certPem, 'tsa') as [X509];
    assert.equal(root.version, 3);
    assert.deepEqual(root.basicConstraints, { cA: true, pathLen: undefined });
    assert.deepEqual([...(root.keyUsage ?? [])].sort(), ['cRLSign', 'keyCertSign']);
    assert.ok(root.isSelfIssued, 'root.isSelfIssued');
    assert.deepEqual([...(signer.keyUsage ?? [])].sort(), ['digitalSignature', 'nonRepudiation']);
    assert.equal(signer.basicConstraints?.cA, false);
    assert.ok(signer.authorityKeyId && signer.subjectKeyId, 'signer.authorityKeyId && signer.subjectKeyId');
    assert.deepEqual(tsaCert.extKeyUsage, ['1.3.6.1.5.5.7.3.8']);
    assert.equal(signer.publicKey?.asymmetricKeyType, 'ec');
  });
  it('writes names in RFC 4514 form, as openssl -nameopt RFC2253 does (but ", " between RDNs)', async () => {
    const key = await makeKey(join(dir, 'names.key'), 'p256');
    const path = join(dir, 'names.pem');
    await openssl(['req', '-batch', '-x509', '-new', '-key', key, '-subj', '/C=LU/O=Acme, Inc./OU=R\\+D <lab>/CN=#1 "signer";x', '-days', '1', '-out', path]);
    const [cert] = parseCertificates(await readFile(path), 'names.pem') as [X509];
    assert.equal(cert.info.subject, 'CN=\\#1 \\"signer\\"\\;x, OU=R\\+D \\<lab\\>, O=Acme\\, Inc., C=LU');
    const rdns = (await opensslSays(path, '-subject')).replace(/^subject=/, '').split(/(?<!\\),/);
    assert.equal(cert.info.subject, rdns.join(', '));
  });
  it('joins the values of a multi-valued RDN with "+"', async () => {
    const key = await makeKey(join(dir, 'multi.key'), 'p256');
    const path = join(dir, 'multi.pem');
    await openssl(['req', '-batch', '-x509', '-new', '-key', key, '-subj', '/O=x/CN=a+UID=b', '-multivalue-rdn', '-days', '1', '-out', path]);
    const [cert] = parseCertificates(await readFile(path), 'multi.pem') as [X509];
    assert.equal(cert.info.subject, 'CN=a+UID=b, O=x');
  });
  it('TRUST_INVALID, naming the source, for what is not certificates', async () => {
    assertCode(() => parseCertificates(Buffer.from('hello world'), 'trust.pem'), 'TRUST_INVALID', /^trust\.pem: /);
    assertCode(() => parseCertificates(Buffer.alloc(0), 'empty.pem'), 'TRUST_INVALID', /^empty\.pem: no certificate found/);
    assertCode(() => parseCertificates(pki.signerKeyPem, 'key.pem'), 'TRUST_INVALID', /^key\.pem: no certificate found/);
    const broken = Buffer.from(pki.caCertPem.toString().replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'));
    assertCode(() => parseCertificates(broken, 'broken.pem'), 'TRUST_INVALID', /invalid base64/);
    const der = await derOf(pki.caCertPath);
    assertCode(() => parseCertificates(der.subarray(0, der.length - 1), 'cut.der'), 'TRUST_INVALID', /^cut\.der: /);
    const truncatedInside = Buffer.from(pki.caCertPem.toString().replace(/\n[A-Za-z0-9+/]{64}\n/, '\n'));
    assertCode(() => parseCertificates(truncatedInside, 'cut.pem'), 'TRUST_INVALID', /^cut\.pem: certificate 1 is unreadable/);
  });
});

describe('parseCrls', () => {
  it('reads PEM and DER CRLs with their entries', async () => {
    const revoked = await pki.intermediate.issue({ name: 'crl-revoked', kind: 'p256' });
    const pemPath = await pki.intermediate.revoke(revoked.certPath);
    const [crl] = parseCrls(await readFile(pemPath), 'crl.pem');
    assert.equal(crl?.issuer, 'CN=test-intermediate, O=xip tests');
    const serial = (await opensslSays(revoked.certPath, '-serial')).replace('serial=', '').toLowerCase();
    assert.deepEqual(crl?.entries.map((e) => [e.serialHex, e.reason]), [[serial, 1]]);
    const der = await openssl(['crl', '-in', pemPath, '-outform', 'DER']);
    assert.equal(parseCrls(der, 'crl.der')[0]?.entries[0]?.serialHex, serial);
  });
  it('TRUST_INVALID for what is not a CRL', () => {
    assertCode(() => parseCrls(Buffer.from('nope'), 'crl.pem'), 'TRUST_INVALID', /^crl\.pem: /);
    assertCode(() => parseCrls(pki.caCertPem, 'cert-as-crl.pem'), 'TRUST_INVALID', /no CRL found/);
  });
});
