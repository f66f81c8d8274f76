// Algorithm identifiers and the one place where signatures are checked and
// made. The cryptography is node:crypto's (OpenSSL), never pkijs's WebCrypto
// engine: one code path for RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA and Ed25519.
import crypto from 'node:crypto';
import * as pkijs from 'pkijs';

export type DigestName = 'sha256' | 'sha384' | 'sha512';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4', // RFC 3161 id-ct-TSTInfo
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12', // RFC 2634 (ESSCertID, SHA-1)
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47', // RFC 5035
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14', // RFC 3161 appendix A
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  kpTimeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

const DIGEST_BY_OID: Readonly<Record<string, DigestName>> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

export function digestOid(name: DigestName | 'sha1'): string {
  return OID[name];
}

/** The digest named by an AlgorithmIdentifier, or undefined when not SHA-2 (256/384/512). */
export function digestFromOid(oid: string): DigestName | undefined {
  return DIGEST_BY_OID[oid];
}

export function hash(name: DigestName | 'sha1', data: Uint8Array): Buffer {
  return crypto.createHash(name).update(data).digest();
}

/** A signature algorithm reduced to what node:crypto needs. */
export type SignatureScheme =
  | { readonly kind: 'rsa-pkcs1'; readonly hash: DigestName }
  | { readonly kind: 'rsa-pss'; readonly hash: DigestName; readonly saltLength: number }
  | { readonly kind: 'ecdsa'; readonly hash: DigestName }
  | { readonly kind: 'ed25519' };

const RSA_WITH: Readonly<Record<string, DigestName>> = {
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
};
const ECDSA_WITH: Readonly<Record<string, DigestName>> = {
  [OID.ecdsaSha256]: 'sha256',
  [OID.ecdsaSha384]: 'sha384',
  [OID.ecdsaSha512]: 'sha512',
};

/**
 * Reads a signature AlgorithmIdentifier. `digestHint` is the SignerInfo's
 * digestAlgorithm, used when the OID names only the key type (rsaEncryption,
 * id-ecPublicKey), as CMS allows (RFC 3370 §3.2, RFC 5753 §2.1.1).
 * Returns a string saying what is wrong when the algorithm is not supported.
 */
export function signatureScheme(alg: pkijs.AlgorithmIdentifier, digestHint?: DigestName): SignatureScheme | string {
  const oid = alg.algorithmId;
  const rsaHash = RSA_WITH[oid];
  if (rsaHash) return { kind: 'rsa-pkcs1', hash: rsaHash };
  const ecHash = ECDSA_WITH[oid];
  if (ecHash) return { kind: 'ecdsa', hash: ecHash };
  if (oid === OID.rsaEncryption && digestHint) return { kind: 'rsa-pkcs1', hash: digestHint };
  if (oid === OID.ecPublicKey && digestHint) return { kind: 'ecdsa', hash: digestHint };
  // RFC 8419 §3: no parameters; the signature is over the data itself (PureEdDSA).
  if (oid === OID.ed25519) return alg.algorithmParams === undefined ? { kind: 'ed25519' } : 'Ed25519 with parameters';
  if (oid === OID.rsassaPss) return pssScheme(alg);
  return `unsupported signature algorithm ${oid}`;
}

// RFC 4055 §3.1: RSASSA-PSS-params; node:crypto uses the message digest for MGF1
// as well, so a different MGF1 digest is refused rather than mis-verified.
function pssScheme(alg: pkijs.AlgorithmIdentifier): SignatureScheme | string {
  if (alg.algorithmParams === undefined) return 'RSASSA-PSS without parameters (SHA-1 defaults are not accepted)';
  let params: pkijs.RSASSAPSSParams;
  try {
    params = new pkijs.RSASSAPSSParams({ schema: alg.algorithmParams });
  } catch (e) {
    return `malformed RSASSA-PSS parameters: ${(e as Error).message}`;
  }
  const h = digestFromOid(params.hashAlgorithm.algorithmId);
  if (!h) return `RSASSA-PSS with unsupported hash ${params.hashAlgorithm.algorithmId}`;
  if (params.maskGenAlgorithm.algorithmId !== OID.mgf1) return 'RSASSA-PSS with a mask generation function other than MGF1';
  let mgfHash: string | undefined;
  try {
    mgfHash = new pkijs.AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams }).algorithmId;
  } catch {
    mgfHash = undefined;
  }
  if (mgfHash !== params.hashAlgorithm.algorithmId) return 'RSASSA-PSS with an MGF1 hash different from the message hash';
  if (params.trailerField !== 1) return 'RSASSA-PSS with a trailer field other than 1';
  if (params.saltLength < 0 || params.saltLength > 1024) return 'RSASSA-PSS with an invalid salt length';
  return { kind: 'rsa-pss', hash: h, saltLength: params.saltLength };
}

/**
 * Why a key cannot be used with a scheme, or undefined when it can.
 * RSA under 2048 bits and EC curves other than P-256/P-384 are refused (xip-format.md §3).
 */
export function keyProblem(key: crypto.KeyObject, scheme: SignatureScheme['kind']): string | undefined {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (scheme) {
    case 'rsa-pkcs1':
    case 'rsa-pss': {
      if (type !== 'rsa' && !(scheme === 'rsa-pss' && type === 'rsa-pss')) return `${scheme} signature with a ${type ?? 'unknown'} key`;
      const bits = details.modulusLength ?? 0;
      return bits < 2048 ? `RSA key of ${bits} bits (at least 2048 required)` : undefined;
    }
    case 'ecdsa': {
      if (type !== 'ec') return `ECDSA signature with a ${type ?? 'unknown'} key`;
      const curve = details.namedCurve;
      return curve === 'prime256v1' || curve === 'secp384r1' ? undefined : `EC curve ${curve ?? 'unknown'} (P-256 or P-384 required)`;
    }
    case 'ed25519':
      return type === 'ed25519' ? undefined : `Ed25519 signature with a ${type ?? 'unknown'} key`;
  }
}

/** Imports a DER SubjectPublicKeyInfo; undefined when node:crypto cannot read it. */
export function importSpki(spki: Buffer): crypto.KeyObject | undefined {
  try {
    return crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** Verifies `signature` over `data`; returns why it fails, or undefined when it verifies. */
export function verifyWith(scheme: SignatureScheme, key: crypto.KeyObject, data: Uint8Array, signature: Uint8Array): string | undefined {
  const problem = keyProblem(key, scheme.kind);
  if (problem) return problem;
  let ok: boolean;
  try {
    switch (scheme.kind) {
      case 'rsa-pkcs1':
        ok = crypto.verify(scheme.hash, data, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, signature);
        break;
      case 'rsa-pss':
        ok = crypto.verify(scheme.hash, data, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength }, signature);
        break;
      case 'ecdsa':
        ok = crypto.verify(scheme.hash, data, { key, dsaEncoding: 'der' }, signature);
        break;
      case 'ed25519':
        ok = crypto.verify(null, data, key, signature);
        break;
    }
  } catch (e) {
    return `signature check failed: ${(e as Error).message}`;
  }
  return ok ? undefined : 'signature value does not verify';
}

/** Verifies a certificate's or CRL's signature (RFC 5280 §4.1.1.3, §5.1.1.3) with an issuer's key. */
export function verifySigned(alg: pkijs.AlgorithmIdentifier, tbs: Uint8Array, signature: Uint8Array, issuerKey: crypto.KeyObject | undefined): string | undefined {
  if (!issuerKey) return "issuer's public key is not readable";
  const scheme = signatureScheme(alg);
  if (typeof scheme === 'string') return scheme;
  return verifyWith(scheme, issuerKey, tbs, signature);
}
