// An in-memory test adapter of the Ledger port, for the import run's unit
// tests: no file, an injectable clock, and the same behaviour as the SQLite
// ledger, held to it by the same contract suite (contract.ts). It keeps
// nothing across instances and is not safe for several processes: the
// multi-process guarantees are the SQL adapters' (contention.test.ts).
//
// Every method copies what it is given and hands out copies, as a database
// would; faults are LEDGER_ERROR, as the SQL adapters report them.
import { XipError } from '../../errors.js';
import { deliveryKey, type Claim, type ContainerRecord, type CopyKey, type DeliveryRecord, type DeliveryState, type FailureRecord, type ItemRecord, type Ledger, type LiveRun, type RunFinish, type RunStart } from '../port.js';

interface RunRow {
  readonly host: string;
  readonly pid: number;
  /** ms since the epoch; the lease is live while it is later than now. */
  leaseUntil: number;
  finished: boolean;
}

interface DeliveryRow {
  state: DeliveryState;
  ref: string | null;
  runId: number;
  attempts: number;
}

const RUN_HINT = 'runId must be one that startRun returned';

export class InMemoryLedger implements Ledger {
  readonly #now: () => Date;
  readonly #runs = new Map<number, RunRow>();
  readonly #containers = new Map<string, { ok: boolean; code: string | null; firstSeen: Date }>();
  readonly #items = new Map<string, ItemRecord>();
  readonly #failures = new Map<number, FailureRecord[]>();
  /** By deliveryKey. */
  readonly #deliveries = new Map<string, DeliveryRow>();
  #closed = false;

  constructor(options: { now?: (() => Date) | undefined } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** How many times a copy was claimed (the port does not say; the contract suite checks it). */
  attempts(key: CopyKey): number | undefined {
    return this.#deliveries.get(deliveryKey(key))?.attempts;
  }

  async startRun(info: RunStart): Promise<number> {
    this.#open('startRun');
    const id = this.#runs.size + 1;
    this.#runs.set(id, { host: info.host, pid: info.pid, leaseUntil: this.#ms() + info.leaseMs, finished: false });
    return id;
  }

  async renewLease(runId: number, leaseMs: number): Promise<boolean> {
    const run = this.#run('renewLease', runId);
    if (!this.#live(run)) return false;
    run.leaseUntil = this.#ms() + leaseMs;
    return true;
  }

  async liveRuns(): Promise<LiveRun[]> {
    this.#open('liveRuns');
    return [...this.#runs].filter(([, r]) => this.#live(r)).map(([id, r]) => ({ id, host: r.host, pid: r.pid, leaseUntil: new Date(r.leaseUntil) }));
  }

  async expireRun(runId: number): Promise<void> {
    const run = this.#run('expireRun', runId);
    if (this.#live(run)) run.leaseUntil = this.#ms();
  }

  async finishRun(runId: number, _info: RunFinish): Promise<void> {
    this.#open('finishRun');
    const run = this.#runs.get(runId);
    if (!run) throw new XipError('LEDGER_ERROR', `finishRun: there is no run ${runId}`);
    run.finished = true;
    run.leaseUntil = Math.min(run.leaseUntil, this.#ms());
  }

  async recordContainer(c: ContainerRecord): Promise<void> {
    this.#run('recordContainer', c.runId);
    const firstSeen = this.#containers.get(c.sha256)?.firstSeen ?? this.#now();
    this.#containers.set(c.sha256, { ok: c.ok, code: c.code ?? null, firstSeen });
  }

  async getContainer(sha256: string): Promise<{ sha256: string; ok: boolean; code: string | null; firstSeen: Date } | undefined> {
    this.#open('getContainer');
    const c = this.#containers.get(sha256);
    return c && { sha256, ok: c.ok, code: c.code, firstSeen: new Date(c.firstSeen) };
  }

  async getItem(messageId: string): Promise<ItemRecord | undefined> {
    this.#open('getItem');
    const i = this.#items.get(messageId);
    if (!i) return undefined;
    const { line, code, message, ...rest } = i;
    return { ...rest, ...(line !== undefined ? { line } : {}), ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
  }

  async recordItems(items: readonly ItemRecord[]): Promise<void> {
    this.#open('recordItems');
    const missing = items.find((i) => !this.#containers.has(i.containerSha256));
    if (missing) throw new XipError('LEDGER_ERROR', `recordItems: no container ${missing.containerSha256} (an item's container must be recorded first (recordContainer))`);
    for (const i of items) this.#items.set(i.messageId, { ...i });
  }

  async recordFailures(runId: number, failures: readonly FailureRecord[]): Promise<void> {
    if (failures.length === 0) return this.#open('recordFailures');
    this.#run('recordFailures', runId);
    const list = this.#failures.get(runId) ?? [];
    this.#failures.set(runId, list);
    for (const f of failures) list.push(normalised(f));
  }

  async getFailures(runId: number): Promise<FailureRecord[]> {
    this.#open('getFailures');
    return (this.#failures.get(runId) ?? []).map((f) => ({ ...f }));
  }

  async claim(mailbox: string, folder: string, messageIds: readonly string[], runId: number, settleMs = 0): Promise<Map<string, Claim>> {
    const out = new Map<string, Claim>();
    if (messageIds.length === 0) return (this.#open('claim'), out);
    this.#run('claim', runId);
    for (const messageId of new Set(messageIds)) {
      const key = deliveryKey({ messageId, mailbox, folder });
      const row = this.#deliveries.get(key);
      if (row === undefined || row.state === 'failed') {
        this.#deliveries.set(key, { state: 'pending', ref: null, runId, attempts: (row?.attempts ?? 0) + 1 });
        out.set(messageId, { verdict: 'send' });
      } else if (row.state === 'delivered') {
        out.set(messageId, { verdict: 'delivered', ref: row.ref });
      } else if (row.runId !== runId && this.#live(this.#runs.get(row.runId))) {
        out.set(messageId, { verdict: 'busy', owner: row.runId });
      } else if (row.runId !== runId && this.#stoppedAt(this.#runs.get(row.runId)!) + settleMs > this.#ms()) {
        out.set(messageId, { verdict: 'busy', owner: row.runId, settlesAt: new Date(this.#stoppedAt(this.#runs.get(row.runId)!) + settleMs) });
      } else {
        this.#deliveries.set(key, { state: 'pending', ref: null, runId, attempts: row.attempts + 1 });
        out.set(messageId, { verdict: 'recheck' });
      }
    }
    return out;
  }

  async markDelivered(rows: readonly (CopyKey & { ref: string })[], runId: number): Promise<void> {
    if (rows.length === 0) return this.#open('markDelivered');
    this.#run('markDelivered', runId);
    for (const r of rows) {
      const key = deliveryKey(r);
      this.#deliveries.set(key, { state: 'delivered', ref: r.ref, runId, attempts: this.#deliveries.get(key)?.attempts ?? 0 });
    }
  }

  async markFailed(rows: readonly (CopyKey & { code: string; reason: string })[], runId: number): Promise<void> {
    this.#open('markFailed');
    for (const r of rows) {
      const row = this.#deliveries.get(deliveryKey(r));
      if (row?.state === 'pending' && row.runId === runId) row.state = 'failed';
    }
  }

  async getDeliveries(keys: readonly CopyKey[]): Promise<Map<string, DeliveryRecord>> {
    this.#open('getDeliveries');
    const out = new Map<string, DeliveryRecord>();
    for (const k of keys) {
      const row = this.#deliveries.get(deliveryKey(k));
      if (row) out.set(deliveryKey(k), { state: row.state, ref: row.ref, runId: row.runId });
    }
    return out;
  }

  async hasDeliveredTo(mailbox: string, folder: string): Promise<boolean> {
    this.#open('hasDeliveredTo');
    return this.#copies(mailbox, folder).some(([, row]) => row.state === 'delivered');
  }

  async pendingFor(mailbox: string, folder: string): Promise<CopyKey[]> {
    this.#open('pendingFor');
    return this.#copies(mailbox, folder)
      .filter(([, row]) => row.state === 'pending')
      .map(([messageId]) => ({ messageId, mailbox, folder }));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #copies(mailbox: string, folder: string): [string, DeliveryRow][] {
    const suffix = `\0${mailbox}\0${folder}`;
    return [...this.#deliveries].filter(([key]) => key.endsWith(suffix)).map(([key, row]) => [key.slice(0, -suffix.length), row]);
  }

  #live(run: RunRow | undefined): boolean {
    return run !== undefined && !run.finished && run.leaseUntil > this.#ms();
  }

  /** When a run that is not live stopped: the end of its lease, which its finish ends too. */
  #stoppedAt(run: RunRow): number {
    return run.leaseUntil;
  }

  #ms(): number {
    return this.#now().getTime();
  }

  #open(operation: string): void {
    if (this.#closed) throw new XipError('LEDGER_ERROR', `${operation}: the ledger is closed`);
  }

  #run(operation: string, runId: number): RunRow {
    this.#open(operation);
    const run = this.#runs.get(runId);
    if (!run) throw new XipError('LEDGER_ERROR', `${operation}: there is no run ${runId} (${RUN_HINT})`);
    return run;
  }
}

/** As the SQL adapters hand a failure back: absent optional fields left out. */
function normalised(f: FailureRecord): FailureRecord {
  return {
    itemId: f.itemId,
    sourceUserId: f.sourceUserId,
    mailbox: f.mailbox,
    code: f.code,
    reason: f.reason,
    ...(f.entry !== undefined && { entry: f.entry }),
    ...(f.line !== undefined && { line: f.line }),
    ...(f.file !== undefined && { file: f.file }),
  };
}
