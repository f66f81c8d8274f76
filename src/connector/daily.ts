// One run of a configured connector (what the schedule, `xip connector run`
// and the demo start):
//
//   lease      at most one run of a connector at a time, across processes
//              (ConnectorStore.acquireLease); a second start is CONNECTOR_BUSY
//   retry      files already in the evidence store whose processing did not
//              reach a final verdict (a crash, a target that was down) go
//              first, from the store: nothing is fetched twice
//   list       the source is listed twice, `settleMs` apart; a file whose size
//              or modification time changed between the two is still being
//              written and is left for the next run
//   fetch      each new file is streamed into the evidence store (named by its
//              SHA-256, read-only) and recorded as taken; a file whose bytes
//              were processed before, under any name or from any source, is
//              not processed again
//   import     the import run (import-run.ts) verifies each from its stored
//              copy and delivers, exactly once (the ledger's claims)
//   verdict    a container is done when it was rejected, or when none of its
//              copies is left to retry; the others are taken up again next run
//
// A source that cannot be listed fails the run with its code (the run is
// recorded, failed, and the next scheduled run tries again). A file that breaks
// off while fetched is a rejected line of the run's log with
// SOURCE_READ_FAILED; the other files go on.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { XipError } from '../errors.js';
import type { ConnectorSource, ContainerRef, ContainerSource, SourceFile } from '../ports/container-source.js';
import type { ConnectorStore } from '../ports/connector-store.js';
import type { EvidenceStore } from '../ports/evidence-store.js';
import { localRunner, runImport, type ImportOptions } from './import-run.js';
import type { RunEvent, RunLogJson } from './run-log.js';

export type Trigger = 'schedule' | 'manual' | 'resume';

/** What the connector's run adds to the import run's own events. */
export type ConnectorEvent =
  | RunEvent
  | { readonly kind: 'listed'; readonly files: number; readonly settling: number }
  | { readonly kind: 'fetched'; readonly file: string; readonly sha256: string; readonly size: number; readonly created: boolean }
  | { readonly kind: 'skipped-known'; readonly file: string; readonly sha256: string; readonly doneRunId: number };

export interface ConnectorRunOptions extends Omit<ImportOptions, 'source' | 'connector' | 'onEvent' | 'onStart'> {
  readonly name: string;
  readonly trigger: Trigger;
  readonly source: ConnectorSource;
  readonly evidence: EvidenceStore;
  readonly store: ConnectorStore;
  /** Time between the two listings (ms). */
  readonly settleMs: number;
  /** How long the connector's lease lasts unless renewed (default: the run's leaseMs, 60 s). */
  readonly connectorLeaseMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onEvent?: ((event: ConnectorEvent) => void) | undefined;
}

const DEFAULT_LEASE_MS = 60_000;

export async function runConnector(options: ConnectorRunOptions): Promise<RunLogJson> {
  const runner = options.runner ?? localRunner();
  const leaseMs = options.connectorLeaseMs ?? options.settings?.leaseMs ?? DEFAULT_LEASE_MS;
  const holder = { token: randomUUID(), host: runner.host, pid: runner.pid };
  const got = await options.store.acquireLease(options.name, holder, leaseMs, runner.isAlive);
  if (!got.acquired) {
    throw new XipError('CONNECTOR_BUSY', `connector "${options.name}" is being run by process ${got.pid} on ${got.host} (its lease runs until ${got.leaseUntil.toISOString()})`);
  }
  const renew = setInterval(() => void options.store.renewLease(options.name, holder.token, leaseMs).catch(() => false), Math.max(1000, leaseMs / 4));
  renew.unref();
  const verdicts = new ContainerVerdicts();
  const emit = (e: ConnectorEvent): void => {
    verdicts.apply(e);
    options.onEvent?.(e);
  };
  const state: { runId: number | undefined; fetched: number } = { runId: undefined, fetched: 0 };
  try {
    const log = await runImport({
      ...options,
      runner,
      source: connectorContainers(options, emit, state),
      connector: { name: options.name, trigger: options.trigger },
      onEvent: emit,
      onStart: (runId) => (state.runId = runId),
    });
    await verdicts.record(options.store, log.runId, log.stoppedBy === undefined);
    return log;
  } catch (e) {
    // What was settled before the fault stays settled; the rest is taken up next run.
    if (state.runId !== undefined) await verdicts.record(options.store, state.runId, false).catch(() => undefined);
    throw e;
  } finally {
    clearInterval(renew);
    await options.store.releaseLease(options.name, holder.token).catch(() => undefined);
  }
}

/** The ContainerSource the import run reads: retries from the evidence store, then new files from the source. */
function connectorContainers(options: ConnectorRunOptions, emit: (e: ConnectorEvent) => void, state: { runId: number | undefined; fetched: number }): ContainerSource {
  return {
    async *list() {
      const offered = new Set<string>();
      for (const row of await options.store.evidenceToRetry(options.name)) {
        offered.add(row.sha256);
        yield fromEvidence(options.evidence, row.firstName, row.sha256);
      }
      const files = await settledFiles(options, emit);
      for (const file of files) {
        const ref = await takeFile(options, file, offered, emit, state);
        if (ref) yield ref;
      }
    },
  };
}

function fromEvidence(evidence: EvidenceStore, name: string, sha256: string): ContainerRef {
  return { name, open: (): Promise<Readable> => evidence.open(sha256) };
}

/** The files whose size and modification time held still over two listings. */
async function settledFiles(options: ConnectorRunOptions, emit: (e: ConnectorEvent) => void): Promise<SourceFile[]> {
  const first = await options.source.list();
  if (first.length === 0) {
    emit({ kind: 'listed', files: 0, settling: 0 });
    return [];
  }
  await (options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(options.settleMs);
  const second = new Map((await options.source.list()).map((f) => [f.name, f]));
  const settled = first.filter((f) => {
    const again = second.get(f.name);
    return again !== undefined && again.size === f.size && again.modified.getTime() === f.modified.getTime();
  });
  emit({ kind: 'listed', files: settled.length, settling: first.length - settled.length });
  return settled;
}

/**
 * Fetches one listed file into the evidence store unless it was taken before,
 * and records it. Returns the container to import, or undefined when its bytes
 * were already processed (or offered in this run). A fetch that breaks off is
 * handed on as a container whose open() fails with the source's error, so that
 * the import run logs it as a rejected line with its code, and the others go on.
 */
async function takeFile(
  options: ConnectorRunOptions,
  file: SourceFile,
  offered: Set<string>,
  emit: (e: ConnectorEvent) => void,
  state: { runId: number | undefined; fetched: number },
): Promise<ContainerRef | undefined> {
  const known = await options.store.sourceFile(options.name, file);
  let sha256 = known?.sha256 ?? null;
  if (sha256 === null) {
    let stored;
    try {
      stored = await options.evidence.put(await options.source.open(file));
    } catch (e) {
      if (!(e instanceof XipError)) throw e;
      return { name: file.name, open: () => Promise.reject(e) };
    }
    sha256 = stored.sha256;
    emit({ kind: 'fetched', file: file.name, sha256, size: stored.size, created: stored.created });
    // A crash here leaves a stored file not yet recorded as taken: the next run fetches it again, and the store keeps one copy.
    if (options.crash?.at === 'after-fetch' && options.crash.n === ++state.fetched) process.kill(process.pid, 'SIGKILL');
    await options.store.recordSourceFile(options.name, file, sha256, state.runId ?? 0);
  }
  const row = await options.store.recordEvidence({ sha256, size: file.size, connector: options.name, name: file.name });
  if (row.doneRunId !== null) {
    if (known === undefined) emit({ kind: 'skipped-known', file: file.name, sha256, doneRunId: row.doneRunId });
    return undefined;
  }
  if (offered.has(sha256)) return undefined;
  offered.add(sha256);
  return fromEvidence(options.evidence, file.name, sha256);
}

/**
 * Which containers reached a final verdict in this run: rejected ones (but
 * not a fetch that broke off), and verified ones none of whose copies failed.
 * Containers are imported one after another (import-run.ts drains a
 * container's deliveries before its line is emitted), so the copies that
 * failed since the previous container's line are this container's.
 */
class ContainerVerdicts {
  readonly #final: { sha256: string; ok: boolean; code: string | null }[] = [];
  #copiesFailed = 0;

  apply(e: ConnectorEvent): void {
    if (e.kind === 'copy-failed') this.#copiesFailed++;
    // A part that stopped early may have left copies undone, and copies a
    // part found held elsewhere may be held by a part run that broke off:
    // its container stays open, and the next run looks again.
    if (e.kind === 'part') this.#copiesFailed += (e.log.failedCopies ?? 0) + e.log.inProgressElsewhere + (e.log.stoppedBy !== undefined || e.log.containers.some((l) => !l.ok) ? 1 : 0);
    if (e.kind !== 'container') return;
    const { line } = e;
    const failedHere = this.#copiesFailed;
    this.#copiesFailed = 0;
    if (!line.sha256) return;
    if (!line.ok && line.code !== 'SOURCE_READ_FAILED' && line.code !== 'IO_ERROR') this.#final.push({ sha256: line.sha256, ok: false, code: line.code });
    if (line.ok && failedHere === 0) this.#final.push({ sha256: line.sha256, ok: true, code: null });
  }

  async record(store: ConnectorStore, runId: number | undefined, completed: boolean): Promise<void> {
    if (runId === undefined) return;
    // A run that stopped early may not have delivered the last container's copies: it stays open.
    const final = completed ? this.#final : this.#final.slice(0, -1);
    for (const v of final) await store.markEvidenceDone(v.sha256, runId, { ok: v.ok, code: v.code });
  }
}
