// The ledger: what the connector has seen and done — runs, containers, items,
// failures and every copy (item × mailbox × folder) with its delivery state.
// The core owns this port (style.md); src/ledger/ implements it over Kysely
// (SQLite today, PostgreSQL for several workers), and test-support has an
// in-memory one. Every implementation passes the same contract suite
// (src/ledger/test-support/contract.ts).
//
// Exactly once, under crashes and concurrent runs, rests on claims:
//
//   claim        Before a run touches a target it claims the copies it will
//                send, in one conditional write per batch: a copy is claimed
//                only where no live run holds it and it is not delivered. The
//                claim is the copy's row in state `pending` with the run's id.
//   lease        A claim is live while its run is unfinished and the run's
//                lease (one row per run, renewed by the run while it works)
//                has not lapsed. A run that crashed stops renewing; once its
//                lease lapses (or the run is expired because its process is
//                known to be gone), its claims can be taken over — after the
//                target's settle time: what the run had sent when it
//                stopped may still be landing in the store.
//   take-over    A copy found `pending` without a live owner may have been
//                stored by its last attempt: the claim says `recheck`, and
//                the run looks it up in the target before sending it.
//   outcome      `delivered` always wins (it is the truth of the target).
//                `failed` (known not stored) releases the claim, only if the
//                run still holds it. `unknown` leaves the copy pending: its
//                next claimant rechecks it.
//
// Order of writes: recordContainer before recordItems of its items (an item
// names its container); startRun before anything that takes a runId.

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface CopyKey {
  readonly messageId: string;
  readonly mailbox: string;
  readonly folder: string;
}

export interface RunStart {
  readonly startedAt: Date;
  readonly command: string;
  /** Where the run's process lives: a run on this host whose pid is gone is dead (connector/lease.ts). */
  readonly host: string;
  readonly pid: number;
  /** How long the lease lasts from now; renewLease extends it. */
  readonly leaseMs: number;
  /** The connector the run belongs to (absent for a one-shot `xip import`). */
  readonly connector?: string | undefined;
  /** What started a connector's run. */
  readonly trigger?: 'schedule' | 'manual' | 'resume' | undefined;
  /** The run this one is a part of (a shared run's part, ports/run-parts.ts): its failures are the parent's too. */
  readonly parentRunId?: number | undefined;
}

export interface RunFinish {
  readonly finishedAt: Date;
  readonly ok: boolean;
  /** The code of the error that ended the run, when one did. */
  readonly code?: string | undefined;
  readonly log: unknown /* the run's JSON log */;
}

/** An unfinished run whose lease has not lapsed. */
export interface LiveRun {
  readonly id: number;
  readonly host: string;
  readonly pid: number;
  readonly leaseUntil: Date;
}

export interface ContainerRecord {
  readonly sha256: string;
  readonly file: string;
  readonly ok: boolean;
  readonly code?: string | undefined;
  readonly message?: string | undefined;
  readonly signerSubject?: string | undefined;
  readonly signerSha256?: string | undefined;
  readonly source?: string | undefined;
  readonly itemsDeclared?: number | undefined;
  readonly runId: number;
}

export interface ItemRecord {
  readonly messageId: string;
  readonly source: string;
  readonly itemId: string;
  readonly containerSha256: string;
  readonly entry: string;
  readonly line?: number | undefined;
  readonly ok: boolean;
  readonly code?: string | undefined;
  readonly message?: string | undefined;
}

/** One line of a run's failures: the run log keeps a capped list in memory, the ledger keeps them all. */
export interface FailureRecord {
  readonly itemId: string | null;
  readonly sourceUserId: string | null;
  readonly mailbox: string | null;
  readonly code: string;
  readonly reason: string;
  readonly entry?: string | undefined;
  readonly line?: number | undefined;
  /** The container's file as received, when the failure belongs to one. */
  readonly file?: string | undefined;
}

export interface DeliveryRecord {
  readonly state: DeliveryState;
  readonly ref: string | null;
  /** The run that last wrote the row (for `pending`: the claimant). */
  readonly runId: number;
}

/**
 * What a claim says of one copy:
 *   send       this run holds it; never attempted, or the last attempt failed: send it
 *   recheck    this run holds it; a previous attempt may have stored it: look it up first
 *   delivered  already delivered (ref says where): a duplicate
 *   busy       another run (owner) holds it: leave it to that run. When the
 *              owner has stopped (finished, lapsed, expired) but not settled
 *              yet, settlesAt says when the copy can be taken over.
 */
export type Claim =
  | { readonly verdict: 'send' | 'recheck' }
  | { readonly verdict: 'delivered'; readonly ref: string | null }
  | { readonly verdict: 'busy'; readonly owner: number; readonly settlesAt?: Date };

export interface Ledger {
  /** Opens a run record with a lease of `leaseMs`; returns its id. */
  startRun(info: RunStart): Promise<number>;
  /**
   * Extends the run's lease to now + leaseMs. Returns false, and extends
   * nothing, when the lease had already lapsed or the run is finished or
   * expired: its claims may have been taken over, so it must send nothing more.
   */
  renewLease(runId: number, leaseMs: number): Promise<boolean>;
  /** Unfinished runs whose lease has not lapsed. */
  liveRuns(): Promise<LiveRun[]>;
  /** Ends the lease of a run known to be dead (its process is gone): its claims can be taken over now. */
  expireRun(runId: number): Promise<void>;
  /** Closes the run record; its lease ends with it. */
  finishRun(runId: number, info: RunFinish): Promise<void>;
  /** Upsert by sha256: the latest verdict is kept, with the first time and run it was seen. */
  recordContainer(c: ContainerRecord): Promise<void>;
  getContainer(sha256: string): Promise<{ sha256: string; ok: boolean; code: string | null; firstSeen: Date } | undefined>;
  /** Upsert by messageId, one transaction: the latest record of an item wins. Its container must be recorded. */
  recordItems(items: readonly ItemRecord[]): Promise<void>;
  /** The latest record of an item, by its Message-ID (undefined when none). */
  getItem(messageId: string): Promise<ItemRecord | undefined>;
  /** Appends failures to the run's list, one transaction. */
  recordFailures(runId: number, failures: readonly FailureRecord[]): Promise<void>;
  /** Every failure recorded for the run, in the order recorded. */
  getFailures(runId: number): Promise<FailureRecord[]>;
  /**
   * Claims copies in one mailbox folder for the run: one conditional write,
   * durable before it returns (it must be, before the target is touched).
   * One answer per distinct Message-ID. Counts an attempt for each copy
   * claimed. A copy held by a run that stopped is taken over only once
   * `settleMs` (default 0) has passed since it stopped (its finish, or the
   * end of its lease).
   */
  claim(mailbox: string, folder: string, messageIds: readonly string[], runId: number, settleMs?: number): Promise<Map<string, Claim>>;
  /** The target holds these copies (it said so, or findExisting found them): always recorded, whoever holds the claim. One transaction. */
  markDelivered(rows: readonly (CopyKey & { ref: string })[], runId: number): Promise<void>;
  /** Known not stored: releases the claim, only where this run still holds it (a copy delivered or taken over meanwhile is left as it is). */
  markFailed(rows: readonly (CopyKey & { code: string; reason: string })[], runId: number): Promise<void>;
  /** States of these copies (absent = never attempted), keyed by deliveryKey. */
  getDeliveries(keys: readonly CopyKey[]): Promise<Map<string, DeliveryRecord>>;
  /** Whether the ledger has ever delivered anything into this mailbox/folder (false → the ledger may be new or lost: ask the target). */
  hasDeliveredTo(mailbox: string, folder: string): Promise<boolean>;
  /** Copies pending in a mailbox/folder (claimed now, or left unknown or by a crash). */
  pendingFor(mailbox: string, folder: string): Promise<CopyKey[]>;
  close(): Promise<void>;
}

/** The key of getDeliveries' map: NUL cannot occur in a Message-ID, an address or a folder name. */
export function deliveryKey(k: CopyKey): string {
  return `${k.messageId}\0${k.mailbox}\0${k.folder}`;
}
