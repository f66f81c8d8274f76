// Outlook's service limits, kept on our side so that they are used to the
// full and never crossed (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits):
// per app and mailbox, 4 concurrent requests, 10,000 requests in any 10
// minutes, 150 MB (decimal, as the page writes it) uploaded in any 5 minutes. A 429 or 503 answer's
// Retry-After (https://learn.microsoft.com/en-us/graph/throttling) closes the
// mailbox's gate until then; other mailboxes go on.
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
  readonly resolve: () => void;
}

/** A queue of (time, amount) within a sliding window, summed. */
class SlidingWindow {
  #times: number[] = [];
  #amounts: number[] = [];
  #head = 0;
  #sum = 0;

  constructor(readonly windowMs: number) {}

  /** Drops what left the window; returns the sum within it. */
  sum(now: number): number {
    while (this.#head < this.#times.length && this.#times[this.#head]! <= now - this.windowMs) {
      this.#sum -= this.#amounts[this.#head]!;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#amounts = this.#amounts.slice(this.#head);
      this.#head = 0;
    }
    return this.#sum;
  }

  add(now: number, amount: number): void {
    this.#times.push(now);
    this.#amounts.push(amount);
    this.#sum += amount;
  }

  /** When the sum will have fallen to at most `target` (now, if it already has). */
  freeAt(now: number, target: number): number {
    let sum = this.sum(now);
    for (let i = this.#head; i < this.#times.length && sum > target; i++) {
      sum -= this.#amounts[i]!;
      if (sum <= target) return this.#times[i]! + this.windowMs;
    }
    return now;
  }
}

/** One mailbox's gate: `acquire` waits until a request of `bytes` may leave, `release` when its answer came. */
export class MailboxGate {
  readonly #limits: OutlookLimits;
  readonly #requests: SlidingWindow;
  readonly #uploads: SlidingWindow;
  readonly #now: () => number;
  #inFlight = 0;
  #pausedUntil = 0;
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: OutlookLimits, now: () => number = Date.now) {
    this.#limits = limits;
    const slack = limits.slackMs ?? Math.max(50, Math.round(limits.windowMs / 100));
    this.#requests = new SlidingWindow(limits.windowMs + slack);
    this.#uploads = new SlidingWindow(limits.uploadWindowMs + slack);
    this.#now = now;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  acquire(bytes = 0): Promise<void> {
    // A request larger than the whole upload budget could never go: it is let through alone once the window is empty.
    const need = Math.min(bytes, this.#limits.uploadBytes);
    return new Promise((resolve) => {
      this.#waiters.push({ bytes: need, resolve });
      this.#pump();
    });
  }

  release(): void {
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
      this.#requests.add(now, 1);
      if (next.bytes > 0) this.#uploads.add(now, next.bytes);
      next.resolve();
    }
  }

  /** When the next request may leave: undefined while all concurrent slots are taken. */
  #readyAt(now: number, bytes: number): number | undefined {
    if (this.#inFlight >= this.#limits.concurrent) return undefined;
    let at = Math.max(now, this.#pausedUntil);
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

  /** Runs `fn` as one request of `bytes` through the mailbox's gate. */
  async run<T>(mailbox: string, bytes: number, fn: () => Promise<T>): Promise<T> {
    const gate = this.for(mailbox);
    await gate.acquire(bytes);
    try {
      return await fn();
    } finally {
      gate.release();
    }
  }
}
