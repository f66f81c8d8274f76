// One import run (xip-items.md §4): for each container the source offers,
//   stage + verify (stage.ts) → read, map, build (prepare.ts)
//   → window (window.ts) → claim, deliver, record (deliver.ts)
// with the run log kept by one reducer (run-log.ts) fed through the recorder
// (record.ts). The ports come in as arguments: a ContainerSource, a
// MailboxTarget, a Ledger; this module imports no adapter.
//
// Exactly once, across re-runs, lost ledgers, crashes and runs at the same
// time: see deliver.ts and ports/ledger.ts. The run holds a lease in the
// ledger while it works (lease.ts); a run that ends on a thrown error records
// itself as failed with the error's code, and its pending claims are taken
// over (and looked up in the target) by the next run.
import { hostname } from 'node:os';
import { XipError } from '../errors.js';
import type { MappingOptions } from '../mapping/index.js';
import type { ContainerRef, ContainerSource } from '../ports/container-source.js';
import type { Ledger } from '../ports/ledger.js';
import type { MailboxTarget } from '../ports/mailbox-target.js';
import type { PartRange } from '../ports/run-parts.js';
import type { StageOptions } from '../xip/container.js';
import type { Copy, CrashPoint, RunContext } from './context.js';
import { deliverCopies } from './deliver.js';
import { LeaseKeeper, processIsAlive, reapDeadRuns, type Runner } from './lease.js';
import { prepareItems } from './prepare.js';
import { Recorder } from './record.js';
import { RunLog, type RunEvent, type RunLogJson } from './run-log.js';
import { runSettings, type RunSettingsInput } from './settings.js';
import { importShared, type SharedRuns } from './shared-run.js';
import { stageContainer, type StagedContainer } from './stage.js';
import { DeliveryWindow } from './window.js';

export type { CrashPoint } from './context.js';

export interface ImportOptions {
  readonly source: ContainerSource;
  readonly verify: StageOptions;
  readonly mapping: MappingOptions;
  readonly folder: string;
  readonly target: MailboxTarget;
  readonly ledger: Ledger;
  /** The source name when neither the manifest nor xip.json names one. */
  readonly connectorName: string;
  /** The command line, for the ledger's run record. */
  readonly command: string;
  readonly settings?: RunSettingsInput;
  /** Who runs (default: this host and process). */
  readonly runner?: Runner;
  readonly crash?: CrashPoint | undefined;
  readonly now?: () => Date;
  /** The connector the run belongs to, and what started it (recorded with the run). */
  readonly connector?: { readonly name: string; readonly trigger: 'schedule' | 'manual' | 'resume' } | undefined;
  /** Sees every event of the run after the run log took it: progress bars, structured logs, per-container verdicts. */
  readonly onEvent?: ((event: RunEvent) => void) | undefined;
  /** Told the run's id once the ledger opened its record, before the source is listed. */
  readonly onStart?: ((runId: number) => void) | undefined;
  /**
   * A part of a shared run (ports/run-parts.ts): the source holds the one
   * container, and only the items of `range` are imported; the ledger
   * records this run as a part of `parentRunId`. Its log has no line for the
   * container unless it was rejected: the parent run has the line.
   */
  readonly part?: { readonly range: PartRange; readonly parentRunId: number } | undefined;
  /** Shares a connector's run's containers with the other workers (shared-run.ts); absent, or a run of no connector: this process imports them alone. */
  readonly shared?: SharedRuns | undefined;
}

export function localRunner(): Runner {
  return { host: hostname(), pid: process.pid, isAlive: processIsAlive };
}

export async function runImport(options: ImportOptions): Promise<RunLogJson> {
  // a usage error before anything is touched; a target that serves many mailboxes at once (Graph) says how many batches to keep in flight
  const settings = runSettings({ ...options.settings, concurrency: options.settings?.concurrency ?? options.target.parallelism });
  const { ledger } = options;
  const now = options.now ?? (() => new Date());
  const runner = options.runner ?? localRunner();
  const startedAt = now();
  const runId = await ledger.startRun({
    startedAt,
    command: options.command,
    host: runner.host,
    pid: runner.pid,
    leaseMs: settings.leaseMs,
    ...(options.connector ? { connector: options.connector.name, trigger: options.connector.trigger } : {}),
    ...(options.part ? { parentRunId: options.part.parentRunId } : {}),
  });
  const log = new RunLog(settings.maxFailuresInLog);
  log.runId = runId;
  options.onStart?.(runId);
  const ctx: RunContext = {
    runId,
    ledger,
    target: options.target,
    folder: options.folder,
    settings,
    runner,
    lease: new LeaseKeeper(ledger, runId, { leaseMs: settings.leaseMs, renewEveryMs: settings.renewEveryMs, startedAt: startedAt.getTime(), now: () => now().getTime() }),
    recorder: new Recorder(ledger, runId, log, options.onEvent),
    crash: options.crash,
    listings: new Map(),
    counters: { itemsRead: 0, batches: 0 },
  };
  try {
    await reapDeadRuns(ledger, runner);
    let seq = 0;
    const nextSeq = () => ++seq;
    for await (const ref of options.source.list()) await importContainer(ctx, ref, options, nextSeq);
    await ctx.recorder.flush();
  } catch (e) {
    await ctx.lease.stop();
    const code = e instanceof XipError ? e.code : 'RUN_FAILED';
    ctx.recorder.emit({ kind: 'stopped', code });
    // The error that ended the run is the one to report; these are best efforts.
    await ctx.recorder.flush().catch(() => undefined);
    await ledger.finishRun(runId, { finishedAt: now(), ok: false, code, log: log.toJSON() }).catch(() => undefined);
    throw e;
  }
  await ctx.lease.stop();
  const json = log.toJSON();
  await ledger.finishRun(runId, { finishedAt: now(), ok: log.ok, log: json });
  return json;
}

async function importContainer(ctx: RunContext, ref: ContainerRef, options: ImportOptions, nextSeq: () => number): Promise<void> {
  const staged = await stageContainer(ctx, ref, options.verify, options.connectorName);
  if (!staged) return;
  ctx.recorder.emit({ kind: 'staged', file: staged.file, sha256: staged.container.sha256, declaredItems: staged.declaredItems });
  const progress = { read: 0 };
  if (options.shared && options.connector && !options.part) {
    // Its items are imported by every worker, in parts, with the connector's configuration; this run adds their logs up.
    await staged.container.close();
    progress.read = await importShared(ctx, options.shared, { file: staged.file, sha256: staged.container.sha256, declaredItems: staged.declaredItems, connector: options.connector.name });
  } else {
    await importItems(ctx, staged, options, nextSeq, progress);
    if (options.part) return;
  }
  ctx.recorder.emit({
    kind: 'container',
    line: {
      file: staged.file,
      sha256: staged.container.sha256,
      ok: true,
      code: null,
      items: progress.read,
      ...(staged.declaredItems !== undefined ? { itemsDeclared: staged.declaredItems } : {}),
      signer: staged.container.signer.subject,
    },
  });
}

async function importItems(ctx: RunContext, staged: StagedContainer, options: ImportOptions, nextSeq: () => number, progress: { read: number }): Promise<void> {
  const window = new DeliveryWindow<Copy>(ctx.settings, (mailbox, copies) => deliverCopies(ctx, mailbox, copies));
  try {
    for await (const { copy, mailboxes } of prepareItems(ctx, staged, options.mapping, nextSeq, progress, options.part?.range)) {
      for (const mailbox of mailboxes) await window.add(mailbox, copy);
    }
    await window.drain();
  } finally {
    // On a failure, batches still in flight read from this container: let them end first.
    await window.settle();
    await staged.container.close();
  }
}
