// The scheduler of `xip serve`: each connector runs on its cron expression
// (croner), once every 24 hours by default. The connectors are read again
// every `reloadMs`, so that add, edit, pause, resume and remove take effect
// without a restart.
//
// - One run at a time per connector: within this process a connector whose
//   run is still going is not started again; across processes (two `xip
//   serve` on one XIP_HOME) the connector lease decides (CONNECTOR_BUSY is
//   logged, not an error).
// - A run interrupted by a crash (its record never finished and its lease
//   lapsed) resumes when the scheduler starts: that connector runs at once.
// - A run that fails (source unreachable…) is recorded with its code; the
//   next scheduled time tries again.
import type { Cron } from 'croner';
import type { Logger } from 'pino';
import { XipError } from '../errors.js';
import { openConfig } from './connectors.js';
import { runNamedConnector, type InstallationState } from './run-connector.js';
import { scheduleJob, scheduleKey, zoneOf, type Schedule } from './schedule.js';
import { logReporter } from './run-reporter.js';
import type { Trigger } from '../connector/daily.js';

export interface SchedulerOptions {
  readonly logger: Logger;
  readonly reloadMs?: number;
}

interface Job {
  /** scheduleKey of what it was made from: a changed schedule or zone replaces the job. */
  readonly key: string;
  readonly cron: Cron;
}

export class Scheduler {
  readonly #state: InstallationState;
  readonly #logger: Logger;
  readonly #reloadMs: number;
  readonly #jobs = new Map<string, Job>();
  readonly #running = new Map<string, Promise<void>>();
  #reloader: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  constructor(state: InstallationState, options: SchedulerOptions) {
    this.#state = state;
    this.#logger = options.logger;
    this.#reloadMs = options.reloadMs ?? 30_000;
  }

  async start(): Promise<void> {
    await this.#reload();
    await this.#resumeInterrupted();
    this.#reloader = setInterval(() => void this.#reload().catch((e) => this.#logger.error({ event: 'reload', err: String(e) }, 'reading the connectors failed')), this.#reloadMs);
  }

  /**
   * Starts a run of `name` now ("Run now" in the console): false when this
   * process is already running it or is stopping. Across processes the
   * connector lease decides, as for a scheduled run.
   */
  runNow(name: string): boolean {
    if (this.#stopped || this.#running.has(name)) return false;
    this.#fire(name, 'manual');
    return this.#running.has(name);
  }

  /** When the connector runs next on its schedule (null when paused, unknown or not scheduled). */
  nextRun(name: string): Date | null {
    return this.#jobs.get(name)?.cron.nextRun() ?? null;
  }

  /** Whether this process is running the connector now. */
  isRunning(name: string): boolean {
    return this.#running.has(name);
  }

  /** The connectors this process is running now, by name (what its heartbeat reports). */
  running(): string[] {
    return [...this.#running.keys()].sort();
  }

  /** Stops scheduling and waits for the runs in progress to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#reloader) clearInterval(this.#reloader);
    for (const job of this.#jobs.values()) job.cron.stop();
    this.#jobs.clear();
    await Promise.allSettled([...this.#running.values()]);
  }

  async #reload(): Promise<void> {
    if (this.#stopped) return;
    const rows = await this.#state.store.listConnectors();
    const wanted = new Map<string, Schedule>();
    for (const row of rows) {
      if (row.paused) continue;
      try {
        wanted.set(row.name, openConfig(row.config, this.#state.box));
      } catch (e) {
        this.#logger.error({ event: 'config', connector: row.name, code: e instanceof XipError ? e.code : 'RUN_FAILED' }, 'the connector configuration cannot be read; it is not scheduled');
      }
    }
    for (const [name, job] of this.#jobs) {
      const want = wanted.get(name);
      if (!want || scheduleKey(want) !== job.key) {
        job.cron.stop();
        this.#jobs.delete(name);
      }
    }
    for (const [name, schedule] of wanted) {
      if (this.#jobs.has(name)) continue;
      const cron = scheduleJob(schedule, () => this.#fire(name, 'schedule'));
      this.#jobs.set(name, { key: scheduleKey(schedule), cron });
      this.#logger.info({ event: 'scheduled', connector: name, schedule: schedule.schedule, timezone: zoneOf(schedule), nextRun: cron.nextRun()?.toISOString() ?? null }, 'connector scheduled');
    }
  }

  async #resumeInterrupted(): Promise<void> {
    // A run still live in another process keeps its connector lease: this start then ends as CONNECTOR_BUSY, logged.
    for (const name of this.#jobs.keys()) {
      const [last] = await this.#state.store.listRuns(name, 1);
      if (last && last.finishedAt === null) this.#fire(name, 'resume');
    }
  }

  #fire(name: string, trigger: Trigger): void {
    if (this.#stopped || this.#running.has(name)) return;
    const reporter = logReporter(this.#logger, name);
    const run = runNamedConnector(this.#state, { name, trigger, onEvent: reporter.onEvent })
      .then((log) => reporter.end({ log }))
      .catch((e: unknown) => {
        if (e instanceof XipError && (e.code === 'CONNECTOR_BUSY' || e.code === 'CONNECTOR_PAUSED' || e.code === 'CONNECTOR_NOT_FOUND')) {
          this.#logger.info({ event: 'skipped', connector: name, code: e.code, detail: e.detail }, 'run not started');
        } else reporter.end(e instanceof XipError ? { code: e.code, message: e.explanation } : { code: 'RUN_FAILED', message: String(e) });
      })
      .finally(() => this.#running.delete(name));
    this.#running.set(name, run);
  }
}
