// CMS signatures of XIP containers (xip-format.md §3, §4 steps 3 and 4).
export { formatName, parseCertificates, parseCrls, Crl, X509 } from './certs.js';
export type { CertInfo, CrlEntry, KeyUsageName } from './certs.js';
export type { DigestName, SignatureScheme } from './algorithms.js';
export { parseSignature, verifySignature } from './signature.js';
export type { ParsedSignature } from './signature.js';
export { verifyTrust } from './trust.js';
export type { TrustOptions, TrustResult } from './trust.js';
export { verifyTimestampToken } from './timestamp.js';
export type { TimestampOptions, VerifiedTimestamp } from './timestamp.js';
export { loadPrivateKey, signManifest } from './sign.js';
export type { SignOptions } from './sign.js';
