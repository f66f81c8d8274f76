// Runs as the API shows them: their state, figures and outcome, from the
// connector store's records (ports/connector-store.ts) and the figures of
// connector/connector-log.ts — the same meanings as `xip connector runs`
// and `log`.
import { hostname } from 'node:os';
import type { ConnectorRunLog, RunSummary } from '../connector/connector-log.js';
import { summarize } from '../connector/connector-log.js';
import { processIsAlive } from '../connector/lease.js';
import type { RunLogJson } from '../connector/run-log.js';
import type { ConnectorRun } from '../ports/connector-store.js';

export const RUN_STATES = ['running', 'interrupted', 'succeeded', 'failed', 'completed-with-errors'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** An unfinished run is running while its lease holds and, on this host, its process lives. */
export function isLive(run: ConnectorRun, now: Date): boolean {
  if (run.finishedAt !== null) return false;
  return run.leaseUntil !== null && run.leaseUntil > now && (run.host !== hostname() || (run.pid !== null && processIsAlive(run.pid)));
}

export function runState(run: ConnectorRun, now: Date): RunState {
  if (run.finishedAt === null) return isLive(run, now) ? 'running' : 'interrupted';
  return run.ok ? 'succeeded' : run.code ? 'failed' : 'completed-with-errors';
}

export function runLog(run: ConnectorRun): RunLogJson | null {
  return (run.log as RunLogJson | null) ?? null;
}

/** The figures of a run with a log; null when it has none (running, died, or pruned) or they do not add up. */
export function runSummary(run: ConnectorRun): RunSummary | null {
  const log = runLog(run);
  if (!log) return null;
  try {
    return summarize(log);
  } catch {
    return null; // RUN_FAILED: a log whose figures do not add up is shown without them, not as a server fault
  }
}

export function asRunLog(run: ConnectorRun): ConnectorRunLog {
  return { runId: run.id, connector: run.connector, trigger: run.trigger, startedAt: run.startedAt, completedAt: run.finishedAt, ok: run.ok, code: run.code, log: runLog(run) };
}

export function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

/** What a run's line and its page both show (schemas.ts: runHeadShape). */
export function runHead(run: ConnectorRun, now: Date) {
  return {
    id: run.id,
    trigger: run.trigger,
    status: runState(run, now),
    startedAt: run.startedAt.toISOString(),
    finishedAt: iso(run.finishedAt),
    ok: run.ok,
    code: run.code,
    pruned: run.pruned,
    summary: runSummary(run),
  };
}
