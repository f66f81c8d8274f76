// The workers of an installation (issue 12): each `xip serve` says it is
// alive and what it is doing, so that `xip status` can show every worker on
// a shared database, and which of them stopped beating. A worker's row is
// written by that worker only; src/ledger/worker-registry.ts keeps it in the
// installation's database.

export interface Worker {
  /** HOST-PID-<random>: unique even when a PID is reused on a host. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  /** "idle", or what the worker is running ("running connector chat"). */
  readonly doing: string | null;
  /** The xip-connector version the worker runs. */
  readonly version: string;
}

export interface WorkerRegistry {
  /** Writes the worker's row, or updates its heartbeat (to now) and what it is doing. */
  beat(worker: Omit<Worker, 'heartbeatAt'>): Promise<void>;
  /** Removes the worker's row (a clean stop). */
  leave(id: string): Promise<void>;
  /** Every worker, the latest heartbeat first. */
  listWorkers(): Promise<Worker[]>;
  /** Removes the workers not seen since `before` (dead ones); returns how many. */
  forgetSilent(before: Date): Promise<number>;
}
