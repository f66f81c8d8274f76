// signManifest's output, checked by the real openssl with the spec's §6 recipe,
// and its refusals (KEY_INVALID) of keys and certificates that cannot be used.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseCertificates, type X509 } from './certs.js';
import { parseSignature, verifySignature } from './signature.js';
import { loadPrivateKey, signManifest } from './sign.js';
import { assertCode, assertCodeAsync } from './test-support/assert.js';
import { makeTestPki, openssl, type Issued, type TestPki } from './test-support/pki.js';

const manifest = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"/>\n');
let dir: string;
let manifestPath: string;
let pki: TestPki;
let intermediate: X509;
const issued = new Map<string, Issued>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xip-cms-sign-'));
  manifestPath = join(dir, 'ASiCManifest.xml');
  await writeFile(manifestPath, manifest);
  pki = await makeTestPki(dir);
  intermediate = parseCertificates(pki.intermediateCertPem, 'intermediate')[0] as X509;
  issued.set('rsa', { certPath: pki.signerCertPath, keyPath: pki.signerKeyPath, certPem: pki.signerCertPem, keyPem: pki.signerKeyPem });
  for (const kind of ['p256', 'p384', 'ed25519', 'rsa1024', 'p521'] as const) {
    issued.set(kind, await pki.intermediate.issue({ name: `signer-${kind}`, kind }));
  }
});

function identity(kind: string): { certificate: X509; privateKey: crypto.KeyObject; issued: Issued } {
  const i = issued.get(kind);
  assert.ok(i, kind);
  return { certificate: parseCertificates(i.certPem, kind)[0] as X509, privateKey: crypto.createPrivateKey(i.keyPem), issued: i };
}

let n = 0;
/** xip-format.md §6: openssl cms -verify -binary -inform DER -purpose any -content manifest -CAfile root. */
async function opensslVerifies(der: Buffer): Promise<void> {
  const sigPath = join(dir, `out${n++}.p7s`);
  await writeFile(sigPath, der);
  await openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-purpose', 'any', '-in', sigPath, '-content', manifestPath, '-CAfile', pki.caCertPath, '-out', '/dev/null']);
}

describe('signManifest writes CAdES-B signatures that openssl verifies (§6 recipe)', () => {
  for (const [kind, digest] of [['rsa', 'sha256'], ['p256', 'sha256'], ['p384', 'sha384']] as const) {
    it(`${kind}: default digest ${digest}, signer and intermediate included byte for byte`, async () => {
      const { certificate, privateKey } = identity(kind);
      const der = await signManifest(manifest, { certificate, privateKey, chain: [intermediate] });
      await opensslVerifies(der);
      const sig = parseSignature(der);
      verifySignature(sig, manifest);
      assert.equal(sig.digestAlgorithm, digest);
      assert.deepEqual(new Set(sig.certificates.map((c) => c.info.sha256)), new Set([certificate.info.sha256, intermediate.info.sha256]));
      assert.equal(sig.signer.info.sha256, certificate.info.sha256);
    });
  }

  it('openssl sees the CAdES signed attributes (signingCertificateV2, signingTime)', async () => {
    const { certificate, privateKey } = identity('rsa');
    const der = await signManifest(manifest, { certificate, privateKey, chain: [intermediate], signingTime: new Date('2030-01-02T03:04:05.678Z') });
    const sigPath = join(dir, 'attrs.p7s');
    await writeFile(sigPath, der);
    const printed = (await openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', sigPath])).toString();
    assert.match(printed, /id-smime-aa-signingCertificateV2/);
    assert.match(printed, /UTCTIME:Jan {2}2 03:04:05 2030 GMT/);
    assert.match(printed, /eContent: <ABSENT>/);
    assert.equal(parseSignature(der).signingTime?.toISOString(), '2030-01-02T03:04:05.000Z');
  });

  it('uses GeneralizedTime for a signingTime from 2050 on (RFC 5652 §11.3)', async () => {
    const { certificate, privateKey } = identity('p256');
    const der = await signManifest(manifest, { certificate, privateKey, chain: [intermediate], signingTime: new Date('2051-06-01T00:00:00Z') });
    await opensslVerifies(der);
    assert.equal(parseSignature(der).signingTime?.toISOString(), '2051-06-01T00:00:00.000Z');
  });

  it('honours an explicit digest algorithm', async () => {
    const { certificate, privateKey } = identity('p256');
    const der = await signManifest(manifest, { certificate, privateKey, chain: [intermediate], digestAlgorithm: 'sha512' });
    await opensslVerifies(der);
    assert.equal(parseSignature(der).digestAlgorithm, 'sha512');
  });

  it('Ed25519 (RFC 8419): SHA-512 digest; openssl pkeyutl confirms the signature over the signed attributes', async () => {
    const { certificate, privateKey, issued: ed } = identity('ed25519');
    const der = await signManifest(manifest, { certificate, privateKey, chain: [intermediate] });
    const sig = parseSignature(der);
    verifySignature(sig, manifest);
    assert.equal(sig.digestAlgorithm, 'sha512');
    assert.deepEqual(sig.signatureScheme, { kind: 'ed25519' });
    // openssl 3.0 cannot process Ed25519 CMS with signed attributes; check the raw signature instead.
    const attrs = join(dir, 'ed-attrs.der');
    const sigValue = join(dir, 'ed-sig.bin');
    await writeFile(attrs, sig.signedAttrsDer as Buffer);
    await writeFile(sigValue, sig.signatureValue);
    const out = await openssl(['pkeyutl', '-verify', '-rawin', '-certin', '-inkey', ed.certPath, '-in', attrs, '-sigfile', sigValue]);
    assert.match(out.toString(), /Signature Verified Successfully/);
  });

  it('adds the token returned by the timestamp callback as signatureTimeStampToken, over the signature value', async () => {
    const { certificate, privateKey } = identity('rsa');
    const { TestTsa } = await import('./test-support/pki.js');
    const tsa = await TestTsa.create(pki.root, 'sign-tsa');
    let stamped: Buffer | undefined;
    const der = await signManifest(manifest, {
      certificate, privateKey, chain: [intermediate],
      timestamp: async (value) => {
        stamped = value;
        return tsa.timestamp(value);
      },
    });
    await opensslVerifies(der);
    const sig = parseSignature(der);
    assert.deepEqual(stamped, sig.signatureValue);
    assert.ok(sig.timestampToken, 'sig.timestampToken');
    const tokenPath = join(dir, 'token.tst');
    await writeFile(tokenPath, sig.timestampToken);
    const dataPath = join(dir, 'sigvalue.bin');
    await writeFile(dataPath, sig.signatureValue);
    await openssl(['ts', '-verify', '-data', dataPath, '-in', tokenPath, '-token_in', '-CAfile', pki.caCertPath, '-untrusted', tsa.issued.certPath]);
  });

  it('refuses a time-stamp token over other data (TIMESTAMP_INVALID)', async () => {
    const { certificate, privateKey } = identity('rsa');
    const { TestTsa } = await import('./test-support/pki.js');
    const tsa = await TestTsa.create(pki.root, 'sign-tsa2');
    await assertCodeAsync(
      () => signManifest(manifest, { certificate, privateKey, timestamp: () => tsa.timestamp(Buffer.from('other')) }),
      'TIMESTAMP_INVALID',
      /other data/,
    );
    await assertCodeAsync(() => signManifest(manifest, { certificate, privateKey, timestamp: async () => Buffer.from('junk') }), 'TIMESTAMP_INVALID');
  });
});

describe('KEY_INVALID', () => {
  it('when the key does not match the certificate', async () => {
    const { certificate } = identity('rsa');
    const { privateKey } = identity('p256');
    await assertCodeAsync(() => signManifest(manifest, { certificate, privateKey }), 'KEY_INVALID', /does not match the certificate/);
  });
  it('for an RSA key under 2048 bits or an EC curve other than P-256/P-384', async () => {
    for (const kind of ['rsa1024', 'p521']) {
      const { certificate, privateKey, issued: i } = identity(kind);
      await assertCodeAsync(() => signManifest(manifest, { certificate, privateKey }), 'KEY_INVALID', /1024 bits|secp521r1/);
      assertCode(() => loadPrivateKey(i.keyPem, `${kind}.key`), 'KEY_INVALID', new RegExp(`^${kind}\\.key: `));
    }
  });
  it('for Ed25519 with a digest other than SHA-512', async () => {
    const { certificate, privateKey } = identity('ed25519');
    await assertCodeAsync(() => signManifest(manifest, { certificate, privateKey, digestAlgorithm: 'sha256' }), 'KEY_INVALID', /SHA-512/);
  });
  it('when the PEM is not a readable private key, or is encrypted', async () => {
    assertCode(() => loadPrivateKey(Buffer.from('hello'), 'k.pem'), 'KEY_INVALID', /^k\.pem: not a readable/);
    assertCode(() => loadPrivateKey(pki.signerCertPem, 'cert.pem'), 'KEY_INVALID');
    const encrypted = join(dir, 'enc.key');
    await openssl(['pkey', '-in', pki.signerKeyPath, '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
    const encryptedPem = await readFile(encrypted);
    assertCode(() => loadPrivateKey(encryptedPem, 'enc.key'), 'KEY_INVALID');
  });
  it('loads PKCS#8 and traditional RSA/EC PEM keys', async () => {
    assert.equal(loadPrivateKey(pki.signerKeyPem, 'rsa').asymmetricKeyType, 'rsa');
    const traditional = join(dir, 'trad.key');
    await openssl(['ec', '-in', identity('p256').issued.keyPath, '-out', traditional]);
    const text = await readFile(traditional);
    assert.match(text.toString(), /BEGIN EC PRIVATE KEY/);
    assert.equal(loadPrivateKey(text, 'ec').asymmetricKeyType, 'ec');
  });
});
