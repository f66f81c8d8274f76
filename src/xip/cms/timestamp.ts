// RFC 3161 time-stamp tokens over the signature value (CAdES-T,
// signatureTimeStampToken): used by verifyTrust for the validation time when
// the caller gives none (xip-format.md §4 step 4). Any failure: TIMESTAMP_INVALID.
import crypto from 'node:crypto';
import * as pkijs from 'pkijs';
import { XipError } from '../../errors.js';
import { digestFromOid, OID } from './algorithms.js';
import type { Crl, X509 } from './certs.js';
import { validateChain } from './chain.js';
import { parseDer } from './der.js';
import { checkSignerInfo, checkSigningCertificate, CmsError, readSignedData } from './signed-data.js';

export interface VerifiedTimestamp {
  readonly genTime: Date;
  readonly tsa: X509;
  /** TSA certificate first, trust anchor last. */
  readonly chain: readonly X509[];
}

export interface TimestampOptions {
  readonly trust: readonly X509[];
  readonly crls?: readonly Crl[];
  /** The current time: a genTime later than this (beyond clock skew) is refused. */
  readonly now?: Date;
}

/** Tolerated clock difference between the TSA and this machine. */
const CLOCK_SKEW_MS = 5 * 60_000;

function invalid(detail: string, cause?: unknown): XipError {
  return new XipError('TIMESTAMP_INVALID', detail, cause === undefined ? undefined : { cause });
}

/** The TSTInfo of a token, without checking anything but its shape. */
export function readTstInfo(eContent: Buffer): pkijs.TSTInfo {
  parseDer(eContent);
  const info = pkijs.TSTInfo.fromBER(eContent);
  if (info.version !== 1) throw new CmsError(`TSTInfo version ${info.version}`);
  if (Number.isNaN(info.genTime.getTime())) throw new CmsError('TSTInfo genTime is not a valid time');
  return info;
}

/** Why the token's messageImprint is not the hash of `timestamped`, or undefined when it is (RFC 3161 §2.4.2). */
export function imprintProblem(info: pkijs.TSTInfo, timestamped: Uint8Array): string | undefined {
  const alg = digestFromOid(info.messageImprint.hashAlgorithm.algorithmId);
  if (!alg) return `messageImprint uses unsupported hash ${info.messageImprint.hashAlgorithm.algorithmId}`;
  const expected = crypto.createHash(alg).update(timestamped).digest();
  const found = Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView);
  return expected.equals(found) ? undefined : 'the token time-stamps other data than this signature value';
}

/**
 * Verifies `token` (a ContentInfo with a SignedData over a TSTInfo) as a
 * time-stamp of `signatureValue`: the imprint, the token's own signature
 * (messageDigest over the eContent), the signing-certificate attribute, the
 * TSA certificate's timeStamping purpose, and its path to the trust store at genTime.
 */
export function verifyTimestampToken(token: Buffer, signatureValue: Buffer, opts: TimestampOptions): VerifiedTimestamp {
  let info: pkijs.TSTInfo;
  let tsa: X509;
  let certificates: readonly X509[];
  try {
    const view = readSignedData(token);
    // RFC 3161 §2.4.2: eContentType id-ct-TSTInfo, eContent the DER TSTInfo.
    if (view.eContentType !== OID.tstInfo) throw new CmsError(`eContentType ${view.eContentType} is not id-ct-TSTInfo`);
    if (!view.eContent) throw new CmsError('the token has no TSTInfo content');
    info = readTstInfo(view.eContent);
    const imprint = imprintProblem(info, signatureValue);
    if (imprint) throw new CmsError(imprint);
    checkSignerInfo(view, view.eContent, OID.tstInfo);
    // RFC 3161 §2.4.1 (and RFC 5816): the TSA's certificate is named by ESS signingCertificate(V2).
    checkSigningCertificate(view, true);
    tsa = view.signer;
    certificates = view.certificates;
  } catch (e) {
    if (e instanceof CmsError) throw invalid(e.message, e);
    throw invalid(`malformed time-stamp token: ${(e as Error).message}`, e);
  }
  // RFC 3161 §2.3: the TSA certificate's extended key usage is id-kp-timeStamping.
  if (!tsa.extKeyUsage?.includes(OID.kpTimeStamping)) throw invalid(`the TSA certificate "${tsa.info.subject}" is not for time-stamping (no extendedKeyUsage timeStamping)`);
  const now = opts.now ?? new Date();
  if (info.genTime.getTime() > now.getTime() + CLOCK_SKEW_MS) throw invalid(`genTime ${info.genTime.toISOString()} is in the future`);
  let chain: X509[];
  try {
    chain = validateChain(tsa, { trust: opts.trust, extra: certificates, crls: opts.crls ?? [], at: info.genTime });
  } catch (e) {
    if (e instanceof XipError) throw invalid(`TSA certificate: ${e.code}: ${e.detail ?? e.message}`, e);
    throw e;
  }
  return { genTime: info.genTime, tsa, chain };
}
