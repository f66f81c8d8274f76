// ESS signing-certificate attributes: they bind the signer's certificate
// into the signed attributes, so that another certificate with the same key
// cannot be substituted (RFC 2634 §5.4, RFC 5035 §3).
import * as asn1js from 'asn1js';
import { hash, OID, type DigestName } from './algorithms.js';
import { namesEqual, type X509 } from './certs.js';
import { children, content, decodeOid, integerHex, parseDer, raw, type Tlv } from './der.js';

/** One ESSCertID / ESSCertIDv2, as read from the attribute. */
export interface EssCertId {
  readonly hashAlgorithm: DigestName | 'sha1';
  readonly certHash: Buffer;
  readonly issuerSerial: { readonly issuerNames: readonly Buffer[]; readonly serialHex: string } | undefined;
}

const HASH_BY_OID: Readonly<Record<string, DigestName>> = { [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' };

/**
 * Reads the first cert ID of a SigningCertificate (v1: SHA-1, RFC 2634) or
 * SigningCertificateV2 (RFC 5035: hashAlgorithm DEFAULT id-sha256) attribute value.
 * Throws an Error saying what is malformed.
 */
export function readFirstEssCertId(value: Uint8Array, v2: boolean): EssCertId {
  const buf = Buffer.from(value);
  const top = parseDer(buf);
  const [certs] = children(buf, top);
  if (!certs || certs.tagNumber !== 16) throw new Error('no certs sequence');
  const [first] = children(buf, certs);
  if (!first) throw new Error('empty certs sequence');
  const fields = children(buf, first);
  let i = 0;
  let hashAlgorithm: DigestName | 'sha1' = v2 ? 'sha256' : 'sha1';
  if (v2 && fields[0]?.tagNumber === 16) {
    const [oid] = children(buf, fields[0]);
    if (!oid || oid.tagNumber !== 6) throw new Error('malformed hashAlgorithm');
    const name = HASH_BY_OID[decodeOid(content(buf, oid))];
    if (!name) throw new Error(`unsupported certificate hash algorithm ${decodeOid(content(buf, oid))}`);
    hashAlgorithm = name;
    i = 1;
  }
  const certHash = fields[i];
  if (!certHash || certHash.tagNumber !== 4 || certHash.tagClass !== 0) throw new Error('certHash missing');
  const issuerSerialTlv = fields[i + 1];
  return {
    hashAlgorithm,
    certHash: Buffer.from(content(buf, certHash)),
    issuerSerial: issuerSerialTlv ? readIssuerSerial(buf, issuerSerialTlv) : undefined,
  };
}

// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } (RFC 5035 §4)
function readIssuerSerial(buf: Buffer, tlv: Tlv): EssCertId['issuerSerial'] {
  const [names, serial] = children(buf, tlv);
  if (!names || !serial || serial.tagNumber !== 2) throw new Error('malformed issuerSerial');
  // GeneralName directoryName is [4] EXPLICIT Name (RFC 5280 §4.2.1.6).
  const issuerNames = children(buf, names)
    .filter((g) => g.tagClass === 2 && g.tagNumber === 4 && g.constructed)
    .map((g) => {
      const [name] = children(buf, g);
      if (!name) throw new Error('empty directoryName');
      return Buffer.from(raw(buf, name));
    });
  return { issuerNames, serialHex: integerHex(content(buf, serial)) };
}

/** Why the cert ID does not name `cert`, or undefined when it does. */
export function essMismatch(id: EssCertId, cert: X509): string | undefined {
  if (!hash(id.hashAlgorithm, cert.der).equals(id.certHash)) return `its ${id.hashAlgorithm} certificate hash is not that of "${cert.info.subject}"`;
  if (id.issuerSerial) {
    if (id.issuerSerial.serialHex !== cert.serialHex) return `its issuerSerial names serial ${id.issuerSerial.serialHex}, not ${cert.serialHex}`;
    if (!id.issuerSerial.issuerNames.some((n) => namesEqual(n, cert.issuerDer))) return `its issuerSerial names another issuer than "${cert.info.issuer}"`;
  }
  return undefined;
}

/**
 * The SigningCertificateV2 attribute value for `cert`: one ESSCertIDv2 with a
 * SHA-256 hash (hashAlgorithm omitted: it is the DEFAULT, and DER omits
 * defaults, X.690 §11.5) and the issuerSerial.
 */
export function signingCertificateV2Value(cert: X509): asn1js.Sequence {
  const issuerName = asn1js.fromBER(cert.issuerDer).result;
  const serial = asn1js.fromBER(cert.cert.serialNumber.toBER(false)).result;
  const generalNames = new asn1js.Sequence({
    value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 4 }, value: [issuerName] })],
  });
  const essCertIdV2 = new asn1js.Sequence({
    value: [new asn1js.OctetString({ valueHex: hash('sha256', cert.der) }), new asn1js.Sequence({ value: [generalNames, serial] })],
  });
  return new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
}
