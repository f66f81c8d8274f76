// The parts of a shared run (issue 12): the run of a connector cuts each
// container it verified into parts — ranges of its items, in the order the
// container holds them — and every worker of the installation (each `xip
// serve` on the shared database) claims parts one at a time, with a lease,
// and imports them. A worker that dies stops renewing; once its lease
// lapses another worker takes the part over, and the copies the dead one had
// claimed are looked up in the target before any resend (ports/ledger.ts).
// The run that opened the parts waits for all of them and adds their logs
// into its own. src/ledger/run-parts.ts keeps them in the installation's
// database: on PostgreSQL a claim is `FOR UPDATE SKIP LOCKED`, so workers
// claiming at once never wait on each other's row.

/** An endSeq for "to the container's end", whatever count it declares. */
export const TO_THE_END = Number.MAX_SAFE_INTEGER;

/** Items [firstSeq, endSeq) of a container: positions from 0, in the order the container is read. */
export interface PartRange {
  readonly index: number;
  readonly firstSeq: number;
  readonly endSeq: number;
}

/** What a worker needs to import a part. */
export interface RunPart extends PartRange {
  /** The run that opened it (the connector's run). */
  readonly runId: number;
  readonly connector: string;
  /** The container's SHA-256: its bytes are in the evidence store. */
  readonly container: string;
  /** The container's name as received, for the run log. */
  readonly file: string;
}

export interface PartClaim extends RunPart {
  readonly worker: string;
  /** 1 for the first claim of the part, 2 when it was taken over once, … */
  readonly attempt: number;
}

export type PartState = 'open' | 'working' | 'done';

export interface PartStatus extends PartRange {
  readonly state: PartState;
  /** Who holds it (working) or finished it (done); null while open. */
  readonly worker: string | null;
  readonly attempts: number;
  readonly leaseUntil: Date | null;
  /** The log the worker finished it with (done), as given to finishPart. */
  readonly log: unknown;
}

export interface RunParts {
  /**
   * Opens a container's parts for a run, all at once. Once: opening the same
   * run's container again changes nothing (a run resumed after a crash).
   */
  openParts(part: Omit<RunPart, keyof PartRange>, ranges: readonly PartRange[]): Promise<void>;
  /**
   * The next part to work on, of any live run (unfinished, its lease not
   * lapsed) — open, or working with a lease that lapsed — claimed for
   * `worker` with a lease of `leaseMs`, in order (run, container, index);
   * undefined when there is none. Workers claiming at once never get the
   * same part.
   */
  claimPart(worker: string, leaseMs: number): Promise<PartClaim | undefined>;
  /** Extends the lease to now + leaseMs while the worker still holds the part; false when it lapsed or the part was taken over. */
  renewPart(claim: PartClaim, leaseMs: number): Promise<boolean>;
  /**
   * Marks the part done with the worker's log, if the worker still holds
   * it; false (and nothing written) when another worker took it over.
   */
  finishPart(claim: PartClaim, log: unknown): Promise<boolean>;
  /**
   * Gives the part back (open, for any worker to claim now) if the worker
   * still holds it: an import that a passing fault broke off. False when it
   * was taken over meanwhile.
   */
  releasePart(claim: PartClaim): Promise<boolean>;
  /** Every part of the run's container, by index. */
  partsOf(runId: number, container: string): Promise<PartStatus[]>;
}
