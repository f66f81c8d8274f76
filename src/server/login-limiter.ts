// Failed sign-ins, counted in memory per account name and, apart, per
// client address (IPv6 by its /64, as @fastify/rate-limit's normalizeIP
// does): after `max` failures within `windowMs` on either key, attempts are
// refused with 429 and Retry-After until the oldest failure leaves the
// window — without checking the password, so a refused guess teaches
// nothing and costs no argon2 work.
//
// Why our own counter rather than @fastify/rate-limit: it counts requests,
// one key per route, before the body is read; this must count *failures*
// (a person who types their password right is not slowed down), on two keys
// at once, one of them from the body. Per process: two `xip serve` on one
// XIP_HOME each allow `max`. A successful sign-in clears its account's
// count, not its address's.
//
// Memory is bounded: at most `maxKeys` keys (default 10,000); past that,
// keys whose failures have all left the window go first, then the oldest.
import { normalizeIP } from '@fastify/rate-limit';

export interface LimiterSettings {
  readonly max: number;
  readonly windowMs: number;
  readonly maxKeys?: number;
}

export type LimitVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number; readonly key: string; readonly firstRefusal: boolean };

interface Failures {
  /** Times of the failures still in the window, oldest first (at most `max`). */
  times: number[];
  /** Whether a refusal was already reported for the current lock-out (to audit it once). */
  refused: boolean;
}

export class LoginLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, Failures>();

  constructor(settings: LimiterSettings) {
    this.#max = settings.max;
    this.#windowMs = settings.windowMs;
    this.#maxKeys = settings.maxKeys ?? 10_000;
  }

  static accountKey(name: string): string {
    return `account:${name.normalize('NFKC').toLowerCase()}`;
  }

  static addressKey(address: string): string {
    return `address:${normalizeIP(address, 64)}`;
  }

  /** Whether an attempt on these keys may go on now. */
  check(keys: readonly string[], now: Date): LimitVerdict {
    for (const key of keys) {
      const f = this.#live(key, now.getTime());
      if (f && f.times.length >= this.#max) {
        const firstRefusal = !f.refused;
        f.refused = true;
        return { allowed: false, retryAfterMs: f.times[0]! + this.#windowMs - now.getTime(), key, firstRefusal };
      }
    }
    return { allowed: true };
  }

  fail(keys: readonly string[], now: Date): void {
    for (const key of keys) {
      const f = this.#live(key, now.getTime()) ?? this.#add(key, now.getTime());
      f.times.push(now.getTime());
      if (f.times.length > this.#max) f.times.shift();
    }
  }

  clear(key: string): void {
    this.#keys.delete(key);
  }

  /** The key's failures with those out of the window dropped; undefined when none is left. */
  #live(key: string, now: number): Failures | undefined {
    const f = this.#keys.get(key);
    if (!f) return undefined;
    while (f.times.length > 0 && f.times[0]! + this.#windowMs <= now) {
      f.times.shift();
      f.refused = false;
    }
    if (f.times.length === 0) {
      this.#keys.delete(key);
      return undefined;
    }
    return f;
  }

  #add(key: string, now: number): Failures {
    if (this.#keys.size >= this.#maxKeys) {
      for (const k of [...this.#keys.keys()]) this.#live(k, now);
      // Still full: the oldest key goes (a Map iterates in insertion order).
      while (this.#keys.size >= this.#maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    }
    const f: Failures = { times: [], refused: false };
    this.#keys.set(key, f);
    return f;
  }
}
