// The run's lease in the ledger (ports/ledger.ts): renewed while the run
// works, so that its claims stay live; checked before every batch is sent,
// so that a run whose lease lapsed (paused past it, or unable to write the
// ledger) sends nothing more — another run may have taken its claims over.
//
// A run whose process is gone on this host need not wait for its lease to
// lapse: reapDeadRuns expires it, so that a run started after a crash takes
// its claims over at once. A run on another host is left to its lease.
import { XipError } from '../errors.js';
import type { Ledger } from '../ports/ledger.js';

/** Who runs: the ledger records it, so that other runs on this host can tell a dead run from a live one. */
export interface Runner {
  readonly host: string;
  readonly pid: number;
  /** Whether a process of this host is alive (default: signal 0). */
  readonly isAlive: (pid: number) => boolean;
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

export class LeaseKeeper {
  readonly #ledger: Ledger;
  readonly #runId: number;
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #timer: ReturnType<typeof setInterval>;
  #renewedAt: number;
  #lost = false;
  #renewing: Promise<void> | undefined;

  /** Starts renewing a lease that startRun opened at `startedAt`. */
  constructor(ledger: Ledger, runId: number, options: { leaseMs: number; renewEveryMs: number; startedAt: number; now?: () => number }) {
    this.#ledger = ledger;
    this.#runId = runId;
    this.#leaseMs = options.leaseMs;
    this.#now = options.now ?? Date.now;
    this.#renewedAt = options.startedAt;
    this.#timer = setInterval(() => void this.renew(), options.renewEveryMs);
    this.#timer.unref();
  }

  /** Renews now (the timer calls it); a refusal or a lapse marks the lease lost. */
  renew(): Promise<void> {
    this.#renewing ??= this.#renewOnce().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  async #renewOnce(): Promise<void> {
    if (this.#lost) return;
    const asked = this.#now();
    try {
      if (await this.#ledger.renewLease(this.#runId, this.#leaseMs)) this.#renewedAt = asked;
      else this.#lost = true;
    } catch {
      // Handled by design: a ledger that cannot be written now may be
      // writable at the next renewal; held() says lost once the lease ran out.
    }
  }

  /**
   * Throws LEASE_LOST when the claims may no longer be this run's — or soon
   * may not be: once half the lease has passed without a renewal (two
   * renewals missed), the run starts nothing more, so that what it has in
   * flight ends well before the lease lapses and another run takes its
   * copies over (after the target's settle time).
   */
  assertHeld(): void {
    const since = this.#now() - this.#renewedAt;
    if (this.#lost || since >= this.#leaseMs / 2) {
      this.#lost = true;
      throw new XipError('LEASE_LOST', `run ${this.#runId}: the lease of ${this.#leaseMs} ms was last renewed ${since} ms ago; a run stops starting work once half of it has passed`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#renewing;
  }
}

/**
 * Expires the live runs of this host whose process is gone (killed, crashed),
 * among `only` when given; returns their ids. A pid reused by another process
 * keeps a dead run alive until its lease lapses: safe, only slower.
 */
export async function reapDeadRuns(ledger: Ledger, runner: Runner, only?: ReadonlySet<number>): Promise<number[]> {
  const reaped: number[] = [];
  for (const run of await ledger.liveRuns()) {
    if (only && !only.has(run.id)) continue;
    if (run.host !== runner.host || run.pid === runner.pid || runner.isAlive(run.pid)) continue;
    await ledger.expireRun(run.id);
    reaped.push(run.id);
  }
  return reaped;
}
