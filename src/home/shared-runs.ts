// The shared runs of `xip serve` (issue 12; connector/shared-run.ts): every
// worker on the database takes parts of the connectors' runs, whichever
// worker started them. This wires a part to the connector's configuration —
// its target, mapping and folder, the container from the evidence store —
// and keeps a loop that claims parts while the worker runs.
//
// XIP_PART_SIZE: the items of a part (default 5,000). A container that
// declares more is cut into parts; a smaller one is one part, taken by
// whichever worker is free first. XIP_PART_LEASE_SECONDS (default 60): how
// long a part stays a worker's without renewal — how soon the part of a
// worker that died (SIGKILL, power cut, partition) is taken over.
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { runImport } from '../connector/import-run.js';
import type { RunLogJson } from '../connector/run-log.js';
import { DEFAULT_PART_SIZE, workOnePart, type SharedRuns } from '../connector/shared-run.js';
import { XipError } from '../errors.js';
import type { PartClaim, RunParts } from '../ports/run-parts.js';
import { loadConnector } from './connectors.js';
import { evidenceStoreFor } from './evidence.js';
import type { InstallationState } from './run-connector.js';
import { partInputs } from './wiring.js';

export const PART_SIZE_ENV = 'XIP_PART_SIZE';
export const PART_LEASE_ENV = 'XIP_PART_LEASE_SECONDS';
const POLL_MS = 1_000;

function wholeOf(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, what: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new XipError('USAGE', `${name} must be a whole number of ${what} of at least ${min}, got "${raw.slice(0, 40)}"`);
  return n;
}

export function partSizeOf(env: NodeJS.ProcessEnv): number {
  return wholeOf(env, PART_SIZE_ENV, DEFAULT_PART_SIZE, 1, 'items');
}

export function partLeaseMsOf(env: NodeJS.ProcessEnv): number {
  return wholeOf(env, PART_LEASE_ENV, 60, 2, 'seconds') * 1000;
}

export function sharedRunsFor(state: InstallationState & { readonly parts: RunParts }, worker: string, env: NodeJS.ProcessEnv = process.env): SharedRuns {
  return { parts: state.parts, worker, partSize: partSizeOf(env), leaseMs: partLeaseMsOf(env), pollMs: POLL_MS, importPart: (claim) => importPart(state, claim) };
}

/** One part: the connector's configuration as it is now, the container from the evidence store, verified again before it is read. */
async function importPart(state: InstallationState, claim: PartClaim): Promise<RunLogJson> {
  const { config } = await loadConnector(state.store, state.box, claim.connector);
  const evidence = evidenceStoreFor(state.home);
  const inputs = await partInputs(state.home, config);
  try {
    return await runImport({
      ...inputs,
      ledger: state.ledger,
      source: {
        async *list() {
          yield { name: claim.file, open: () => evidence.open(claim.container) };
        },
      },
      command: `xip serve: part ${claim.index} of run ${claim.runId}`,
      part: { range: claim, parentRunId: claim.runId },
    });
  } finally {
    await inputs.target.close().catch(() => undefined);
  }
}

export interface PartWorker {
  /** The part this worker imports now, for its heartbeat. */
  readonly doing: () => string | undefined;
  /** Stops claiming parts and waits for the part in progress. */
  stop(): Promise<void>;
}

/** Claims parts until stopped; a fault of the database is logged and tried again after a pause. */
export function startPartWorker(shared: SharedRuns, logger: Logger): PartWorker {
  let stopped = false;
  let current: PartClaim | undefined;
  const watched: SharedRuns = {
    ...shared,
    importPart: async (claim) => {
      current = claim;
      logger.info({ event: 'part', run: claim.runId, connector: claim.connector, part: claim.index, attempt: claim.attempt }, 'importing a part of a run');
      try {
        return await shared.importPart(claim);
      } finally {
        current = undefined;
      }
    },
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        if (await workOnePart(watched)) continue;
      } catch (e) {
        logger.error({ event: 'part', code: e instanceof XipError ? e.code : 'RUN_FAILED', err: String(e) }, 'claiming or finishing a part failed');
      }
      await delay(shared.pollMs);
    }
  })();
  return {
    doing: () => (current ? `part ${current.index} of run ${current.runId} (${current.connector})` : undefined),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
