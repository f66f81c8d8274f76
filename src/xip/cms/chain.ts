// Certification paths (RFC 5280 §6, reduced to what xip-format.md §4 step 4
// asks): build from a leaf to any trust-store certificate, then check
// validity periods and the CRLs the caller supplied.
import { XipError } from '../../errors.js';
import { namesEqual, type Crl, type X509 } from './certs.js';

/** Most certificates in a path, leaf and anchor included. */
export const MAX_CHAIN_LENGTH = 10;
/** Most complete paths tried before giving up (cross-certified PKIs can branch). */
const MAX_PATHS = 16;
/** Most issuer signature checks for one path search: bounds the work a hostile CMS can cause. */
const MAX_SIGNATURE_CHECKS = 200;

export interface ChainOptions {
  /** Trust anchors: every one of them, self-signed or not (§4 step 4). */
  readonly trust: readonly X509[];
  /** Other certificates that may serve as intermediates (those of the CMS). */
  readonly extra: readonly X509[];
  readonly crls: readonly Crl[];
  readonly at: Date;
}

/**
 * Builds paths from `leaf` (DFS, anchors tried first), and returns the first
 * that passes the validity and revocation checks. When none passes, the error
 * of the first path found is thrown; when no path exists, CERT_UNTRUSTED.
 */
export function validateChain(leaf: X509, opts: ChainOptions): X509[] {
  const anchors = new Set(opts.trust.map((c) => c.info.sha256));
  const pool = dedupe([...opts.trust, ...opts.extra]).sort((a, b) => Number(anchors.has(b.info.sha256)) - Number(anchors.has(a.info.sha256)));
  const search = new PathSearch(pool, anchors);
  const paths = search.paths(leaf);
  if (paths.length === 0) {
    const why = search.lastProblem ? ` (${search.lastProblem})` : '';
    throw new XipError('CERT_UNTRUSTED', `no path from "${leaf.info.subject}" to a trust-store certificate${why}`);
  }
  let first: unknown;
  for (const path of paths) {
    try {
      checkValidity(path, opts.at);
      checkRevocation(path, opts.crls, pool, opts.at);
      return path;
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

function dedupe(certs: readonly X509[]): X509[] {
  const seen = new Map<string, X509>();
  for (const c of certs) if (!seen.has(c.info.sha256)) seen.set(c.info.sha256, c);
  return [...seen.values()];
}

class PathSearch {
  lastProblem: string | undefined;
  #checks = 0;
  readonly #verified = new Map<string, boolean>();
  readonly #found: X509[][] = [];

  constructor(
    readonly pool: readonly X509[],
    readonly anchors: ReadonlySet<string>,
  ) {}

  paths(leaf: X509): X509[][] {
    this.#dfs([leaf]);
    return this.#found;
  }

  #dfs(path: X509[]): void {
    if (this.#found.length >= MAX_PATHS) return;
    const current = path[path.length - 1] as X509;
    // A trust-store certificate ends the path, the signer's own included (a path of one).
    if (this.anchors.has(current.info.sha256)) {
      this.#found.push([...path]);
      return;
    }
    if (path.length >= MAX_CHAIN_LENGTH) {
      this.lastProblem = `longer than ${MAX_CHAIN_LENGTH} certificates`;
      return;
    }
    for (const candidate of this.pool) {
      if (path.some((p) => p.info.sha256 === candidate.info.sha256)) continue;
      if (!current.nameChainsTo(candidate)) continue;
      const caProblem = this.anchors.has(candidate.info.sha256) ? undefined : intermediateProblem(candidate, path);
      if (caProblem) {
        this.lastProblem = caProblem;
        continue;
      }
      if (!this.#signedBy(current, candidate)) continue;
      this.#dfs([...path, candidate]);
    }
  }

  #signedBy(cert: X509, issuer: X509): boolean {
    const key = `${cert.info.sha256}/${issuer.info.sha256}`;
    const known = this.#verified.get(key);
    if (known !== undefined) return known;
    if (++this.#checks > MAX_SIGNATURE_CHECKS) {
      this.lastProblem = 'too many candidate issuers';
      return false;
    }
    const problem = cert.signatureProblem(issuer);
    if (problem) this.lastProblem = `"${cert.info.subject}" is not signed by "${issuer.info.subject}": ${problem}`;
    this.#verified.set(key, problem === undefined);
    return problem === undefined;
  }
}

// RFC 5280 §6.1.4 (k), (l), (n): an intermediate CA certificate, when v3, must
// say cA=true, allow keyCertSign if it has a keyUsage, and respect pathLenConstraint.
function intermediateProblem(ca: X509, below: readonly X509[]): string | undefined {
  if (ca.version < 3) return undefined;
  if (ca.basicConstraints?.cA !== true) return `"${ca.info.subject}" is not a CA certificate (basicConstraints cA is not true)`;
  if (ca.keyUsage && !ca.keyUsage.has('keyCertSign')) return `"${ca.info.subject}" may not sign certificates (keyUsage lacks keyCertSign)`;
  const pathLen = ca.basicConstraints.pathLen;
  const intermediatesBelow = below.slice(1).filter((c) => !c.isSelfIssued).length;
  if (pathLen !== undefined && intermediatesBelow > pathLen) return `"${ca.info.subject}" allows ${pathLen} intermediate CA certificates below it`;
  return undefined;
}

/** Every certificate of the path, the anchor included, valid at `at` (RFC 5280 §6.1.3 (a)(2)). */
export function checkValidity(path: readonly X509[], at: Date): void {
  for (const cert of path) {
    const span = `valid ${cert.info.notBefore} to ${cert.info.notAfter}, validation time ${at.toISOString()}`;
    if (at.getTime() > cert.notAfter.getTime()) throw new XipError('CERT_EXPIRED', `"${cert.info.subject}" had expired (${span})`);
    if (at.getTime() < cert.notBefore.getTime()) throw new XipError('CERT_NOT_YET_VALID', `"${cert.info.subject}" was not yet valid (${span})`);
  }
}

// RFC 5280 §5.3.1: removeFromCRL only appears in delta CRLs and means "no longer revoked".
const REMOVE_FROM_CRL = 8;

/**
 * No certificate of the path is revoked, at or before `at`, by a supplied CRL
 * issued by that certificate's issuer and signed with the issuer's key. The
 * anchor's issuer is looked up in `pool` (it may be absent: then no CRL can be checked).
 */
export function checkRevocation(path: readonly X509[], crls: readonly Crl[], pool: readonly X509[], at: Date): void {
  if (crls.length === 0) return;
  path.forEach((cert, i) => {
    const next = path[i + 1];
    const issuers = next ? [next] : pool.filter((c) => cert.nameChainsTo(c) && cert.signatureProblem(c) === undefined);
    for (const crl of crls) {
      if (!namesEqual(crl.issuerDer, cert.issuerDer)) continue;
      const entry = crl.entries.find((e) => e.serialHex === cert.serialHex && e.reason !== REMOVE_FROM_CRL);
      if (!entry || entry.revocationDate.getTime() > at.getTime()) continue;
      if (!issuers.some((issuer) => crl.signatureProblem(issuer) === undefined)) continue;
      throw new XipError(
        'CERT_REVOKED',
        `"${cert.info.subject}" (serial ${cert.serialHex}) was revoked on ${entry.revocationDate.toISOString()} by the CRL of "${crl.issuer}"`,
      );
    }
  });
}
