// Sign-ins started and not yet finished: what /auth/oidc/start must keep for
// its callback (the state, the nonce and the PKCE verifier), kept in this
// process's memory under the SHA-256 of a random handle that the browser
// holds in a short-lived cookie. Each is taken once: a callback replayed
// (the same URL, the same cookie) finds nothing and is refused before the
// identity provider is asked, and a callback in a browser that did not
// start the sign-in (login CSRF: someone else's code) finds nothing either.
//
// In memory rather than in the database: a sign-in lasts a minute, a restart
// only means starting it again, and nothing of it outlives the process. A
// flood of starts cannot grow it past `max` (the oldest go first), and the
// start route is rate-limited per address.
import { sha256Hex } from '../secrets.js';

export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export const PENDING_TTL_MS = 10 * 60_000;
export const PENDING_MAX = 10_000;

export class PendingSignIns {
  readonly #entries = new Map<string, { pending: PendingSignIn; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(ttlMs = PENDING_TTL_MS, max = PENDING_MAX) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  put(handle: string, pending: PendingSignIn, now: Date): void {
    // A Map iterates in insertion order, and every entry lives as long: the expired ones are at the front.
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now.getTime() && this.#entries.size < this.#max) break;
      this.#entries.delete(key);
    }
    this.#entries.set(sha256Hex(handle), { pending, expiresAt: now.getTime() + this.#ttlMs });
  }

  /** The sign-in this handle started, removed; undefined when there is none (never, taken already, or expired). */
  take(handle: string, now: Date): PendingSignIn | undefined {
    const key = sha256Hex(handle);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    return entry.expiresAt > now.getTime() ? entry.pending : undefined;
  }
}
