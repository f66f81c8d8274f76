// The import run's settings, checked once and frozen (style.md: options
// checked at start-up). A setting that would hang or make no sense (a
// concurrency of 0, a batch of 0, a lease shorter than its renewal) is a
// usage error before anything is touched.
import { XipError } from '../errors.js';
import { DEFAULT_MAX_FAILURES } from './run-log.js';
import { DEFAULT_SEEN_IDS_BITS } from './seen-ids.js';

export interface RunSettingsInput {
  /** Copies sent to one mailbox in one batch (default 200). */
  readonly batchSize?: number | undefined;
  /** Copies held between reading and recording, across mailboxes (default 2,000). */
  readonly windowCopies?: number | undefined;
  /** Message octets held the same way (default 64 MiB; one larger message still goes alone). */
  readonly windowBytes?: number | undefined;
  /** Batches in flight at once, each for another mailbox (default 4). */
  readonly concurrency?: number | undefined;
  /** How long a run's claims stay live without a renewal (default 60 s). */
  readonly leaseMs?: number | undefined;
  /** How often the lease is renewed (default a quarter of leaseMs). */
  readonly renewEveryMs?: number | undefined;
  /** Failure lines kept in the run's log in memory (default 1,000; the ledger keeps all). */
  readonly maxFailuresInLog?: number | undefined;
  /** The size of the filter of Message-IDs read from a container, as a power of two bits (default 25: 4 MiB; seen-ids.ts). */
  readonly seenIdsBits?: number | undefined;
}

export type RunSettings = Readonly<Required<RunSettingsInput>>;

export const DEFAULT_LEASE_MS = 60_000;

function whole(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new XipError('USAGE', `${name} must be a whole number of at least ${min}, got ${String(value)}`);
  return v;
}

export function runSettings(input: RunSettingsInput = {}): RunSettings {
  const leaseMs = whole('leaseMs', input.leaseMs, DEFAULT_LEASE_MS, 100);
  const renewEveryMs = whole('renewEveryMs', input.renewEveryMs, Math.floor(leaseMs / 4), 10);
  if (renewEveryMs * 2 > leaseMs) throw new XipError('USAGE', `the lease (${leaseMs} ms) must last at least two renewals (every ${renewEveryMs} ms)`);
  const batchSize = whole('batchSize', input.batchSize, 200, 1);
  return Object.freeze({
    batchSize,
    windowCopies: whole('windowCopies', input.windowCopies, Math.max(2000, batchSize), 1),
    windowBytes: whole('windowBytes', input.windowBytes, 64 * 1024 * 1024, 1),
    concurrency: whole('concurrency', input.concurrency, 4, 1),
    leaseMs,
    renewEveryMs,
    maxFailuresInLog: whole('maxFailuresInLog', input.maxFailuresInLog, DEFAULT_MAX_FAILURES, 0),
    seenIdsBits: Math.min(30, whole('seenIdsBits', input.seenIdsBits, DEFAULT_SEEN_IDS_BITS, 5)),
  });
}
