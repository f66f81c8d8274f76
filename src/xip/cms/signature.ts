// xip-format.md §3 and §4 step 3: the detached CMS signature over the manifest.
import * as asn1js from 'asn1js';
import type * as pkijs from 'pkijs';
import { XipError } from '../../errors.js';
import { OID, type DigestName, type SignatureScheme } from './algorithms.js';
import type { X509 } from './certs.js';
import {
  checkSignerInfo,
  checkSigningCertificate,
  CmsError,
  encoded,
  readSignedData,
  signedAttributes,
  singleValue,
  type SignedDataView,
} from './signed-data.js';

export interface ParsedSignature {
  /** Resolved from the SignerInfo's sid among `certificates`. */
  readonly signer: X509;
  readonly certificates: readonly X509[];
  readonly digestAlgorithm: DigestName;
  readonly signingTime: Date | undefined;
  /** DER of the signatureTimeStampToken unsigned attribute (a ContentInfo), if any. */
  readonly timestampToken: Buffer | undefined;
  readonly signatureValue: Buffer;
  /** The signature scheme, e.g. { kind: 'ecdsa', hash: 'sha256' }. */
  readonly signatureScheme: SignatureScheme;
  /** The parsed SignerInfo and the DER SET OF signed attributes, as verifySignature needs them. */
  readonly signerInfo: pkijs.SignerInfo;
  readonly signedAttrsDer: Buffer | undefined;
}

function invalid(detail: string, cause?: unknown): XipError {
  return new XipError('SIGNATURE_INVALID', detail, cause === undefined ? undefined : { cause });
}

/**
 * Step 3, first half: parse. SIGNATURE_INVALID on anything malformed: not DER,
 * not SignedData, not exactly one SignerInfo, encapsulated content present,
 * eContentType not id-data, signer certificate not in `certificates`,
 * unsupported digest or signature algorithm.
 */
export function parseSignature(der: Buffer): ParsedSignature {
  let view: SignedDataView;
  try {
    view = readSignedData(der);
  } catch (e) {
    if (e instanceof CmsError) throw invalid(e.message, e);
    throw invalid(`malformed CMS: ${(e as Error).message}`, e);
  }
  // §3: detached, over the manifest, content type id-data (RFC 5652 §5.2).
  if (view.eContentType !== OID.data) throw invalid(`eContentType ${view.eContentType} is not id-data`);
  if (view.eContent !== undefined) throw invalid('the CMS encapsulates content; XIP signatures must be detached');

  let signingTime: Date | undefined;
  try {
    const st = singleValue(signedAttributes(view), OID.signingTime, 'signingTime');
    if (st !== undefined) {
      // RFC 5652 §11.3: UTCTime or GeneralizedTime.
      if (!(st instanceof asn1js.UTCTime)) throw new CmsError('the signingTime attribute is not a time');
      signingTime = st.toDate();
      if (Number.isNaN(signingTime.getTime())) throw new CmsError('the signingTime attribute is not a valid time');
    }
  } catch (e) {
    throw invalid((e as Error).message, e);
  }

  return {
    signer: view.signer,
    certificates: view.certificates,
    digestAlgorithm: view.digestAlgorithm,
    signingTime,
    timestampToken: timestampToken(view.signerInfo),
    signatureValue: view.signatureValue,
    signatureScheme: view.scheme,
    signerInfo: view.signerInfo,
    signedAttrsDer: view.signedAttrsDer,
  };
}

// CAdES-T: the first signatureTimeStampToken unsigned attribute (RFC 3161 appendix A).
function timestampToken(signerInfo: pkijs.SignerInfo): Buffer | undefined {
  const attr = signerInfo.unsignedAttrs?.attributes.find((a) => a.type === OID.signatureTimeStampToken);
  const value = attr?.values[0] as asn1js.AsnType | undefined;
  return value === undefined ? undefined : Buffer.from(encoded(value));
}

/**
 * Step 3: contentType (id-data) and messageDigest present, messageDigest equals
 * the digest of the manifest, the signature over the DER signed attributes
 * verifies with the signer's key, and signingCertificateV2 names the signer.
 * Unknown signed attributes (content time-stamp, CMSAlgorithmProtection, …) are ignored.
 */
export function verifySignature(sig: ParsedSignature, manifestBytes: Buffer): void {
  const view: SignedDataView = {
    certificates: sig.certificates,
    signerInfo: sig.signerInfo,
    signer: sig.signer,
    digestAlgorithm: sig.digestAlgorithm,
    scheme: sig.signatureScheme,
    signatureValue: sig.signatureValue,
    eContentType: OID.data,
    eContent: undefined,
    signedAttrsDer: sig.signedAttrsDer,
  };
  try {
    checkSignerInfo(view, manifestBytes, OID.data);
    // §3: CAdES baseline B requires signingCertificateV2 (RFC 5035).
    checkSigningCertificate(view, false);
  } catch (e) {
    if (e instanceof CmsError) throw invalid(e.message, e);
    throw e;
  }
}
