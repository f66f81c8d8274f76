// What connectors keep between runs, beside the ledger's record of runs and
// copies (ports/ledger.ts): their configuration, which run of a connector
// holds it now, what was taken from each source, and what the evidence store
// holds. src/ledger/connector-store.ts implements it in the ledger's
// database, so that a whole installation is one folder (XIP_HOME).
//
// One run per connector at a time rests on the connector lease: a process
// acquires it with one conditional write that succeeds only where no holder
// is live (its lease unexpired and, on this host, its process alive), renews
// it while it runs and releases it at the end. A crash leaves the lease to
// lapse, or to be taken over at once by a process of the same host that sees
// the holder's pid gone.
import type { SourceFile } from './container-source.js';

export interface ConnectorRow {
  readonly name: string;
  /** The stored configuration (JSON text as written: secrets sealed). */
  readonly config: string;
  readonly paused: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ConnectorRun {
  readonly id: number;
  readonly connector: string;
  readonly trigger: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly ok: boolean | null;
  readonly code: string | null;
  readonly host: string | null;
  readonly pid: number | null;
  readonly leaseUntil: Date | null;
  /** The run's JSON log (null while it runs, if it died, or once pruned). */
  readonly log: unknown;
  /** Whether an admin pruned its log. */
  readonly pruned: boolean;
}

export interface LeaseHolder {
  /** Unique per acquisition: renew and release name it. */
  readonly token: string;
  readonly host: string;
  readonly pid: number;
}

export interface EvidenceRow {
  readonly sha256: string;
  readonly size: number;
  readonly storedAt: Date;
  readonly firstConnector: string;
  readonly firstName: string;
  /** The run that processed it to a final verdict; null while copies are left to retry. */
  readonly doneRunId: number | null;
  readonly doneAt: Date | null;
  readonly ok: boolean | null;
  readonly code: string | null;
}

/** How long claimed slots are kept: far longer than any clock skew or late start that could fire a slot again. */
export const SLOT_KEEP_DAYS = 30;

export interface ConnectorStore {
  /** CONNECTOR_EXISTS when the name is taken. */
  addConnector(name: string, config: string): Promise<void>;
  getConnector(name: string): Promise<ConnectorRow | undefined>;
  listConnectors(): Promise<ConnectorRow[]>;
  /** CONNECTOR_NOT_FOUND when absent. */
  updateConnector(name: string, config: string): Promise<void>;
  setPaused(name: string, paused: boolean): Promise<void>;
  /** Deletes the configuration; runs, logs and evidence stay. */
  removeConnector(name: string): Promise<void>;

  /** Newest first. */
  /** A connector's runs, newest first; with `before`, only runs whose id is below it (the next page). */
  listRuns(connector: string, limit?: number, before?: number): Promise<ConnectorRun[]>;
  getRun(connector: string, id: number): Promise<ConnectorRun | undefined>;
  /** A connector's run by its id alone, the connector removed or not (`xip import` runs are not connector runs). */
  getRunById(id: number): Promise<ConnectorRun | undefined>;
  /**
   * Drops the logs and failure lines of the connector's finished runs that
   * started before `before`; the run rows stay (deliveries name them). Returns
   * how many runs were pruned.
   */
  pruneRuns(connector: string, before: Date): Promise<number>;

  /**
   * Takes the connector's lease for `leaseMs` when no live holder has it:
   * the lease is free, lapsed, or held by a process of this host that
   * `isAlive` says is gone. Returns the holder that keeps it otherwise.
   */
  acquireLease(connector: string, holder: LeaseHolder, leaseMs: number, isAlive: (pid: number) => boolean): Promise<{ acquired: true } | { acquired: false; host: string; pid: number; leaseUntil: Date }>;
  /** False when the lease is no longer this holder's (it lapsed and was taken over). */
  renewLease(connector: string, token: string, leaseMs: number): Promise<boolean>;
  releaseLease(connector: string, token: string): Promise<void>;

  /**
   * Claims a scheduled run (issue 12): true for the worker whose claim of
   * (connector, scheduledFor) is stored — the first to ask, by one insert
   * that the key lets through once — false for every other worker. The same
   * worker asking again gets true again, so that a claim retried after a
   * lost connection is not lost to its own first attempt. A won claim also
   * deletes the slots older than SLOT_KEEP_DAYS (of every connector).
   */
  claimScheduledSlot(connector: string, scheduledFor: Date, worker: string): Promise<boolean>;

  /** The sha256 of a file taken before with this exact name, size and modification time (null: listed, not stored). */
  sourceFile(connector: string, file: SourceFile): Promise<{ sha256: string | null } | undefined>;
  recordSourceFile(connector: string, file: SourceFile, sha256: string, runId: number): Promise<void>;

  /** Records a stored file the first time it is met (later calls keep the first name and connector); returns its row. */
  recordEvidence(e: { sha256: string; size: number; connector: string; name: string }): Promise<EvidenceRow>;
  getEvidence(sha256: string): Promise<EvidenceRow | undefined>;
  /** Every stored file, oldest first. */
  listEvidence(): Promise<EvidenceRow[]>;
  /** A page of stored files, newest first; with `before` (a sha256), the files stored before that one (none when it is not stored). */
  evidencePage(limit: number, before?: string): Promise<EvidenceRow[]>;
  /** Files first taken by the connector and not processed to a final verdict yet, oldest first. */
  evidenceToRetry(connector: string): Promise<EvidenceRow[]>;
  markEvidenceDone(sha256: string, runId: number, verdict: { ok: boolean; code: string | null }): Promise<void>;
  close(): Promise<void>;
}
