// Runs one configured connector now: what `xip connector run`, the scheduler
// of `xip serve` and the demo call. Opens the installation's state, unseals
// the configuration, builds the adapters, runs (connector/daily.ts) and
// closes everything, whatever happens.
import { runConnector, type ConnectorEvent, type Trigger } from '../connector/daily.js';
import type { CrashPoint } from '../connector/import-run.js';
import type { RunLogJson } from '../connector/run-log.js';
import type { SharedRuns } from '../connector/shared-run.js';
import { XipError } from '../errors.js';
import type { ConnectorStore } from '../ports/connector-store.js';
import type { Ledger } from '../ports/ledger.js';
import { loadConnector } from './connectors.js';
import { evidenceStoreFor } from './evidence.js';
import type { Home } from './home.js';
import type { SecretBox } from './secrets.js';
import { runInputs } from './wiring.js';

export interface InstallationState {
  readonly home: Home;
  readonly ledger: Ledger;
  readonly store: ConnectorStore;
  readonly box: SecretBox;
}

export interface RunRequest {
  readonly name: string;
  readonly trigger: Trigger;
  readonly onEvent?: ((e: ConnectorEvent) => void) | undefined;
  readonly crash?: CrashPoint | undefined;
  /** Overrides the configured settle time (tests, the demo's freshly written files). */
  readonly settleMs?: number | undefined;
  /** Shares the run's containers with every worker, in parts (home/shared-runs.ts). */
  readonly shared?: SharedRuns | undefined;
}

export async function runNamedConnector(state: InstallationState, request: RunRequest): Promise<RunLogJson> {
  const { config, row } = await loadConnector(state.store, state.box, request.name);
  if (row.paused) throw new XipError('CONNECTOR_PAUSED', `connector "${request.name}" is paused`);
  // A wrong XIP_EVIDENCE_* is refused before anything is opened.
  const evidence = evidenceStoreFor(state.home);
  const inputs = await runInputs(state.home, config);
  try {
    return await runConnector({
      ...inputs,
      ...(request.settleMs !== undefined ? { settleMs: request.settleMs } : {}),
      name: config.name,
      trigger: request.trigger,
      evidence,
      store: state.store,
      ledger: state.ledger,
      command: `xip connector run ${config.name}`,
      onEvent: request.onEvent,
      crash: request.crash,
      shared: request.shared,
    });
  } finally {
    await inputs.source.close().catch(() => undefined);
    await inputs.target.close().catch(() => undefined);
  }
}
