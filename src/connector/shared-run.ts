// A connector's run shared by every worker of the installation (issue 12;
// ports/run-parts.ts). The run that verified a container cuts its items into
// parts and opens them in the database; every worker — this one included —
// claims parts one at a time and imports each as a run of its own (a part of
// this one: runImport with `part`), renewing the part's lease meanwhile.
// When every part is done, the run adds the parts' logs into its own, so
// that its log accounts for every item as if it had read them all.
//
// Nothing is lost when a worker dies: its part's lease lapses and another
// worker takes the part over; the copies the dead one had claimed are looked
// up in the target before any resend (deliver.ts). A part whose import
// throws (a lost database connection, a configuration that cannot be read)
// is given back for any worker to take again, up to MAX_PART_ATTEMPTS
// claims; then it is done with a log that says so (stoppedBy): the run is
// not ok, its container is not done, and the next run takes the container
// up again from the evidence store — exactly once makes that safe.
import { setTimeout as delay } from 'node:timers/promises';
import { XipError } from '../errors.js';
import { TO_THE_END, type PartClaim, type PartRange, type RunParts } from '../ports/run-parts.js';
import type { RunContext } from './context.js';
import { RunLog, type RunLogJson } from './run-log.js';

export interface SharedRuns {
  readonly parts: RunParts;
  /** This worker's id (the heartbeat's: ports/worker-registry.ts). */
  readonly worker: string;
  /** Items per part: a container that declares more is cut into parts of this many. */
  readonly partSize: number;
  /**
   * Imports one claimed part and returns its log: the wiring builds the
   * connector's target, mapping and folder from its configuration and runs
   * runImport with `part`.
   */
  readonly importPart: (claim: PartClaim) => Promise<RunLogJson>;
  /** How long a part stays a worker's without a renewal. */
  readonly leaseMs: number;
  /** How often a run waiting for parts that other workers hold looks again. */
  readonly pollMs: number;
}

export const DEFAULT_PART_SIZE = 5_000;
/** Claims of one part (the first and the takings-over) after which an import that throws ends the part as stopped. */
export const MAX_PART_ATTEMPTS = 3;

/**
 * The parts of a container that declares `declared` items: one part when it
 * declares none or few; the last part runs to the end, whatever the count
 * (so an item beyond the declared count is still read, and reported).
 */
export function cutIntoParts(declared: number | undefined, partSize: number): PartRange[] {
  if (!(Number.isSafeInteger(partSize) && partSize >= 1)) throw new XipError('USAGE', `the part size must be a whole number of at least 1, got ${partSize}`);
  if (declared === undefined || declared <= partSize) return [{ index: 0, firstSeq: 0, endSeq: TO_THE_END }];
  const ranges: PartRange[] = [];
  for (let firstSeq = 0, index = 0; firstSeq < declared; firstSeq += partSize, index++) {
    ranges.push({ index, firstSeq, endSeq: firstSeq + partSize >= declared ? TO_THE_END : firstSeq + partSize });
  }
  return ranges;
}

/** Claims one part of any run, imports it while renewing its lease, and records it done; false when there was none to claim. */
export async function workOnePart(shared: SharedRuns): Promise<boolean> {
  const claim = await shared.parts.claimPart(shared.worker, shared.leaseMs);
  if (!claim) return false;
  const renew = setInterval(() => void shared.parts.renewPart(claim, shared.leaseMs).catch(() => false), Math.max(10, Math.floor(shared.leaseMs / 4)));
  renew.unref();
  let log: RunLogJson;
  try {
    log = await shared.importPart(claim);
  } catch (e) {
    clearInterval(renew);
    if (claim.attempt < MAX_PART_ATTEMPTS) {
      await shared.parts.releasePart(claim);
      return true;
    }
    log = stoppedPart(claim, e);
  } finally {
    clearInterval(renew);
  }
  await shared.parts.finishPart(claim, log);
  return true;
}

/** The log of a part whose import threw: one failure line naming its range, and the code that stopped it. */
function stoppedPart(claim: PartClaim, e: unknown): RunLogJson {
  const code = e instanceof XipError ? e.code : 'RUN_FAILED';
  const message = e instanceof XipError ? e.explanation : String(e);
  const end = claim.endSeq === TO_THE_END ? 'the end' : `item ${claim.endSeq}`;
  const log = new RunLog();
  log.apply({
    kind: 'item-failed',
    failure: { itemId: null, sourceUserId: null, mailbox: null, file: claim.file, code, reason: `part ${claim.index} (from item ${claim.firstSeq} to ${end}) was not imported: ${message}` },
  });
  log.apply({ kind: 'stopped', code });
  return log.toJSON();
}

/**
 * Opens the container's parts, works on parts until every one of them is
 * done (by this worker or others), then adds their logs into the run's, in
 * the order of the parts. Returns the items read from the container.
 */
export async function importShared(ctx: RunContext, shared: SharedRuns, container: { file: string; sha256: string; declaredItems: number | undefined; connector: string }): Promise<number> {
  const ranges = cutIntoParts(container.declaredItems, shared.partSize);
  await shared.parts.openParts({ runId: ctx.runId, connector: container.connector, container: container.sha256, file: container.file }, ranges);
  for (;;) {
    ctx.lease.assertHeld(); // a run that lost its lease adds nothing up: the next run does
    const parts = await shared.parts.partsOf(ctx.runId, container.sha256);
    if (parts.every((p) => p.state === 'done')) {
      let read = 0;
      for (const p of parts) {
        const log = p.log as RunLogJson;
        read += log.itemsFromSource;
        ctx.recorder.emit({ kind: 'part', log });
      }
      return read;
    }
    if (!(await workOnePart(shared))) await delay(shared.pollMs);
  }
}
