// What every stage of a run is handed: the ports, the run's identity and
// settings, and where to report (style.md: stages take the previous stage's
// output and the ports, and return their own).
import type { Ledger } from '../ports/ledger.js';
import type { MailboxTarget } from '../ports/mailbox-target.js';
import type { MessageSource } from '../message/index.js';
import type { LeaseKeeper, Runner } from './lease.js';
import type { Recorder } from './record.js';
import type { RunSettings } from './settings.js';
import type { WindowCopy } from './window.js';

/** Test-only crash injection: the process kills itself at a named point (see docs/operations.md). */
export interface CrashPoint {
  readonly at: 'after-item' | 'after-pending' | 'after-deliver' | 'after-fetch';
  /** The count of items read, or of batches claimed, at which to crash. */
  readonly n: number;
}

export interface RunContext {
  readonly runId: number;
  readonly ledger: Ledger;
  readonly target: MailboxTarget;
  readonly folder: string;
  readonly settings: RunSettings;
  readonly runner: Runner;
  readonly lease: LeaseKeeper;
  readonly recorder: Recorder;
  readonly crash: CrashPoint | undefined;
  /** Per mailbox, when this run first met it: null when the ledger has delivered into its folder before, else what the folder held. */
  readonly listings: Map<string, Promise<Map<string, string> | null>>;
  /** For crash injection only. */
  readonly counters: { itemsRead: number; batches: number };
}

/** One copy on its way: one item's message for one mailbox. */
export interface Copy extends WindowCopy {
  /** The item's number in this run (settles its copies in the run log). */
  readonly seq: number;
  readonly message: MessageSource;
  readonly itemId: string;
  readonly sourceUserId: string | null;
}

export function crashIf(ctx: RunContext, at: CrashPoint['at'], n: number): void {
  if (ctx.crash && ctx.crash.at === at && ctx.crash.n === n) process.kill(process.pid, 'SIGKILL');
}
