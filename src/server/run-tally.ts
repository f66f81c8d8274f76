// One reducer over the runs the ledger records, for /metrics and the
// connectors' totals: each finished run is counted once, when first seen,
// whichever process ran it (xip serve's scheduler, the console's "Run now",
// or xip connector run from a shell). It reads the store at scrape time:
//   - the first time a connector is met, its last `firstScan` runs (the
//     store's default page), so that totals start from its history;
//   - then its newest `scan` runs, for those finished since.
// Runs are counted from their JSON log: a run whose log was pruned before it
// was first seen counts as a run, with no items. Refreshes are serialised:
// a caller that comes while one is going shares it (two scrapes at once must
// not count a run twice).
import type { RunSummary } from '../connector/connector-log.js';
import type { ConnectorRun, ConnectorStore } from '../ports/connector-store.js';
import type { Ledger } from '../ports/ledger.js';
import { runLog, runSummary } from './run-views.js';

export type RunOutcome = 'succeeded' | 'failed' | 'completed_with_errors';

export interface TalliedRun {
  readonly connector: string;
  readonly id: number;
  readonly outcome: RunOutcome;
  readonly durationSeconds: number;
  readonly finishedAt: Date;
  readonly summary: RunSummary | null;
  /** Failure lines, rejected containers and the run's own code, by code. */
  readonly failures: ReadonlyMap<string, number>;
}

export interface ConnectorTotals {
  readonly itemsImported: number;
  readonly lastSuccess: Date | null;
}

export interface TallySettings {
  readonly firstScan: number;
  readonly scan: number;
}

const DEFAULTS: TallySettings = { firstScan: 1000, scan: 20 };

export class RunTally {
  readonly #connectors: ConnectorStore;
  readonly #ledger: Ledger;
  readonly #settings: TallySettings;
  readonly #seen = new Map<string, Set<number>>();
  readonly #totals = new Map<string, { itemsImported: number; lastSuccess: Date | null }>();
  readonly #listeners: ((run: TalliedRun) => void)[] = [];
  #running: Promise<void> | undefined;

  constructor(deps: { connectors: ConnectorStore; ledger: Ledger }, settings: Partial<TallySettings> = {}) {
    this.#connectors = deps.connectors;
    this.#ledger = deps.ledger;
    this.#settings = { ...DEFAULTS, ...settings };
  }

  /** Called with each run the first time it is seen finished. */
  onRun(listener: (run: TalliedRun) => void): void {
    this.#listeners.push(listener);
  }

  totals(connector: string): ConnectorTotals {
    return this.#totals.get(connector) ?? { itemsImported: 0, lastSuccess: null };
  }

  /** Reads the runs finished since the last refresh (or shares the refresh in progress). */
  refresh(): Promise<void> {
    this.#running ??= this.#scanAll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #scanAll(): Promise<void> {
    for (const row of await this.#connectors.listConnectors()) await this.#scan(row.name);
  }

  async #scan(name: string): Promise<void> {
    let seen = this.#seen.get(name);
    const first = seen === undefined;
    seen ??= new Set();
    const runs = await this.#connectors.listRuns(name, first ? this.#settings.firstScan : this.#settings.scan);
    // Oldest first, so that lastSuccess ends on the newest.
    for (const run of [...runs].reverse()) {
      if (run.finishedAt === null || seen.has(run.id)) continue;
      const tallied = await this.#tally(run, run.finishedAt);
      seen.add(run.id);
      const totals = this.#totals.get(name) ?? { itemsImported: 0, lastSuccess: null };
      totals.itemsImported += tallied.summary?.imported ?? 0;
      if (tallied.outcome === 'succeeded' && (totals.lastSuccess === null || tallied.finishedAt > totals.lastSuccess)) totals.lastSuccess = tallied.finishedAt;
      this.#totals.set(name, totals);
      for (const listener of this.#listeners) listener(tallied);
    }
    if (!this.#totals.has(name)) this.#totals.set(name, { itemsImported: 0, lastSuccess: null });
    // Ids older than the window are never looked at again: forget them.
    const oldest = runs.at(-1)?.id;
    if (oldest !== undefined) for (const id of seen) if (id < oldest) seen.delete(id);
    this.#seen.set(name, seen);
  }

  async #tally(run: ConnectorRun, finishedAt: Date): Promise<TalliedRun> {
    const log = runLog(run);
    const failures = new Map<string, number>();
    const add = (code: string) => failures.set(code, (failures.get(code) ?? 0) + 1);
    if (log) {
      // The log keeps the first lines only; the ledger keeps them all.
      const lines = log.failuresOmitted > 0 ? await this.#ledger.getFailures(run.id) : log.failures;
      for (const f of lines) add(f.code);
      for (const c of log.containers) if (!c.ok && c.code) add(c.code);
    }
    if (run.code) add(run.code);
    return {
      connector: run.connector,
      id: run.id,
      outcome: run.ok ? 'succeeded' : run.code ? 'failed' : 'completed_with_errors',
      durationSeconds: Math.max(0, (finishedAt.getTime() - run.startedAt.getTime()) / 1000),
      finishedAt,
      summary: runSummary(run),
      failures,
    };
  }
}
