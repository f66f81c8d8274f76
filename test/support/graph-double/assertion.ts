// The client assertion a contract double of the Microsoft identity platform
// accepts in place of a client secret, checked as
// https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials
// describes it ("Assertion format"):
//
//   header: alg RS256 (with x5t, the base64url SHA-1 thumbprint of the
//           certificate's DER) or PS256 (with x5t#S256, the SHA-256 one);
//           typ JWT; x5c may carry the chain (not needed here)
//   claims: aud = the token endpoint ("https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token"),
//           iss = sub = the client id, exp, nbf, jti (a GUID), iat
//   signature: by the registered certificate's key (PS256: RSA-PSS, salt
//           the hash's length, RFC 7518 §3.5)
//
// The signature is verified with node:crypto against the registered
// certificate's public key. Decisions where the docs are silent: a clock skew
// of five minutes is allowed on exp and nbf; jti is required but a jti seen
// before is accepted (MSAL sends the same assertion again for ten minutes);
// aud may name the tenant by name or by id, on the double's host as
// 127.0.0.1 or localhost.
import { createHash, verify, constants, type X509Certificate } from 'node:crypto';

export interface AssertionFailure {
  readonly code: number;
  readonly description: string;
}

export interface AssertionContext {
  readonly certificate: X509Certificate;
  readonly clientId: string;
  /** Every token endpoint URL the assertion's aud may name. */
  readonly audiences: ReadonlySet<string>;
  readonly now: number;
}

const SKEW_SECONDS = 300;

function part(text: string | undefined): Record<string, unknown> | undefined {
  if (!text || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function thumbprints(certificate: X509Certificate): { sha1: string; sha256: string } {
  return {
    sha1: createHash('sha1').update(certificate.raw).digest('base64url'),
    sha256: createHash('sha256').update(certificate.raw).digest('base64url'),
  };
}

function signatureHolds(alg: string, signed: string, signature: string, certificate: X509Certificate): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(signature)) return false;
  const key = certificate.publicKey;
  const data = Buffer.from(signed, 'ascii');
  const sig = Buffer.from(signature, 'base64url');
  try {
    if (alg === 'RS256') return verify('sha256', data, key, sig);
    return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig);
  } catch {
    return false;
  }
}

/** undefined when the assertion holds; else the AADSTS code and text to answer with. */
export function checkAssertion(jwt: string, c: AssertionContext): AssertionFailure | undefined {
  const [h, p, s, ...rest] = jwt.split('.');
  const header = part(h);
  const claims = part(p);
  if (!header || !claims || s === undefined || rest.length > 0) return { code: 50027, description: 'JWT token is invalid or malformed.' };
  const alg = header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') return { code: 700027, description: `Client assertion uses the unsupported algorithm '${String(alg)}'; RS256 or PS256 expected.` };
  const prints = thumbprints(c.certificate);
  const x5t = header.x5t;
  const x5t256 = header['x5t#S256'];
  if (x5t === undefined && x5t256 === undefined) return { code: 700027, description: 'Client assertion carries neither x5t nor x5t#S256; the signing certificate cannot be identified.' };
  if ((x5t !== undefined && x5t !== prints.sha1) || (x5t256 !== undefined && x5t256 !== prints.sha256)) {
    return { code: 700027, description: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${String(x5t256 ?? x5t)}']` };
  }
  if (!signatureHolds(alg, `${h}.${p}`, s, c.certificate)) return { code: 700027, description: 'Client assertion failed signature validation.' };
  if (claims.iss !== c.clientId || claims.sub !== c.clientId) return { code: 700021, description: "Client assertion application identifier doesn't match 'client_id' parameter." };
  if (typeof claims.aud !== 'string' || !c.audiences.has(claims.aud)) return { code: 700027, description: `Client assertion audience claim '${String(claims.aud)}' does not match the token endpoint.` };
  if (typeof claims.jti !== 'string' || claims.jti.length === 0) return { code: 700027, description: 'Client assertion contains no jti claim.' };
  const now = c.now / 1000;
  if (typeof claims.exp !== 'number' || claims.exp + SKEW_SECONDS <= now) return { code: 700024, description: `Client assertion is not within its valid time range. Current time: ${new Date(c.now).toISOString()}, assertion valid to: ${typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : 'none'}.` };
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf - SKEW_SECONDS > now)) return { code: 700024, description: `Client assertion is not within its valid time range. Current time: ${new Date(c.now).toISOString()}, assertion valid from: ${new Date(Number(claims.nbf) * 1000).toISOString()}.` };
  return undefined;
}
