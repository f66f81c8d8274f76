// Reading a CMS SignedData with one SignerInfo (RFC 5652 §5) and checking that
// SignerInfo: shared by the XIP signature (signature.ts) and by RFC 3161
// time-stamp tokens (timestamp.ts), which are SignedData too. Errors are
// plain CmsError; each caller turns them into its own code.
import crypto from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { digestFromOid, OID, signatureScheme, verifyWith, type DigestName, type SignatureScheme } from './algorithms.js';
import { namesEqual, X509 } from './certs.js';
import { children, DerError, integerHex, parseDer, raw } from './der.js';
import { essMismatch, readFirstEssCertId } from './ess.js';

export class CmsError extends Error {
  override readonly name = 'CmsError';
}

export interface SignedDataView {
  readonly certificates: readonly X509[];
  readonly signerInfo: pkijs.SignerInfo;
  readonly signer: X509;
  readonly digestAlgorithm: DigestName;
  readonly scheme: SignatureScheme;
  readonly signatureValue: Buffer;
  readonly eContentType: string;
  /** The encapsulated content's octets; undefined when detached. */
  readonly eContent: Buffer | undefined;
  /** The DER SET OF signed attributes as signed (RFC 5652 §5.4: tag [0] replaced by SET). */
  readonly signedAttrsDer: Buffer | undefined;
}

export function readSignedData(der: Buffer): SignedDataView {
  let top;
  try {
    top = parseDer(der);
  } catch (e) {
    throw new CmsError(`not DER: ${(e as Error).message}`);
  }
  let contentInfo: pkijs.ContentInfo;
  let sd: pkijs.SignedData;
  try {
    contentInfo = pkijs.ContentInfo.fromBER(der);
  } catch (e) {
    throw new CmsError(`not a CMS ContentInfo: ${(e as Error).message}`);
  }
  if (contentInfo.contentType !== OID.signedData) throw new CmsError(`content type ${contentInfo.contentType} is not SignedData`);
  try {
    sd = new pkijs.SignedData({ schema: contentInfo.content });
  } catch (e) {
    throw new CmsError(`malformed SignedData: ${(e as Error).message}`);
  }
  if (sd.signerInfos.length !== 1) throw new CmsError(`${sd.signerInfos.length} SignerInfos (exactly one required)`);
  const signerInfo = sd.signerInfos[0] as pkijs.SignerInfo;

  const certificates = rawCertificates(der, top).map((c, i) => {
    try {
      return new X509(c);
    } catch (e) {
      throw new CmsError(`certificate ${i + 1} in the CMS is unreadable: ${(e as Error).message}`);
    }
  });

  const digestAlgorithm = digestFromOid(signerInfo.digestAlgorithm.algorithmId);
  if (!digestAlgorithm) throw new CmsError(`unsupported digest algorithm ${signerInfo.digestAlgorithm.algorithmId} (SHA-256, SHA-384 or SHA-512 required)`);
  const scheme = signatureScheme(signerInfo.signatureAlgorithm, digestAlgorithm);
  if (typeof scheme === 'string') throw new CmsError(scheme);

  const signer = findSigner(signerInfo, certificates);
  const eContentOctets = sd.encapContentInfo.eContent;
  return {
    certificates,
    signerInfo,
    signer,
    digestAlgorithm,
    scheme,
    signatureValue: Buffer.from(signerInfo.signature.valueBlock.valueHexView),
    eContentType: sd.encapContentInfo.eContentType,
    eContent: eContentOctets ? octets(eContentOctets) : undefined,
    signedAttrsDer: signerInfo.signedAttrs ? Buffer.from(signerInfo.signedAttrs.encodedValue) : undefined,
  };
}

// The certificates' exact bytes: ContentInfo → [0] → SignedData → [0] IMPLICIT CertificateSet.
// Other CertificateChoices (attribute certificates, tagged) are not certificates and are skipped.
function rawCertificates(der: Buffer, top: ReturnType<typeof parseDer>): Buffer[] {
  try {
    const explicit = children(der, top)[1];
    const signedData = explicit && children(der, explicit)[0];
    if (!signedData) return [];
    const set = children(der, signedData).find((t) => t.tagClass === 2 && t.tagNumber === 0);
    if (!set) return [];
    return children(der, set)
      .filter((t) => t.tagClass === 0 && t.tagNumber === 16)
      .map((t) => raw(der, t));
  } catch (e) {
    if (e instanceof DerError) throw new CmsError(`malformed certificate set: ${e.message}`);
    throw e;
  }
}

function octets(value: asn1js.OctetString): Buffer {
  if (value.idBlock.isConstructed) throw new CmsError('constructed OCTET STRING (BER, not DER)');
  return Buffer.from(value.valueBlock.valueHexView);
}

// RFC 5652 §5.3: sid is issuerAndSerialNumber or [0] subjectKeyIdentifier.
function findSigner(signerInfo: pkijs.SignerInfo, certificates: readonly X509[]): X509 {
  const sid = signerInfo.sid as unknown;
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    const issuer = Buffer.from(sid.issuer.valueBeforeDecode);
    const serial = integerHex(sid.serialNumber.valueBlock.valueHexView);
    const found = certificates.find((c) => c.serialHex === serial && namesEqual(c.issuerDer, issuer));
    if (!found) throw new CmsError(`the signer's certificate (serial ${serial}) is not among the CMS certificates`);
    return found;
  }
  const ski = (sid as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock?.valueHexView;
  if (ski) {
    const keyId = Buffer.from(ski);
    const found = certificates.find((c) => c.subjectKeyId?.equals(keyId));
    if (!found) throw new CmsError(`the signer's certificate (key id ${keyId.toString('hex')}) is not among the CMS certificates`);
    return found;
  }
  throw new CmsError('unreadable signer identifier');
}

/** Signed attributes by type; RFC 5652 §5.3 requires the set to be non-empty when present. */
export function signedAttributes(view: SignedDataView): Map<string, pkijs.Attribute[]> {
  const out = new Map<string, pkijs.Attribute[]>();
  for (const a of view.signerInfo.signedAttrs?.attributes ?? []) out.set(a.type, [...(out.get(a.type) ?? []), a]);
  return out;
}

/** The value of an attribute that must occur once with one value (RFC 5652 §11), or undefined when absent. */
export function singleValue(attrs: Map<string, pkijs.Attribute[]>, type: string, name: string): asn1js.AsnType | undefined {
  const list = attrs.get(type);
  if (!list) return undefined;
  if (list.length !== 1 || list[0]?.values.length !== 1) throw new CmsError(`the ${name} attribute must occur once with one value`);
  return list[0].values[0] as asn1js.AsnType;
}

/**
 * RFC 5652 §5.4 and §11: contentType equals `expectedContentType`, messageDigest
 * equals the digest of `contentBytes`, and the signature over the DER signed
 * attributes verifies with the signer's key.
 */
export function checkSignerInfo(view: SignedDataView, contentBytes: Uint8Array, expectedContentType: string): void {
  if (!view.signedAttrsDer) throw new CmsError('no signed attributes');
  const attrs = signedAttributes(view);
  const ct = singleValue(attrs, OID.contentType, 'contentType');
  if (!ct) throw new CmsError('the contentType signed attribute is missing');
  if (!(ct instanceof asn1js.ObjectIdentifier) || ct.getValue() !== expectedContentType) {
    throw new CmsError(`the contentType signed attribute is not ${expectedContentType}`);
  }
  const md = singleValue(attrs, OID.messageDigest, 'messageDigest');
  if (!md) throw new CmsError('the messageDigest signed attribute is missing');
  if (!(md instanceof asn1js.OctetString)) throw new CmsError('the messageDigest signed attribute is not an OCTET STRING');
  const expected = crypto.createHash(view.digestAlgorithm).update(contentBytes).digest();
  const found = Buffer.from(md.valueBlock.valueHexView);
  if (found.length !== expected.length || !crypto.timingSafeEqual(found, expected)) {
    throw new CmsError(`messageDigest ${found.toString('hex')} is not the ${view.digestAlgorithm} of the signed content (${expected.toString('hex')})`);
  }
  const key = view.signer.publicKey;
  if (!key) throw new CmsError(`the signer's public key (${view.signer.info.subject}) is not readable`);
  const problem = verifyWith(view.scheme, key, view.signedAttrsDer, view.signatureValue);
  if (problem) throw new CmsError(`the signature over the signed attributes fails: ${problem}`);
}

/** Checks a signing-certificate attribute (v2, or v1 when `allowV1`) names the signer. */
export function checkSigningCertificate(view: SignedDataView, allowV1: boolean): void {
  const attrs = signedAttributes(view);
  const v2 = singleValue(attrs, OID.signingCertificateV2, 'signingCertificateV2');
  const v1 = allowV1 && !v2 ? singleValue(attrs, OID.signingCertificate, 'signingCertificate') : undefined;
  const value = v2 ?? v1;
  const name = v2 ? 'signingCertificateV2' : 'signingCertificate';
  if (!value) throw new CmsError(allowV1 ? 'no signingCertificate or signingCertificateV2 attribute' : 'the signingCertificateV2 signed attribute is missing');
  let id;
  try {
    id = readFirstEssCertId(encoded(value), v2 !== undefined);
  } catch (e) {
    throw new CmsError(`malformed ${name} attribute: ${(e as Error).message}`);
  }
  const mismatch = essMismatch(id, view.signer);
  if (mismatch) throw new CmsError(`${name} does not name the signer's certificate: ${mismatch}`);
}

/** The bytes an asn1js value was decoded from. */
export function encoded(value: asn1js.AsnType): Uint8Array {
  const view = (value as { valueBeforeDecodeView?: Uint8Array }).valueBeforeDecodeView;
  return view && view.length > 0 ? view : new Uint8Array(value.toBER(false));
}
