// xip-format.md §4 step 3 on signatures made by the real `openssl cms` (and a
// few crafted faults openssl cannot be asked for): each failure is SIGNATURE_INVALID
// with a detail that says what was wrong.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import { OID } from './algorithms.js';
import { parseCertificates, type X509 } from './certs.js';
import { parseSignature, verifySignature } from './signature.js';
import { assertCode } from './test-support/assert.js';
import { craftCms } from './test-support/craft.js';
import { makeTestPki, openssl, type Issued, type KeyKind, type TestPki } from './test-support/pki.js';

const manifest = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"/>\n');
let dir: string;
let manifestPath: string;
let pki: TestPki;
const signers = new Map<string, Issued>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xip-cms-sig-'));
  manifestPath = join(dir, 'ASiCManifest.xml');
  await writeFile(manifestPath, manifest);
  pki = await makeTestPki(dir);
  const kinds: KeyKind[] = ['p256', 'p384', 'rsa1024', 'p521'];
  for (const kind of kinds) signers.set(kind, await pki.intermediate.issue({ name: `signer-${kind}`, kind }));
  signers.set('rsa', { certPath: pki.signerCertPath, keyPath: pki.signerKeyPath, certPem: pki.signerCertPem, keyPem: pki.signerKeyPem });
});

let n = 0;
/** `openssl cms -sign` over the manifest, detached, DER; extra arguments appended. */
async function opensslSign(signer: Issued, extra: readonly string[] = ['-cades', '-md', 'sha256']): Promise<Buffer> {
  const out = join(dir, `sig${n++}.p7s`);
  await openssl(['cms', '-sign', '-binary', '-in', manifestPath, '-signer', signer.certPath, '-inkey', signer.keyPath,
    '-certfile', pki.intermediateCertPath, '-outform', 'DER', '-out', out, ...extra]);
  return readFile(out);
}

function signer(kind: string): Issued {
  const s = signers.get(kind);
  assert.ok(s, kind);
  return s;
}

function x509(issued: Issued): X509 {
  return parseCertificates(issued.certPem, 'test')[0] as X509;
}

describe('signatures made by openssl cms -sign -cades verify', () => {
  const cases: Array<[string, string, readonly string[], string]> = [
    ['RSA PKCS#1 v1.5, SHA-256', 'rsa', ['-cades', '-md', 'sha256'], 'sha256'],
    ['RSASSA-PSS, SHA-384', 'rsa', ['-cades', '-md', 'sha384', '-keyopt', 'rsa_padding_mode:pss'], 'sha384'],
    ['ECDSA P-256, SHA-256', 'p256', ['-cades', '-md', 'sha256'], 'sha256'],
    ['ECDSA P-384, SHA-384', 'p384', ['-cades', '-md', 'sha384'], 'sha384'],
    ['ECDSA P-256, SHA-512', 'p256', ['-cades', '-md', 'sha512'], 'sha512'],
  ];
  for (const [label, kind, args, digest] of cases) {
    it(label, async () => {
      const sig = parseSignature(await opensslSign(signer(kind), args));
      assert.equal(sig.digestAlgorithm, digest);
      assert.equal(sig.signer.info.sha256, x509(signer(kind)).info.sha256);
      assert.equal(sig.certificates.length, 2);
      assert.ok(sig.signingTime && Math.abs(sig.signingTime.getTime() - Date.now()) < 120_000, 'signingTime is about now');
      assert.equal(sig.timestampToken, undefined);
      verifySignature(sig, manifest);
    });
  }
  it('with the signer identified by subjectKeyIdentifier (openssl -keyid)', async () => {
    const sig = parseSignature(await opensslSign(signer('p256'), ['-cades', '-md', 'sha256', '-keyid']));
    assert.equal(sig.signer.info.sha256, x509(signer('p256')).info.sha256);
    verifySignature(sig, manifest);
  });
  it('reads the PSS parameters (hash, salt length)', async () => {
    const sig = parseSignature(await opensslSign(signer('rsa'), ['-cades', '-md', 'sha256', '-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:20']));
    assert.deepEqual(sig.signatureScheme, { kind: 'rsa-pss', hash: 'sha256', saltLength: 20 });
    verifySignature(sig, manifest);
  });
});

describe('SIGNATURE_INVALID at verification', () => {
  it('when the manifest was altered', async () => {
    const sig = parseSignature(await opensslSign(signer('rsa')));
    assertCode(() => verifySignature(sig, Buffer.concat([manifest, Buffer.from(' ')])), 'SIGNATURE_INVALID', /messageDigest .* is not the sha256/);
  });
  it('when a signed attribute was altered (the signature no longer covers them)', async () => {
    const der = Buffer.from(await opensslSign(signer('p256')));
    // signingTime: OID 1.2.840.113549.1.9.5, SET, UTCTime "YYMMDDHHMMSSZ"; change the last seconds digit.
    const at = der.indexOf(Buffer.from('06092a864886f70d010905310f170d', 'hex'));
    assert.ok(at > 0, 'at > 0');
    const digit = at + 15 + 11;
    der[digit] = 0x30 + (((der[digit] as number) - 0x30 + 1) % 10);
    const sig = parseSignature(der);
    assertCode(() => verifySignature(sig, manifest), 'SIGNATURE_INVALID', /signature over the signed attributes fails/);
  });
  it('when the signature value was altered', async () => {
    const der = Buffer.from(await opensslSign(signer('rsa')));
    const sig = parseSignature(der);
    const at = der.indexOf(sig.signatureValue);
    der[at + 10] = (der[at + 10] as number) ^ 0x01;
    assertCode(() => verifySignature(parseSignature(der), manifest), 'SIGNATURE_INVALID', /does not verify/);
  });
  it('when messageDigest is not the manifest digest although the signature is good', async () => {
    const rsa = signer('rsa');
    const key = crypto.createPrivateKey(rsa.keyPem);
    const der = craftCms({ signer: x509(rsa), key, content: manifest, attributes: { [OID.messageDigest]: [new asn1js.OctetString({ valueHex: Buffer.alloc(32, 7) })] } });
    assertCode(() => verifySignature(parseSignature(der), manifest), 'SIGNATURE_INVALID', /messageDigest 0707/);
  });
  it('when messageDigest or contentType is missing, repeated or wrong', () => {
    const rsa = signer('rsa');
    const key = crypto.createPrivateKey(rsa.keyPem);
    const base = { signer: x509(rsa), key, content: manifest };
    const md = new asn1js.OctetString({ valueHex: crypto.createHash('sha256').update(manifest).digest() });
    const cases: Array<[Record<string, asn1js.AsnType[] | undefined>, RegExp]> = [
      [{ [OID.messageDigest]: undefined }, /messageDigest signed attribute is missing/],
      [{ [OID.messageDigest]: [md, md] }, /messageDigest attribute must occur once/],
      [{ [OID.contentType]: undefined }, /contentType signed attribute is missing/],
      [{ [OID.contentType]: [new asn1js.ObjectIdentifier({ value: OID.tstInfo })] }, /contentType signed attribute is not/],
    ];
    for (const [attributes, detail] of cases) {
      assertCode(() => verifySignature(parseSignature(craftCms({ ...base, attributes })), manifest), 'SIGNATURE_INVALID', detail);
    }
  });
  it('when signingCertificateV2 is missing (openssl cms -sign without -cades)', async () => {
    const sig = parseSignature(await opensslSign(signer('rsa'), ['-md', 'sha256']));
    assertCode(() => verifySignature(sig, manifest), 'SIGNATURE_INVALID', /signingCertificateV2 signed attribute is missing/);
  });
  it('when signingCertificateV2 names another certificate', async () => {
    const rsa = signer('rsa');
    const other = x509(signer('p256'));
    const { signingCertificateV2Value } = await import('./ess.js');
    const der = craftCms({ signer: x509(rsa), key: crypto.createPrivateKey(rsa.keyPem), content: manifest, attributes: { [OID.signingCertificateV2]: [signingCertificateV2Value(other)] } });
    assertCode(() => verifySignature(parseSignature(der), manifest), 'SIGNATURE_INVALID', /signingCertificateV2 does not name the signer's certificate: its sha256 certificate hash/);
  });
  it("when signingCertificateV2's issuerSerial names another serial", () => {
    const rsa = signer('rsa');
    const cert = x509(rsa);
    const other = x509(signer('p256'));
    const generalNames = new asn1js.Sequence({ value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 4 }, value: [asn1js.fromBER(cert.issuerDer).result] })] });
    const essCertIdV2 = new asn1js.Sequence({
      value: [new asn1js.OctetString({ valueHex: crypto.createHash('sha256').update(cert.der).digest() }), new asn1js.Sequence({ value: [generalNames, other.cert.serialNumber] })],
    });
    const value = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
    const der = craftCms({ signer: cert, key: crypto.createPrivateKey(rsa.keyPem), content: manifest, attributes: { [OID.signingCertificateV2]: [value] } });
    assertCode(() => verifySignature(parseSignature(der), manifest), 'SIGNATURE_INVALID', /issuerSerial names serial/);
  });
  it('when the RSA key has fewer than 2048 bits', async () => {
    const sig = parseSignature(await opensslSign(signer('rsa1024')));
    assertCode(() => verifySignature(sig, manifest), 'SIGNATURE_INVALID', /RSA key of 1024 bits/);
  });
  it('when the EC curve is not P-256 or P-384', async () => {
    const sig = parseSignature(await opensslSign(signer('p521'), ['-cades', '-md', 'sha512']));
    assertCode(() => verifySignature(sig, manifest), 'SIGNATURE_INVALID', /EC curve secp521r1/);
  });
});

describe('SIGNATURE_INVALID at parsing', () => {
  it('for bytes that are not DER', () => {
    assertCode(() => parseSignature(Buffer.from('not a signature')), 'SIGNATURE_INVALID', /not DER/);
    assertCode(() => parseSignature(Buffer.alloc(0)), 'SIGNATURE_INVALID', /not DER/);
  });
  it('for trailing bytes after the CMS', async () => {
    const der = await opensslSign(signer('rsa'));
    assertCode(() => parseSignature(Buffer.concat([der, Buffer.from([0])])), 'SIGNATURE_INVALID', /bytes after the DER element/);
  });
  it('for BER with indefinite lengths (openssl cms -stream)', async () => {
    const der = await opensslSign(signer('rsa'), ['-cades', '-md', 'sha256', '-stream']);
    assertCode(() => parseSignature(der), 'SIGNATURE_INVALID', /indefinite length/);
  });
  it('for a DER structure that is not a ContentInfo with SignedData', async () => {
    assertCode(() => parseSignature(Buffer.from('3003020101', 'hex')), 'SIGNATURE_INVALID');
    assertCode(() => parseSignature(x509(signer('rsa')).der), 'SIGNATURE_INVALID');
  });
  it('for encapsulated content (not detached)', async () => {
    const der = await opensslSign(signer('rsa'), ['-cades', '-md', 'sha256', '-nodetach']);
    assertCode(() => parseSignature(der), 'SIGNATURE_INVALID', /must be detached/);
  });
  it('for an eContentType other than id-data', () => {
    const rsa = signer('rsa');
    const der = craftCms({ signer: x509(rsa), key: crypto.createPrivateKey(rsa.keyPem), content: manifest, eContentType: OID.tstInfo });
    assertCode(() => parseSignature(der), 'SIGNATURE_INVALID', /is not id-data/);
  });
  it("when the signer's certificate is not in the CMS (openssl -nocerts)", async () => {
    const der = await opensslSign(signer('rsa'), ['-cades', '-md', 'sha256', '-nocerts']);
    assertCode(() => parseSignature(der), 'SIGNATURE_INVALID', /not among the CMS certificates/);
  });
  it('for two SignerInfos', async () => {
    const p256 = signer('p256');
    const der = await opensslSign(signer('rsa'), ['-cades', '-md', 'sha256', '-signer', p256.certPath, '-inkey', p256.keyPath]);
    assertCode(() => parseSignature(der), 'SIGNATURE_INVALID', /2 SignerInfos/);
  });
  it('for a SHA-1 digest', async () => {
    const der = await opensslSign(signer('rsa'), ['-md', 'sha1']);
    assertCode(() => parseSignature(der), 'SIGNATURE_INVALID', /unsupported digest algorithm 1\.3\.14\.3\.2\.26/);
  });
});
