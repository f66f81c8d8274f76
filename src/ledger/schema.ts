// The ledger's tables as Kysely sees them (the shape after the latest
// migration), as both engines hand them to the stores (migrations/engine.ts):
// times are ISO 8601 UTC text (SQLite's text, PostgreSQL's timestamptz
// parsed back to that text by postgres.ts), booleans are written as JS
// booleans and read as 0/1 (SQLite) or true/false (PostgreSQL) through
// isSet, the run log is JSON text.
import type { ColumnType, Generated } from 'kysely';

/** A boolean column: written as a JS boolean (sqlite.ts binds it as 0/1), read through isSet. */
export type Flag = ColumnType<boolean | 0 | 1, boolean, boolean>;
export type NullableFlag = ColumnType<boolean | 0 | 1 | null, boolean | null, boolean | null>;

/** A flag as read from either engine. */
export function isSet(value: boolean | number): boolean {
  return value === true || value === 1;
}

export interface RunsTable {
  id: Generated<number>;
  command: string;
  started_at: string;
  finished_at: string | null;
  /** Null while the run has not finished (or died). */
  ok: NullableFlag;
  /** The run's JSON log. */
  log: string | null;
  /** The code of the error that ended the run, when one did. */
  code: string | null;
  /** Where the run's process lives (null for runs before leases). */
  host: string | null;
  pid: number | null;
  /**
   * Until when the run's claims hold, unless it finishes first. Null for runs
   * before leases (lapsed). expireRun sets it to the time of expiry.
   */
  lease_until: string | null;
  /** The connector the run belongs to; null for `xip import` runs. */
  connector: string | null;
  /** The connector run this run is a part of (migration 0009: a shared run's part), else null. */
  parent_run_id: number | null;
  /** What started it: 'schedule', 'manual' or 'resume'; null for `xip import`. */
  trigger: string | null;
}

export interface ContainersTable {
  sha256: string;
  file: string;
  ok: Flag;
  code: string | null;
  message: string | null;
  signer_subject: string | null;
  signer_sha256: string | null;
  source: string | null;
  items_declared: number | null;
  first_seen: string;
  last_seen: string;
  first_run_id: number;
  last_run_id: number;
}

export interface ItemsTable {
  message_id: string;
  source: string;
  item_id: string;
  container_sha256: string;
  entry: string;
  line: number | null;
  ok: Flag;
  code: string | null;
  message: string | null;
  recorded_at: string;
}

/** One folder of one mailbox: deliveries name it by id, so that their keys stay short. */
export interface FoldersTable {
  id: Generated<number>;
  mailbox: string;
  folder: string;
}

export interface DeliveriesTable {
  folder_id: number;
  message_id: string;
  state: 'pending' | 'delivered' | 'failed';
  ref: string | null;
  code: string | null;
  reason: string | null;
  /** The run that last wrote the row; for `pending`, the claimant. */
  run_id: number;
  /** How many times the copy was claimed, i.e. handed to a run to send. */
  attempts: number;
  updated_at: string;
  /** The state the copy was in when its current claim was taken; null when the claim created it. */
  claimed_from: 'pending' | 'failed' | null;
}

/** Every failure of a run, in the order recorded (seq from 1). */
export interface RunFailuresTable {
  run_id: number;
  seq: number;
  item_id: string | null;
  source_user_id: string | null;
  mailbox: string | null;
  code: string;
  reason: string;
  entry: string | null;
  line: number | null;
  file: string | null;
}

export interface ConnectorsTable {
  name: string;
  /** The validated configuration, JSON, secrets sealed. */
  config: string;
  paused: Flag;
  created_at: string;
  updated_at: string;
}

export interface ConnectorLeasesTable {
  connector: string;
  holder: string;
  host: string;
  pid: number;
  lease_until: string;
}

export interface SourceFilesTable {
  connector: string;
  name: string;
  size: number;
  modified: string;
  sha256: string | null;
  first_seen: string;
  run_id: number | null;
}

export interface EvidenceTable {
  sha256: string;
  size: number;
  stored_at: string;
  first_connector: string;
  first_name: string;
  done_run_id: number | null;
  done_at: string | null;
  ok: NullableFlag;
  code: string | null;
}

/** A scheduled run claimed by a worker (0008_scheduled_slots): one row per connector and slot. */
export interface ScheduledSlotsTable {
  connector: string;
  /** The slot: the cron's fire time rounded to the minute (home/scheduler.ts). */
  scheduled_for: string;
  /** The id of the worker that claimed it (its heartbeat's, home/heartbeat.ts). */
  worker: string;
  claimed_at: string;
}

export interface LedgerDatabase {
  runs: RunsTable;
  containers: ContainersTable;
  items: ItemsTable;
  folders: FoldersTable;
  deliveries: DeliveriesTable;
  run_failures: RunFailuresTable;
  connectors: ConnectorsTable;
  connector_leases: ConnectorLeasesTable;
  source_files: SourceFilesTable;
  evidence: EvidenceTable;
  scheduled_slots: ScheduledSlotsTable;
}
