// Sign-ins started and not yet finished: what /auth/oidc/start must keep for
// its callback (the state, the nonce and the PKCE verifier), kept in the
// database (ports/account-store.ts, migration 0010_sso_pending) under the
// SHA-256 of a random handle that the browser holds in a short-lived cookie,
// so that the callback may reach any worker of several sharing the database
// (issue 12). Each is taken once, by one conditional DELETE: a callback
// replayed (the same URL, the same cookie), on this worker or another, finds
// nothing and is refused before the identity provider is asked, and a
// callback in a browser that did not start the sign-in (login CSRF: someone
// else's code) finds nothing either.
//
// Nothing in the table finishes a sign-in. The handle is only in the
// browser's cookie; the row is keyed by its SHA-256, and the state, nonce and
// verifier are sealed with AES-256-GCM under a key derived from the handle
// (HKDF-SHA-256), never the key the row is found by. Someone who reads the
// database therefore cannot present the cookie, and cannot redeem an
// authorization code intercepted on its way back (RFC 7636 §1: the verifier
// is what makes such a code useless) with a verifier read from the table.
// The installation's secret key is not used: the handle already holds 256
// bits that nobody but the browser has.
//
// A sign-in lasts ten minutes at most. Expired rows are pruned when one
// starts, and a flood of starts cannot grow the table past `max` (the oldest
// go first); the start route is rate-limited per address too.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { AccountStore } from '../../ports/account-store.js';
import { sha256Hex } from '../secrets.js';

export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export const PENDING_TTL_MS = 10 * 60_000;
export const PENDING_MAX = 10_000;

/** The store's part that keeps pending sign-ins. */
export type PendingStore = Pick<AccountStore, 'putPendingSignIn' | 'takePendingSignIn'>;

/** Names the sealing format, so that a later one can be told apart. */
const SEAL_VERSION = 'v1';
const KEY_INFO = 'xip-connector sso_pending v1';
const IV_BYTES = 12;

export class PendingSignIns {
  readonly #store: PendingStore;
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(store: PendingStore, ttlMs = PENDING_TTL_MS, max = PENDING_MAX) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  async put(handle: string, pending: PendingSignIn, now: Date): Promise<void> {
    const handleHash = sha256Hex(handle);
    await this.#store.putPendingSignIn({ handleHash, sealed: seal(handle, handleHash, pending), createdAt: now, expiresAt: new Date(now.getTime() + this.#ttlMs) }, this.#max);
  }

  /** The sign-in this handle started, removed; undefined when there is none (never, taken already, or expired). */
  async take(handle: string, now: Date): Promise<PendingSignIn | undefined> {
    const handleHash = sha256Hex(handle);
    const sealed = await this.#store.takePendingSignIn(handleHash, now);
    return sealed === undefined ? undefined : unseal(handle, handleHash, sealed);
  }
}

function keyOf(handle: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(handle, 'utf8'), Buffer.alloc(0), KEY_INFO, 32));
}

/** "v1.<iv>.<ciphertext>.<tag>", base64url; the row's key is the additional data, so a sealed value moved to another row does not open. */
export function seal(handle: string, handleHash: string, pending: PendingSignIn): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(handle), iv);
  cipher.setAAD(Buffer.from(handleHash, 'utf8'));
  const text = Buffer.concat([cipher.update(JSON.stringify({ state: pending.state, nonce: pending.nonce, codeVerifier: pending.codeVerifier }), 'utf8'), cipher.final()]);
  return [SEAL_VERSION, iv, text, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/**
 * The sign-in in a sealed value; undefined when it does not open under this
 * handle (altered in the database, or of another format): the callback then
 * refuses it as it refuses an unknown one.
 */
export function unseal(handle: string, handleHash: string, sealed: string): PendingSignIn | undefined {
  const [version, iv, text, tag, ...rest] = sealed.split('.');
  if (version !== SEAL_VERSION || iv === undefined || text === undefined || tag === undefined || rest.length > 0) return undefined;
  let json: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(handle), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(handleHash, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    json = Buffer.concat([decipher.update(Buffer.from(text, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // GCM's tag did not match (or a part is malformed): not a sign-in this handle started.
    return undefined;
  }
  const value = JSON.parse(json) as Partial<Record<keyof PendingSignIn, unknown>>;
  if (typeof value.state !== 'string' || typeof value.nonce !== 'string' || typeof value.codeVerifier !== 'string') return undefined;
  return { state: value.state, nonce: value.nonce, codeVerifier: value.codeVerifier };
}
