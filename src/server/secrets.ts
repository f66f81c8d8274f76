// The random values the server hands out and the digests it keeps of them:
// a session id or a setup token is 32 random bytes (base64url) given once to
// the client; the store keeps only its SHA-256 (ports/account-store.ts), so a
// copy of the database does not let anyone sign in.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_BYTES = 32;
/** The form of a token this server made: 32 bytes in base64url, no padding. */
const TOKEN_FORM = /^[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function isTokenForm(value: string): boolean {
  return TOKEN_FORM.test(value);
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Compares two secrets in time that does not depend on where they differ (their digests, so lengths may differ too). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
