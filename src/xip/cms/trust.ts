// xip-format.md §4 step 4: trust, at a validation time chosen in the spec's order.
import { XipError } from '../../errors.js';
import type { CertInfo, Crl, X509 } from './certs.js';
import { validateChain } from './chain.js';
import type { ParsedSignature } from './signature.js';
import { verifyTimestampToken } from './timestamp.js';

export interface TrustOptions {
  /** Every certificate here is a trust anchor, self-signed or not. */
  readonly trust: readonly X509[];
  readonly crls?: readonly Crl[];
  /** A validation time the caller asks for: wins over any time-stamp. */
  readonly at?: Date;
  /** The current time (default: the clock), used when there is neither `at` nor a time-stamp. */
  readonly now?: Date;
}

export interface TrustResult {
  /** Signer first, anchor last. */
  chain: CertInfo[];
  validationTime: Date;
  validationTimeSource: 'caller' | 'timestamp' | 'now';
  /** Present when the validation time came from a time-stamp token. */
  timestamp?: { genTime: Date; tsa: CertInfo; tsaChain: CertInfo[] };
}

/**
 * Step 4, in the spec's order: the validation time (opts.at; else a
 * time-stamp token that verifies, else TIMESTAMP_INVALID; else now), a path
 * to the trust store (CERT_UNTRUSTED), every certificate valid then
 * (CERT_EXPIRED, CERT_NOT_YET_VALID) and not revoked by a supplied CRL
 * (CERT_REVOKED), and the signer's keyUsage allowing signatures (CERT_USAGE).
 */
export function verifyTrust(sig: ParsedSignature, opts: TrustOptions): TrustResult {
  const crls = opts.crls ?? [];
  // An Invalid Date compares false with everything and would make every certificate look valid.
  for (const [name, d] of [['at', opts.at], ['now', opts.now]] as const) {
    if (d !== undefined && Number.isNaN(d.getTime())) throw new XipError('USAGE', `the validation time option "${name}" is not a valid date`);
  }
  let validationTime: Date;
  let validationTimeSource: TrustResult['validationTimeSource'];
  let timestamp: TrustResult['timestamp'];
  if (opts.at) {
    validationTime = opts.at;
    validationTimeSource = 'caller';
  } else if (sig.timestampToken) {
    const ts = verifyTimestampToken(sig.timestampToken, sig.signatureValue, { trust: opts.trust, crls, now: opts.now });
    validationTime = ts.genTime;
    validationTimeSource = 'timestamp';
    timestamp = { genTime: ts.genTime, tsa: ts.tsa.info, tsaChain: ts.chain.map((c) => c.info) };
  } else {
    validationTime = opts.now ?? new Date();
    validationTimeSource = 'now';
  }

  const chain = validateChain(sig.signer, { trust: opts.trust, extra: sig.certificates, crls, at: validationTime });

  // RFC 5280 §4.2.1.3: a signature over content needs digitalSignature or nonRepudiation (contentCommitment).
  const usage = sig.signer.keyUsage;
  if (usage && !usage.has('digitalSignature') && !usage.has('nonRepudiation')) {
    throw new XipError('CERT_USAGE', `"${sig.signer.info.subject}" has keyUsage ${[...usage].join(', ') || '(none)'}`);
  }

  return {
    chain: chain.map((c) => c.info),
    validationTime,
    validationTimeSource,
    ...(timestamp ? { timestamp } : {}),
  };
}
