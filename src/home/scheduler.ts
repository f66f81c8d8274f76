// The scheduler of `xip serve`: each connector runs on its cron expression
// (croner), once every 24 hours by default. The connectors are read again
// every `reloadMs`, so that add, edit, pause, resume and remove take effect
// without a restart.
//
// - One run at a time per connector: within this process a connector whose
//   run is still going is not started again; across processes (two `xip
//   serve` on one XIP_HOME) the connector lease decides (CONNECTOR_BUSY is
//   logged, not an error).
// - Each scheduled run starts once across the workers sharing a database
//   (issue 12): a worker whose cron fires claims the slot first
//   (ConnectorStore.claimScheduledSlot), and one that finds it claimed by
//   another logs SLOT_TAKEN and runs nothing — even when the other's run has
//   already ended, which the lease alone would not prevent (a worker whose
//   clock is behind, or that fired late). "Run now" and resumes claim no slot.
// - A run interrupted by a crash (its record never finished and its lease
//   lapsed) resumes when the scheduler starts: that connector runs at once;
//   and at each reload of a worker that goes on, once its lease has lapsed
//   (the worker that ran it died).
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
import type { SharedRuns } from '../connector/shared-run.js';

export interface SchedulerOptions {
  readonly logger: Logger;
  readonly reloadMs?: number;
  /** This worker's id, the one its heartbeat registers (heartbeat.ts newWorkerId): the claimed slots name it. */
  readonly worker: string;
  /** The runs' containers are imported in parts by every worker (home/shared-runs.ts); absent: each run imports alone. */
  readonly shared?: SharedRuns | undefined;
}

/**
 * The slot a scheduled fire claims: its time rounded to the nearest minute.
 * Each worker's cron fires at the scheduled time by its own clock, but late by
 * however long its event loop was held (a long GC, a busy reload), and clocks
 * kept by NTP still differ by fractions of a second to a few seconds: rounding
 * makes workers whose fire times differ by less than 30 seconds name the same
 * slot. (A schedule with a seconds field firing more than once a minute thus
 * gets one run per slot, not per fire.)
 */
export function slotOf(firedAt: Date): Date {
  return new Date(Math.round(firedAt.getTime() / 60_000) * 60_000);
}

interface Job {
  /** scheduleKey of what it was made from: a changed schedule or zone replaces the job. */
  readonly key: string;
  readonly cron: Cron;
}

export class Scheduler {
  readonly #state: InstallationState;
  readonly #logger: Logger;
  readonly #shared: SharedRuns | undefined;
  readonly #reloadMs: number;
  readonly #worker: string;
  readonly #jobs = new Map<string, Job>();
  readonly #running = new Map<string, Promise<void>>();
  #reloader: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  constructor(state: InstallationState, options: SchedulerOptions) {
    this.#state = state;
    this.#logger = options.logger;
    this.#shared = options.shared;
    this.#reloadMs = options.reloadMs ?? 30_000;
    this.#worker = options.worker;
  }

  async start(): Promise<void> {
    await this.#reload();
    await this.#resumeInterrupted();
    this.#reloader = setInterval(
      () =>
        void this.#reload()
          .then(() => this.#resumeLapsed())
          .catch((e) => this.#logger.error({ event: 'reload', err: String(e) }, 'reading the connectors failed')),
      this.#reloadMs,
    );
  }

  /**
   * Starts a run of `name` now ("Run now" in the console): false when this
   * process is already running it or is stopping. Across processes the
   * connector lease decides, as for a scheduled run.
   */
  runNow(name: string): boolean {
    if (this.#stopped || this.#running.has(name)) return false;
    void this.#fire(name, 'manual');
    return this.#running.has(name);
  }

  /**
   * What the connector's cron job does when it fires at `firedAt`: claims the
   * slot (slotOf), and runs only if this worker got it. Public so that a test
   * fires a slot at the time it chooses rather than waiting for the clock.
   * Resolves once the run, or the skip, is over.
   */
  fireScheduled(name: string, firedAt: Date): Promise<void> {
    return this.#fire(name, 'schedule', slotOf(firedAt));
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
      const cron = scheduleJob(schedule, () => void this.fireScheduled(name, new Date()));
      this.#jobs.set(name, { key: scheduleKey(schedule), cron });
      this.#logger.info({ event: 'scheduled', connector: name, schedule: schedule.schedule, timezone: zoneOf(schedule), nextRun: cron.nextRun()?.toISOString() ?? null }, 'connector scheduled');
    }
  }

  async #resumeInterrupted(): Promise<void> {
    // A run still live in another process keeps its connector lease: this start then ends as CONNECTOR_BUSY, logged.
    for (const name of this.#jobs.keys()) {
      const [last] = await this.#state.store.listRuns(name, 1);
      if (last && last.finishedAt === null) void this.#fire(name, 'resume');
    }
  }

  /**
   * A run interrupted while workers go on — its last record unfinished, its
   * lease lapsed: the worker that ran it died — is resumed by the first
   * worker to see it at a reload, not only by one that starts (the
   * connector's lease lets one through). A run whose lease is live is left
   * to its worker, without a CONNECTOR_BUSY line every reload.
   */
  async #resumeLapsed(now = Date.now()): Promise<void> {
    for (const name of this.#jobs.keys()) {
      if (this.#running.has(name)) continue;
      const [last] = await this.#state.store.listRuns(name, 1);
      if (last && last.finishedAt === null && (last.leaseUntil === null || last.leaseUntil.getTime() <= now)) void this.#fire(name, 'resume');
    }
  }

  /** Starts a run of `name` unless this process is running it; a scheduled one (`slot` given) only once its slot is claimed. */
  #fire(name: string, trigger: Trigger, slot?: Date): Promise<void> {
    if (this.#stopped || this.#running.has(name)) return Promise.resolve();
    // In #running from the start, claim included: a "Run now" while the claim is on its way is refused, not run beside it.
    const run = this.#claim(name, slot)
      .then((mine) => (mine ? this.#run(name, trigger) : undefined))
      .finally(() => this.#running.delete(name));
    this.#running.set(name, run);
    return run;
  }

  /** Whether this worker may start the run: always without a slot ('manual', 'resume'); with one, when it claims it. */
  async #claim(name: string, slot: Date | undefined): Promise<boolean> {
    if (slot === undefined) return true;
    try {
      if (await this.#state.store.claimScheduledSlot(name, slot, this.#worker)) return true;
      this.#logger.info({ event: 'skipped', connector: name, code: 'SLOT_TAKEN', slot: slot.toISOString() }, 'run not started: another worker claimed this scheduled run');
      return false;
    } catch (e) {
      // The claim failed (the database unreachable after the store's retries): run anyway. For a compliance archive a
      // missed slot is the worse fault — what it would have taken waits a whole period (a day by default) before it is
      // archived — while a second run of a slot does no harm: the connector lease keeps one run at a time, a later run
      // takes only files not taken yet, and each copy is claimed before it is sent, so nothing is delivered twice. With
      // the database really down, the run fails at its first read and says so (LEDGER_ERROR).
      this.#logger.error({ event: 'slot', connector: name, slot: slot.toISOString(), code: e instanceof XipError ? e.code : 'RUN_FAILED', err: String(e) }, 'the scheduled run could not be claimed; running it anyway');
      return true;
    }
  }

  async #run(name: string, trigger: Trigger): Promise<void> {
    const reporter = logReporter(this.#logger, name);
    try {
      reporter.end({ log: await runNamedConnector(this.#state, { name, trigger, onEvent: reporter.onEvent, shared: this.#shared }) });
    } catch (e) {
      if (e instanceof XipError && (e.code === 'CONNECTOR_BUSY' || e.code === 'CONNECTOR_PAUSED' || e.code === 'CONNECTOR_NOT_FOUND')) {
        this.#logger.info({ event: 'skipped', connector: name, code: e.code, detail: e.detail }, 'run not started');
      } else reporter.end(e instanceof XipError ? { code: e.code, message: e.explanation } : { code: 'RUN_FAILED', message: String(e) });
    }
  }
}
