// Writing the XIP signature (xip-format.md §3): CAdES baseline B, a detached
// CMS SignedData over the manifest, optionally with an RFC 3161 time-stamp (T).
import crypto from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { XipError } from '../../errors.js';
import { digestOid, hash, keyProblem, OID, type DigestName, type SignatureScheme } from './algorithms.js';
import type { X509 } from './certs.js';
import { parseDer } from './der.js';
import { signingCertificateV2Value } from './ess.js';
import { CmsError, readSignedData } from './signed-data.js';
import { parseSignature, verifySignature } from './signature.js';
import { imprintProblem, readTstInfo } from './timestamp.js';

export interface SignOptions {
  certificate: X509;
  privateKey: crypto.KeyObject;
  /** Intermediate certificates to include (the signer's is always included). */
  chain?: readonly X509[];
  /** Default: now. */
  signingTime?: Date;
  /** Default: sha256; sha384 for P-384 keys; sha512 for Ed25519 (RFC 8419 §3.1). */
  digestAlgorithm?: DigestName;
  /** Returns an RFC 3161 TimeStampToken (ContentInfo DER) over the signature value. */
  timestamp?: (signatureValue: Buffer) => Promise<Buffer>;
}

function keyInvalid(detail: string, cause?: unknown): XipError {
  return new XipError('KEY_INVALID', detail, cause === undefined ? undefined : { cause });
}

/** A private key from PEM (PKCS#8, or traditional RSA/EC); KEY_INVALID when unreadable or unsupported. */
export function loadPrivateKey(pem: Buffer, source: string): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw keyInvalid(`${source}: not a readable unencrypted PEM private key (${(e as Error).message})`, e);
  }
  const problem = schemeProblem(key);
  if (problem) throw keyInvalid(`${source}: ${problem}`);
  return key;
}

// Compares re-exported SPKI rather than KeyObject.equals, which (Node 20) leaves an
// OpenSSL error queued for keys of different types and so breaks the next crypto call.
function sameKey(a: crypto.KeyObject, b: crypto.KeyObject): boolean {
  if (a.asymmetricKeyType !== b.asymmetricKeyType) return false;
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

function schemeKind(key: crypto.KeyObject): SignatureScheme['kind'] | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'rsa-pkcs1';
    case 'ec':
      return 'ecdsa';
    case 'ed25519':
      return 'ed25519';
    default:
      return undefined;
  }
}

function schemeProblem(key: crypto.KeyObject): string | undefined {
  const kind = schemeKind(key);
  if (!kind) return `unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (RSA, EC P-256/P-384 or Ed25519)`;
  return keyProblem(key, kind);
}

// RFC 5754 §3 (RSA, parameters NULL), RFC 5758 §3.2 (ECDSA, parameters absent), RFC 8419 §2.3 (Ed25519, absent).
function signatureAlgorithm(kind: SignatureScheme['kind'], digest: DigestName): pkijs.AlgorithmIdentifier {
  const n = digest.slice(3) as '256' | '384' | '512';
  if (kind === 'rsa-pkcs1') return new pkijs.AlgorithmIdentifier({ algorithmId: OID[`sha${n}WithRSA`], algorithmParams: new asn1js.Null() });
  if (kind === 'ecdsa') return new pkijs.AlgorithmIdentifier({ algorithmId: OID[`ecdsaSha${n}`] });
  return new pkijs.AlgorithmIdentifier({ algorithmId: OID.ed25519 });
}

// RFC 5652 §11.3: UTCTime for 1950–2049, GeneralizedTime otherwise; whole seconds (DER).
function timeValue(date: Date): asn1js.UTCTime {
  const t = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const year = t.getUTCFullYear();
  return year >= 1950 && year < 2050 ? new asn1js.UTCTime({ valueDate: t }) : new asn1js.GeneralizedTime({ valueDate: t });
}

function attribute(type: string, value: asn1js.AsnType): pkijs.Attribute {
  return new pkijs.Attribute({ type, values: [value] });
}

// X.690 §11.6: the components of a DER SET OF are in ascending order of their encodings.
function derSorted<T extends { toSchema(): asn1js.AsnType }>(items: readonly T[]): T[] {
  const encoded = items.map((item) => ({ item, der: Buffer.from(item.toSchema().toBER(false)) }));
  encoded.sort((a, b) => Buffer.compare(a.der, b.der));
  return encoded.map((e) => e.item);
}

/**
 * CAdES baseline B: detached SignedData, content type id-data, one SignerInfo
 * (sid issuerAndSerialNumber), signed attributes contentType, messageDigest,
 * signingTime and signingCertificateV2; certificates = signer + chain. Returns DER.
 */
export async function signManifest(manifest: Buffer, opts: SignOptions): Promise<Buffer> {
  const { certificate, privateKey } = opts;
  if (privateKey.type !== 'private') throw keyInvalid('the signing key is not a private key');
  const problem = schemeProblem(privateKey);
  if (problem) throw keyInvalid(problem);
  const kind = schemeKind(privateKey) as SignatureScheme['kind'];
  const certKey = certificate.publicKey;
  if (!certKey || !sameKey(crypto.createPublicKey(privateKey), certKey)) {
    throw keyInvalid(`the private key does not match the certificate "${certificate.info.subject}"`);
  }
  // The certificate's keyUsage and validity are not checked here: a verifier does (CERT_USAGE,
  // CERT_EXPIRED), and tests need to make such signatures on purpose.
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const digest = opts.digestAlgorithm ?? (kind === 'ed25519' ? 'sha512' : curve === 'secp384r1' ? 'sha384' : 'sha256');
  // RFC 8419 §3.1: with signed attributes, Ed25519 uses SHA-512 for the message digest.
  if (kind === 'ed25519' && digest !== 'sha512') throw keyInvalid('Ed25519 signatures use SHA-512 (RFC 8419)');

  const signedAttrs = derSorted([
    attribute(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data })),
    attribute(OID.signingTime, timeValue(opts.signingTime ?? new Date())),
    attribute(OID.messageDigest, new asn1js.OctetString({ valueHex: hash(digest, manifest) })),
    attribute(OID.signingCertificateV2, signingCertificateV2Value(certificate)),
  ]);
  // RFC 5652 §5.4: the signature is over the DER SET OF signed attributes.
  const toBeSigned = Buffer.from(new asn1js.Set({ value: signedAttrs.map((a) => a.toSchema()) }).toBER(false));
  const signature =
    kind === 'ed25519'
      ? crypto.sign(null, toBeSigned, privateKey)
      : crypto.sign(digest, toBeSigned, kind === 'ecdsa' ? { key: privateKey, dsaEncoding: 'der' } : { key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING });

  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: certificate.cert.issuer, serialNumber: certificate.cert.serialNumber }),
    digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: digestOid(digest) }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: signedAttrs }),
    signatureAlgorithm: signatureAlgorithm(kind, digest),
    signature: new asn1js.OctetString({ valueHex: signature }),
  });
  if (opts.timestamp) {
    const token = await opts.timestamp(Buffer.from(signature));
    checkToken(token, signature);
    signerInfo.unsignedAttrs = new pkijs.SignedAndUnsignedAttributes({
      type: 1,
      attributes: [attribute(OID.signatureTimeStampToken, asn1js.fromBER(token).result)],
    });
  }

  const certs = new Map<string, X509>();
  for (const c of [certificate, ...(opts.chain ?? [])]) certs.set(c.info.sha256, c);
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: digestOid(digest) })],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    certificates: [...certs.values()].sort((a, b) => Buffer.compare(a.der, b.der)).map((c) => c.cert),
    signerInfos: [signerInfo],
  });
  const der = Buffer.from(new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema() }).toSchema().toBER(false));
  selfCheck(der, manifest, [...certs.keys()]);
  return der;
}

// The token must be a DER ContentInfo whose TSTInfo time-stamps this signature value.
function checkToken(token: Buffer, signatureValue: Buffer): void {
  try {
    parseDer(token);
    const view = readSignedData(token);
    if (view.eContentType !== OID.tstInfo || !view.eContent) throw new CmsError('not a time-stamp token (no TSTInfo)');
    const problem = imprintProblem(readTstInfo(view.eContent), signatureValue);
    if (problem) throw new CmsError(problem);
  } catch (e) {
    throw new XipError('TIMESTAMP_INVALID', `the time-stamp authority's answer is unusable: ${(e as Error).message}`, { cause: e });
  }
}

// What we write must read back as we meant it: same certificates, byte for byte, and a signature that verifies.
function selfCheck(der: Buffer, manifest: Buffer, certHashes: readonly string[]): void {
  const parsed = parseSignature(der);
  verifySignature(parsed, manifest);
  const written = new Set(parsed.certificates.map((c) => c.info.sha256));
  if (written.size !== certHashes.length || !certHashes.every((h) => written.has(h))) {
    throw new Error('internal error: the certificates were re-encoded while writing the CMS');
  }
}
