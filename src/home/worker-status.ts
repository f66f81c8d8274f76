// A worker as people read it (issue 12): its row from the WorkerRegistry
// plus how long since its last heartbeat and whether that is recent enough
// to call it alive (within ALIVE_BEATS intervals, home/heartbeat.ts). One
// shape for `xip status --json` and GET /api/workers, so that a script and
// the console read the same fields.
import type { Worker } from '../ports/worker-registry.js';

export interface WorkerStatus {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  /** RFC 3339, UTC. */
  readonly startedAt: string;
  readonly heartbeatAt: string;
  readonly heartbeatAgeSeconds: number;
  readonly alive: boolean;
  readonly doing: string | null;
}

/** `w` as of `now`; alive while its last heartbeat is at most `aliveMs` old (ALIVE_BEATS × the heartbeat interval). */
export function workerStatus(w: Worker, now: Date, aliveMs: number): WorkerStatus {
  const age = now.getTime() - w.heartbeatAt.getTime();
  return { id: w.id, host: w.host, pid: w.pid, version: w.version, startedAt: w.startedAt.toISOString(), heartbeatAt: w.heartbeatAt.toISOString(), heartbeatAgeSeconds: Math.max(0, Math.round(age / 1000)), alive: age <= aliveMs, doing: w.doing };
}
