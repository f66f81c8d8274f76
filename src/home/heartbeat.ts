// The heartbeat of `xip serve` (issue 12, `xip status`): the worker writes
// its row in the installation's database at start, beats every `intervalMs`
// with what it is doing, and removes its row on a clean stop. A killed
// worker's row stays, with a heartbeat that stops moving: `xip status`
// calls a worker alive while its last beat is within ALIVE_BEATS intervals.
//
// XIP_HEARTBEAT_SECONDS sets the interval (default 10), for tests and for
// operators who want a dead worker noticed sooner; `xip status` reads the
// same variable, so both sides must agree on it.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { XipError } from '../errors.js';
import type { Worker, WorkerRegistry } from '../ports/worker-registry.js';

export const HEARTBEAT_ENV = 'XIP_HEARTBEAT_SECONDS';
export const DEFAULT_HEARTBEAT_SECONDS = 10;
/** A worker is alive while its last heartbeat is within this many intervals (30 s by default). */
export const ALIVE_BEATS = 3;
/** Dead workers are forgotten (their rows removed) when `xip serve` starts, after this long. */
export const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/** The heartbeat interval in milliseconds, from XIP_HEARTBEAT_SECONDS (USAGE when it is not a positive number). */
export function heartbeatMs(env: NodeJS.ProcessEnv): number {
  const raw = env[HEARTBEAT_ENV];
  if (raw === undefined || raw === '') return DEFAULT_HEARTBEAT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(seconds > 0) || seconds > 3600) throw new XipError('USAGE', `${HEARTBEAT_ENV} must be a number of seconds (above 0, at most 3600), got "${raw.slice(0, 20)}"`);
  return seconds * 1000;
}

/** What a worker reports doing, from the connectors it is running. */
export function doingOf(running: readonly string[]): string {
  return running.length === 0 ? 'idle' : `running connector${running.length > 1 ? 's' : ''} ${running.join(', ')}`;
}

export interface Heartbeat {
  readonly id: string;
  /** Stops beating and removes the worker's row. */
  stop(): Promise<void>;
}

/** A worker id, HOST-PID-<random>: made before the heartbeat starts, so that the scheduler claims slots under it (scheduler.ts). */
export function newWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Registers this process as a worker (as `id`, a new one by default) and beats until stopped; a failed beat is logged and the next one tried. */
export async function startHeartbeat(workers: WorkerRegistry, options: { id?: string; intervalMs: number; version: string; doing: () => string; logger: Logger }): Promise<Heartbeat> {
  const host = hostname();
  const self: Omit<Worker, 'heartbeatAt' | 'doing'> = { id: options.id ?? newWorkerId(), host, pid: process.pid, startedAt: new Date(), version: options.version };
  const beat = () => workers.beat({ ...self, doing: options.doing() });
  await beat();
  let beating: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    beating = beat().catch((e: unknown) => options.logger.warn({ event: 'heartbeat', err: String(e) }, 'the heartbeat could not be written'));
  }, options.intervalMs);
  return {
    id: self.id,
    async stop() {
      clearInterval(timer);
      await beating;
      await workers.leave(self.id);
    },
  };
}
