// Outlook's service limits, kept on our side so that they are used to the
// full and never crossed (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits):
// per app and mailbox, 4 concurrent requests, 10,000 requests in any 10
// minutes, 150 MB (decimal, as the page writes it) uploaded in any 5 minutes. A 429 or 503 answer's
// Retry-After (https://learn.microsoft.com/en-us/graph/throttling) closes the
// mailbox's gate until then; other mailboxes go on.
//
// Within the window, requests are paced: a token bucket refilled at the
// window's average rate, holding a twentieth of the budget (at least the
// concurrency), so that a mailbox does not spend its whole 10 minutes in the
// first seconds and many mailboxes do not all burst at the same instant —
// the steady rate is the same, the service sees no spikes.
//
// The windows are sliding and a little longer than the service's (`slackMs`):
// a request is counted when it leaves, and the service counts it when it
// arrives, a little later; whatever the service's windows (fixed or sliding),
// no run of its window's length can then hold more than the limit.
export interface OutlookLimits {
  readonly concurrent: number;
  readonly requests: number;
  readonly windowMs: number;
  readonly uploadBytes: number;
  readonly uploadWindowMs: number;
  /** Added to both windows (default 1 % of the request window, at least 50 ms). */
  readonly slackMs?: number;
}

export const OUTLOOK_LIMITS: OutlookLimits = Object.freeze({
  concurrent: 4,
  requests: 10_000,
  windowMs: 10 * 60_000,
  uploadBytes: 150_000_000,
  uploadWindowMs: 5 * 60_000,
});

interface Waiter {
  readonly bytes: number;
  readonly resolve: (ticket: Ticket) => void;
}

/** One request in a window: when it counts from (restamped when it is really written), and its amount. */
interface Entry {
  t: number;
  readonly amount: number;
}

/**
 * A queue of entries within a sliding window, summed. An entry leaves when
 * it and every entry before it are older than the window, so a restamped
 * entry holds those after it a little longer: never fewer counted than sent.
 */
class SlidingWindow {
  #entries: Entry[] = [];
  #head = 0;
  #sum = 0;

  constructor(readonly windowMs: number) {}

  /** Drops what left the window; returns the sum within it. */
  sum(now: number): number {
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.t <= now - this.windowMs) {
      this.#sum -= this.#entries[this.#head]!.amount;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return this.#sum;
  }

  add(now: number, amount: number): Entry {
    const entry = { t: now, amount };
    this.#entries.push(entry);
    this.#sum += amount;
    return entry;
  }

  /** When the sum will have fallen to at most `target` (now, if it already has). */
  freeAt(now: number, target: number): number {
    let sum = this.sum(now);
    let latest = 0;
    for (let i = this.#head; i < this.#entries.length && sum > target; i++) {
      const e = this.#entries[i]!;
      latest = Math.max(latest, e.t);
      sum -= e.amount;
      if (sum <= target) return latest + this.windowMs;
    }
    return now;
  }
}

/** A request let through the gate: `sent` when its last byte was written, `done` when its answer came. */
export interface Ticket {
  sent(): void;
  done(): void;
}

/** One mailbox's gate: `acquire` waits until a request of `bytes` may leave, `release` when its answer came. */
export class MailboxGate {
  readonly #limits: OutlookLimits;
  readonly #requests: SlidingWindow;
  readonly #uploads: SlidingWindow;
  readonly #now: () => number;
  #inFlight = 0;
  #pausedUntil = 0;
  /** The pacing bucket: tokens held at `#filledAt`, refilled at `#rate` per ms up to `#capacity`. */
  readonly #rate: number;
  readonly #capacity: number;
  #tokens: number;
  #filledAt: number;
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: OutlookLimits, now: () => number = Date.now) {
    this.#limits = limits;
    const slack = limits.slackMs ?? Math.max(50, Math.round(limits.windowMs / 100));
    this.#requests = new SlidingWindow(limits.windowMs + slack);
    this.#uploads = new SlidingWindow(limits.uploadWindowMs + slack);
    this.#now = now;
    this.#rate = limits.requests / limits.windowMs;
    this.#capacity = Math.max(limits.concurrent, Math.ceil(limits.requests / 20));
    this.#tokens = this.#capacity;
    this.#filledAt = now();
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Waits until a request of `bytes` may leave. It counts against the
   * windows from now, and from when it was written once `sent` says so (a
   * new connection's handshake can hold it back: the service counts it on
   * arrival).
   */
  acquire(bytes = 0): Promise<Ticket> {
    // A request larger than the whole upload budget could never go: it is let through alone once the window is empty.
    const need = Math.min(bytes, this.#limits.uploadBytes);
    return new Promise((resolve) => {
      this.#waiters.push({ bytes: need, resolve });
      this.#pump();
    });
  }

  #release(): void {
    this.#inFlight--;
    this.#pump();
  }

  /** The service said to wait (Retry-After): nothing leaves before then. */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
    this.#pump();
  }

  #pump(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    for (;;) {
      const next = this.#waiters[0];
      if (!next) return;
      const now = this.#now();
      const at = this.#readyAt(now, next.bytes);
      if (at === undefined) return; // waits for a release
      if (at > now) {
        this.#timer = setTimeout(() => this.#pump(), at - now);
        return;
      }
      this.#waiters.shift();
      this.#inFlight++;
      this.#tokens -= 1;
      const stamps = [this.#requests.add(now, 1), ...(next.bytes > 0 ? [this.#uploads.add(now, next.bytes)] : [])];
      let released = false;
      next.resolve({
        sent: () => {
          const at = this.#now();
          for (const e of stamps) e.t = Math.max(e.t, at);
        },
        done: () => {
          if (released) return;
          released = true;
          this.#release();
        },
      });
    }
  }

  /** When the next request may leave: undefined while all concurrent slots are taken. */
  #readyAt(now: number, bytes: number): number | undefined {
    if (this.#inFlight >= this.#limits.concurrent) return undefined;
    let at = Math.max(now, this.#pausedUntil);
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#filledAt) * this.#rate);
    this.#filledAt = now;
    if (this.#tokens < 1) at = Math.max(at, now + Math.ceil((1 - this.#tokens) / this.#rate));
    if (this.#requests.sum(now) >= this.#limits.requests) at = Math.max(at, this.#requests.freeAt(now, this.#limits.requests - 1));
    if (bytes > 0 && this.#uploads.sum(now) + bytes > this.#limits.uploadBytes) at = Math.max(at, this.#uploads.freeAt(now, this.#limits.uploadBytes - bytes));
    return at;
  }
}

/** The gates of every mailbox met, by address compared case-insensitively. */
export class Gates {
  readonly #gates = new Map<string, MailboxGate>();

  constructor(
    readonly limits: OutlookLimits,
    private readonly now: () => number = Date.now,
  ) {}

  for(mailbox: string): MailboxGate {
    const key = mailbox.toLowerCase();
    let gate = this.#gates.get(key);
    if (!gate) {
      gate = new MailboxGate(this.limits, this.now);
      this.#gates.set(key, gate);
    }
    return gate;
  }

  /** Runs `fn` as one request of `bytes` through the mailbox's gate; `fn` calls `sent` when the request's last byte is written. */
  async run<T>(mailbox: string, bytes: number, fn: (sent: () => void) => Promise<T>): Promise<T> {
    const ticket = await this.for(mailbox).acquire(bytes);
    try {
      return await fn(ticket.sent);
    } finally {
      ticket.done();
    }
  }
}
