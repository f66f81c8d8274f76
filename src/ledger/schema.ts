// The ledger's tables as Kysely sees them (the shape after the latest
// migration). Portable column types: times are ISO 8601 UTC text, booleans
// are 0/1 integers, the run log is JSON text.
import type { Generated } from 'kysely';

export interface RunsTable {
  id: Generated<number>;
  command: string;
  started_at: string;
  finished_at: string | null;
  /** 0/1; null while the run has not finished (or died). */
  ok: number | null;
  /** The run's JSON log. */
  log: string | null;
}

export interface ContainersTable {
  sha256: string;
  file: string;
  ok: number;
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
  ok: number;
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
  run_id: number;
  /** How many times the copy was marked pending, i.e. handed to a target. */
  attempts: number;
  updated_at: string;
}

export interface LedgerDatabase {
  runs: RunsTable;
  containers: ContainersTable;
  items: ItemsTable;
  folders: FoldersTable;
  deliveries: DeliveriesTable;
}
