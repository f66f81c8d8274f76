// The Outlook service's limits, per app and mailbox, as a contract double of
// Microsoft Graph enforces them.
//
// https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits
// ("Limits per app ID and mailbox combination"): 10,000 API requests in a 10
// minute period, 4 concurrent requests, 150 megabytes upload (PATCH, POST,
// PUT) in a 5 minute period; "If an application exceeds the limit in one
// mailbox, it does not affect the ability to access another mailbox".
// https://learn.microsoft.com/en-us/graph/throttling: over a limit the answer
// is 429 Too Many Requests with a Retry-After header (seconds) that a client
// must wait before it tries again.
//
// The bodies: ApplicationThrottled with "Application is over its
// MailboxConcurrency limit." and "… IncomingBytes limit." are what the service
// is publicly seen answering (the docs give no body); the request-count one
// is worded after them.
//
// Decisions where the docs are silent:
// - Windows are SLIDING (a log of the admitted requests and uploads): "10,000
//   requests in a 10 minute period" is then true of every 10-minute period,
//   so a client that stays within the double stays within any fixed-window
//   reading of the limit too, and a burst across a window boundary is caught.
// - Only admitted requests use the budgets; a 429 does not (the docs say
//   requests "accrue against your usage limits" while throttled, but then no
//   Retry-After could be exact). Every 429 is counted in stats, and every
//   request that arrived over a limit in `overLimit`, so a client that ignores
//   Retry-After shows.
// - Retry-After: for the budgets, the whole seconds until enough of the log
//   has aged out (at least 1); for concurrency, 1 (a slot frees when a request
//   in flight ends, which the service cannot foresee).
// - Upload bytes are the request body as sent (its Content-Length).

export interface OutlookLimits {
  readonly concurrent: number;
  readonly requests: number;
  readonly windowMs: number;
  readonly uploadBytes: number;
  readonly uploadWindowMs: number;
}

export const DEFAULT_LIMITS: OutlookLimits = {
  concurrent: 4,
  requests: 10_000,
  windowMs: 10 * 60_000,
  uploadBytes: 150 * 1024 * 1024,
  uploadWindowMs: 5 * 60_000,
};

export interface MailboxStats {
  /** Requests that reached the mailbox (throttled ones included). */
  requests: number;
  /** 429 answers sent (limits and injected faults). */
  throttled: number;
  /** The most requests to the mailbox in flight at once, throttled ones included. */
  maxInFlight: number;
  /** Request body octets admitted. */
  uploadBytes: number;
  /** Requests that arrived over a limit. */
  overLimit: number;
}

export type Admission =
  | { readonly ok: true; readonly done: () => void }
  | { readonly ok: false; readonly done: () => void; readonly retryAfterSeconds: number; readonly message: string };

interface Bucket {
  readonly stats: MailboxStats;
  /** Arrived, not yet answered (admitted or not). */
  present: number;
  /** Admitted, not yet answered. */
  inFlight: number;
  /** Admission times, a ring of `requests` entries. */
  readonly times: Float64Array;
  head: number;
  count: number;
  readonly uploads: { at: number; bytes: number }[];
  uploadFirst: number;
  uploadSum: number;
}

const wholeSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

export class OutlookThrottle {
  readonly #limits: OutlookLimits;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: OutlookLimits) {
    this.#limits = limits;
  }

  #bucket(key: string): Bucket {
    let b = this.#buckets.get(key);
    if (!b) {
      const ring = Number.isFinite(this.#limits.requests) ? Math.max(1, Math.floor(this.#limits.requests)) : 0;
      b = {
        stats: { requests: 0, throttled: 0, maxInFlight: 0, uploadBytes: 0, overLimit: 0 },
        present: 0,
        inFlight: 0,
        times: new Float64Array(ring),
        head: 0,
        count: 0,
        uploads: [],
        uploadFirst: 0,
        uploadSum: 0,
      };
      this.#buckets.set(key, b);
    }
    return b;
  }

  /** A request to mailbox `key` arrives with `bytes` of body; `done` when its answer has gone (or its connection has). */
  arrive(key: string, bytes: number, now = Date.now()): Admission {
    const b = this.#bucket(key);
    b.stats.requests++;
    b.present++;
    if (b.present > b.stats.maxInFlight) b.stats.maxInFlight = b.present;
    const refusal = this.#refusal(b, bytes, now);
    if (refusal) {
      b.stats.overLimit++;
      let once = false;
      return {
        ok: false,
        ...refusal,
        done: () => {
          if (once) return;
          once = true;
          b.present--;
        },
      };
    }
    b.inFlight++;
    if (b.times.length > 0) {
      b.times[(b.head + b.count) % b.times.length] = now;
      if (b.count < b.times.length) b.count++;
      else b.head = (b.head + 1) % b.times.length;
    }
    this.addUpload(key, bytes, now);
    let once = false;
    return {
      ok: true,
      done: () => {
        if (once) return;
        once = true;
        b.present--;
        b.inFlight--;
      },
    };
  }

  /** Body octets of an admitted request whose length was not declared up front. */
  addUpload(key: string, bytes: number, now = Date.now()): void {
    if (bytes <= 0) return;
    const b = this.#bucket(key);
    b.uploads.push({ at: now, bytes });
    b.uploadSum += bytes;
    b.stats.uploadBytes += bytes;
  }

  /** A 429 went to mailbox `key` (from a limit or an injected fault). */
  noteThrottled(key: string): void {
    this.#bucket(key).stats.throttled++;
  }

  #refusal(b: Bucket, bytes: number, now: number): { retryAfterSeconds: number; message: string } | undefined {
    const l = this.#limits;
    if (b.inFlight >= l.concurrent) return { retryAfterSeconds: 1, message: 'Application is over its MailboxConcurrency limit.' };
    if (b.times.length > 0 && b.count === b.times.length) {
      const oldest = b.times[b.head]!;
      if (oldest > now - l.windowMs) return { retryAfterSeconds: wholeSeconds(oldest + l.windowMs - now), message: 'Application is over its MailboxRequests limit.' };
    }
    this.#ageUploads(b, now);
    if (bytes > 0 && b.uploadSum + bytes > l.uploadBytes) {
      let freed = b.uploadSum;
      let at = now + l.uploadWindowMs;
      for (let i = b.uploadFirst; i < b.uploads.length; i++) {
        freed -= b.uploads[i]!.bytes;
        if (freed + bytes <= l.uploadBytes) {
          at = b.uploads[i]!.at + l.uploadWindowMs;
          break;
        }
      }
      return { retryAfterSeconds: wholeSeconds(at - now), message: 'Application is over its IncomingBytes limit.' };
    }
    return undefined;
  }

  #ageUploads(b: Bucket, now: number): void {
    const edge = now - this.#limits.uploadWindowMs;
    while (b.uploadFirst < b.uploads.length && b.uploads[b.uploadFirst]!.at <= edge) b.uploadSum -= b.uploads[b.uploadFirst++]!.bytes;
    if (b.uploadFirst > 1024 && b.uploadFirst * 2 > b.uploads.length) {
      b.uploads.splice(0, b.uploadFirst);
      b.uploadFirst = 0;
    }
  }

  stats(): Map<string, MailboxStats> {
    const out = new Map<string, MailboxStats>();
    for (const [k, b] of this.#buckets) out.set(k, { ...b.stats });
    return out;
  }
}
