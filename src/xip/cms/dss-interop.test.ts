// A CAdES signature written by another implementation (esig/dss, kept in
// test/fixtures/interop): it must parse and verify, and trust must answer as
// test/fixtures/interop/expectations.json says. Its signed attributes include a
// content time-stamp (2.20) and CMSAlgorithmProtection (9.52), which are ignored.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { parseCertificates } from './certs.js';
import { parseSignature, verifySignature, type ParsedSignature } from './signature.js';
import { assertCode } from './test-support/assert.js';
import { readSignedData } from './signed-data.js';
import { verifyTimestampToken } from './timestamp.js';
import { verifyTrust } from './trust.js';

const interop = join(import.meta.dirname, '../../../test/fixtures/interop');
const container = join(interop, 'containers/dss-onefile-ok.asice');

async function unzipEntry(zip: string, entry: string): Promise<Buffer> {
  const { stdout } = await promisify(execFile)('unzip', ['-p', zip, entry], { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function trustFile(name: string) {
  const path = join(interop, 'trust', name);
  return parseCertificates(await readFile(path), path);
}

let signature: Buffer;
let manifest: Buffer;
let sig: ParsedSignature;
before(async () => {
  signature = await unzipEntry(container, 'META-INF/signature001.p7s');
  manifest = await unzipEntry(container, 'META-INF/ASiCManifest.xml');
  sig = parseSignature(signature);
});

describe('DSS dss-onefile-ok.asice', () => {
  it('parses and verifies over its manifest', () => {
    assert.equal(sig.signer.info.subject, 'C=LU, OU=PKI-TEST, O=Nowina Solutions, CN=good-user');
    assert.equal(sig.signer.info.serialNumber, '0a');
    assert.equal(sig.digestAlgorithm, 'sha256');
    assert.equal(sig.signingTime?.toISOString(), '2019-07-30T06:39:48.000Z');
    assert.equal(sig.timestampToken, undefined);
    verifySignature(sig, manifest);
  });
  it('fails over a manifest altered by one byte', () => {
    const altered = Buffer.from(manifest);
    const i = altered.length - 2;
    altered[i] = (altered[i] as number) ^ 0x01;
    assertCode(() => verifySignature(sig, altered), 'SIGNATURE_INVALID', /messageDigest/);
  });
  it('chains to good-ca (an intermediate) at 2019-07-30T12:00:00Z', async () => {
    const r = verifyTrust(sig, { trust: await trustFile('dss-good-ca-2018-05.pem'), at: new Date('2019-07-30T12:00:00Z') });
    assert.deepEqual(r.chain.map((c) => c.subject), [
      'C=LU, OU=PKI-TEST, O=Nowina Solutions, CN=good-user',
      'C=LU, OU=PKI-TEST, O=Nowina Solutions, CN=good-ca',
    ]);
    assert.equal(r.validationTimeSource, 'caller');
  });
  it('CERT_UNTRUSTED with the other good-ca (2018-09), or an empty trust store', async () => {
    assertCode(() => verifyTrust(sig, { trust: [], at: new Date('2019-07-30T12:00:00Z') }), 'CERT_UNTRUSTED');
    const trust = await trustFile('dss-good-ca-2018-09.pem');
    assertCode(() => verifyTrust(sig, { trust, at: new Date('2019-07-30T12:00:00Z') }), 'CERT_UNTRUSTED');
  });
  it('CERT_EXPIRED now, CERT_NOT_YET_VALID in 2017', async () => {
    const trust = await trustFile('dss-good-ca-2018-05.pem');
    assertCode(() => verifyTrust(sig, { trust }), 'CERT_EXPIRED');
    assertCode(() => verifyTrust(sig, { trust, at: new Date('2017-01-01T00:00:00Z') }), 'CERT_NOT_YET_VALID');
  });
});

describe('RFC 3161 signature time-stamps written by others', () => {
  const cases: Array<[string, string, string, string]> = [
    ['dss-dss1792.asice', 'META-INF/signature001.p7s', 'C=LU, OU=PKI-TEST, O=Nowina Solutions, CN=good-tsa', '2019-10-02T07:52:59.000Z'],
    ['dss-nonConformantManifest.asice', 'META-INF/signature.p7s', 'CN=TSA, OU=Plugtests_2015-2016, O=ETSI, C=FR', '2016-11-25T06:51:47.145Z'],
  ];
  for (const [file, entry, tsa, genTime] of cases) {
    it(`${file}: verifies against the root carried in the token, and not against another`, async () => {
      const stamped = parseSignature(await unzipEntry(join(interop, 'containers', file), entry));
      const token = stamped.timestampToken as Buffer;
      const root = readSignedData(token).certificates.filter((c) => c.isSelfIssued);
      assert.equal(root.length, 1);
      const r = verifyTimestampToken(token, stamped.signatureValue, { trust: root });
      assert.equal(r.tsa.info.subject, tsa);
      assert.equal(r.genTime.toISOString(), genTime);
      assert.equal(r.chain.length, 2);
      assertCode(() => verifyTimestampToken(token, stamped.signatureValue, { trust: [sig.signer] }), 'TIMESTAMP_INVALID', /CERT_UNTRUSTED/);
      assertCode(() => verifyTimestampToken(token, sig.signatureValue, { trust: root }), 'TIMESTAMP_INVALID', /other data/);
    });
  }
});
