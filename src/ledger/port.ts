// The ledger: what the connector has seen and done — runs, containers, items
// and every copy (item × mailbox × folder) with its delivery state. The core
// owns this port (style.md); sqlite.ts implements it, and a Postgres adapter
// can follow over the same Kysely code (kysely-ledger.ts).
//
// Exactly once rests on it: a copy is marked pending, durably, before the
// target is touched, and delivered once the target said it is durable. A copy
// left pending by a crash is checked against the target before it is sent
// again (MailboxTarget.findExisting).
//
// Order of writes: recordContainer before recordItems of its items (an item
// names its container); startRun before anything that takes a runId. Copies
// do not need their item recorded first: an item may be recorded after its
// copies were sent.

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface CopyKey {
  readonly messageId: string;
  readonly mailbox: string;
  readonly folder: string;
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

export interface DeliveryRecord {
  readonly state: DeliveryState;
  readonly ref: string | null;
}

export interface Ledger {
  /** Opens a run record; returns its id. */
  startRun(info: { startedAt: Date; command: string }): Promise<number>;
  finishRun(runId: number, info: { finishedAt: Date; ok: boolean; log: unknown /* the run's JSON log */ }): Promise<void>;
  /** Upsert by sha256: the latest verdict is kept, with the first time and run it was seen. */
  recordContainer(c: ContainerRecord): Promise<void>;
  getContainer(sha256: string): Promise<{ sha256: string; ok: boolean; code: string | null; firstSeen: Date } | undefined>;
  /** Upsert by messageId, one transaction: the latest record of an item wins. Its container must be recorded. */
  recordItems(items: readonly ItemRecord[]): Promise<void>;
  /** States of these copies (absent = never attempted), keyed by deliveryKey. */
  getDeliveries(keys: readonly CopyKey[]): Promise<Map<string, DeliveryRecord>>;
  /** Whether the ledger has ever delivered anything into this mailbox/folder (false → the ledger may be new or lost: ask the target). */
  hasDeliveredTo(mailbox: string, folder: string): Promise<boolean>;
  /** Before sending a batch: one transaction, durable (synchronous=FULL) before the target is touched. Counts an attempt per copy. */
  markPending(keys: readonly CopyKey[], runId: number): Promise<void>;
  /** After the target said a batch is durable (or findExisting found it there): one transaction. */
  markDelivered(rows: readonly (CopyKey & { ref: string })[], runId: number): Promise<void>;
  markFailed(rows: readonly (CopyKey & { code: string; reason: string })[], runId: number): Promise<void>;
  /** Copies left pending by a crash, for a mailbox/folder (to be checked against the target). */
  pendingFor(mailbox: string, folder: string): Promise<CopyKey[]>;
  close(): Promise<void>;
}

/** The key of getDeliveries' map: NUL cannot occur in a Message-ID, an address or a folder name. */
export function deliveryKey(k: CopyKey): string {
  return `${k.messageId}\0${k.mailbox}\0${k.folder}`;
}
