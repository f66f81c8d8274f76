// One import run: stage → verify → read items → map → convert → deliver →
// record, for each container in turn (xip-items.md §4, issue 4).
//
// Exactly once. Every copy (item × mailbox × folder) goes through the ledger:
//   1. a copy the ledger has as delivered is a skipped duplicate;
//   2. before a batch is sent its copies are marked pending, durably;
//   3. after the target says the batch is durable they are marked delivered.
// A crash between 2 and 3 leaves pending copies; the next run asks the target
// which of them arrived (findExisting) and sends only the rest. When the ledger
// has never delivered into a mailbox's folder (a new or lost ledger), the run
// first lists what that folder holds (listExisting, one pass), so a lost
// ledger never causes a duplicate either: whatever is in the folder is either
// in that listing or was delivered by this run and recorded.
//
// Batches for different mailboxes are sent concurrently (at most
// `concurrency` at a time); those for one mailbox go one after another.
import type { Ledger, CopyKey } from '../ledger/port.js';
import type { DeliveryOutcome, MailboxTarget, OutgoingMessage } from '../delivery/port.js';
import { isDeliveryError } from '../delivery/errors.js';
import { XipError } from '../errors.js';
import { readItems, resolveSource, type Item, type ItemFailure } from '../items/index.js';
import { resolveMailboxes, type MappingOptions } from '../mapping/index.js';
import { buildMessage, createMessageContext, messageIdFor, type MessageSource } from '../message/index.js';
import { openVerifiedContainer, RejectedContainer, type StageOptions } from '../xip/container.js';
import { RunLog, type RunLogJson } from './run-log.js';

/** Test-only crash injection: the process kills itself at a named point (see docs/operations.md). */
export interface CrashPoint {
  readonly at: 'after-item' | 'after-pending' | 'after-deliver';
  /** The count of items read, or of batches, at which to crash. */
  readonly n: number;
}

export interface ImportOptions {
  readonly files: readonly string[];
  readonly verify: StageOptions;
  readonly mapping: MappingOptions;
  readonly folder: string;
  readonly target: MailboxTarget;
  readonly ledger: Ledger;
  /** The source name when neither the manifest nor xip.json names one. */
  readonly connectorName: string;
  /** The command line, for the ledger's run record. */
  readonly command: string;
  /** Copies sent to one mailbox in one batch. */
  readonly batchSize?: number;
  /** Copies held in memory across all mailboxes before the largest queue is sent. */
  readonly maxQueued?: number;
  /** Batches in flight at once, each for another mailbox. */
  readonly concurrency?: number;
  readonly crash?: CrashPoint;
  readonly now?: () => Date;
}

interface Copy {
  readonly message: MessageSource;
  readonly item: Item;
}

function sourceUserId(item: Item): string | null {
  return item.from.sourceId ?? item.from.email ?? null;
}

function crashIf(crash: CrashPoint | undefined, at: CrashPoint['at'], n: number): void {
  if (crash && crash.at === at && crash.n === n) process.kill(process.pid, 'SIGKILL');
}

export async function runImport(options: ImportOptions): Promise<RunLogJson> {
  const { ledger, target, folder } = options;
  const batchSize = options.batchSize ?? 200;
  const maxQueued = options.maxQueued ?? 2000;
  const concurrency = options.concurrency ?? 4;
  const now = options.now ?? (() => new Date());
  const log = new RunLog();
  const runId = await ledger.startRun({ startedAt: now(), command: options.command });

  const queues = new Map<string, Copy[]>();
  let queued = 0;
  let batches = 0;
  let itemsRead = 0;
  /**
   * Per mailbox, when this run first met it: null when the ledger has delivered
   * into its folder before (the ledger is the truth), else what the folder held.
   */
  const listings = new Map<string, Map<string, string> | null>();
  const inFlight = new Set<Promise<void>>();
  const chains = new Map<string, Promise<void>>();

  const outgoing = (m: MessageSource): OutgoingMessage => ({ messageId: m.messageId, size: m.size, internalDate: m.sentAt, open: () => m.open() });

  /** The first error of a batch sent in the background, rethrown by the next flush or drain. */
  let failure: { error: unknown } | undefined;
  const rethrow = (): void => {
    if (failure) throw failure.error;
  };

  /** Takes the mailbox's queue and sends it after the mailbox's previous batch, within the concurrency limit. */
  const flush = async (mailbox: string): Promise<void> => {
    const copies = queues.get(mailbox);
    if (!copies || copies.length === 0) return;
    queues.delete(mailbox);
    queued -= copies.length;
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    rethrow();
    const task = (chains.get(mailbox) ?? Promise.resolve()).then(() => send(mailbox, copies));
    chains.set(mailbox, task);
    const tracked: Promise<void> = task.then(
      () => void inFlight.delete(tracked),
      (error: unknown) => {
        inFlight.delete(tracked);
        failure ??= { error };
      },
    );
    inFlight.add(tracked);
  };

  const drain = async (): Promise<void> => {
    for (const mailbox of [...queues.keys()]) await flush(mailbox);
    await Promise.all(inFlight);
    chains.clear();
    rethrow();
  };

  const failAll = (mailbox: string, copies: Iterable<Copy>, code: string, reason: string): void => {
    for (const c of copies) log.copyFailed(c.message.messageId, { itemId: c.item.id, sourceUserId: sourceUserId(c.item), mailbox, code, reason });
  };

  const send = async (mailbox: string, copies: readonly Copy[]): Promise<void> => {
    // The same item twice in a run (a duplicate id in the source) is one copy.
    const unique = new Map<string, Copy>();
    for (const c of copies) {
      if (unique.has(c.message.messageId)) log.copyDuplicate(c.message.messageId);
      else unique.set(c.message.messageId, c);
    }
    let listing = listings.get(mailbox);
    if (listing === undefined) {
      try {
        listing = (await ledger.hasDeliveredTo(mailbox, folder)) ? null : await target.listExisting(mailbox, folder);
      } catch (e) {
        if (!isDeliveryError(e)) throw e;
        // What the folder holds is unknown: nothing is sent there now; the next batch asks again.
        failAll(mailbox, unique.values(), e.code, e.explanation);
        return;
      }
      listings.set(mailbox, listing);
    }
    const keys: CopyKey[] = [...unique.keys()].map((messageId) => ({ messageId, mailbox, folder }));
    const states = await ledger.getDeliveries(keys);
    const stateOf = (id: string) => states.get(`${id}\0${mailbox}\0${folder}`)?.state;
    const toCheck: string[] = [];
    const toSend: Copy[] = [];
    const listed: (CopyKey & { ref: string })[] = [];
    for (const [id, copy] of unique) {
      const state = stateOf(id);
      const ref = listing?.get(id);
      if (state === 'delivered') log.copyDuplicate(id);
      else if (ref !== undefined) {
        listed.push({ messageId: id, mailbox, folder, ref });
        log.copyDuplicate(id);
      } else if (state === 'pending') toCheck.push(id);
      else toSend.push(copy);
    }
    if (listed.length > 0) await ledger.markDelivered(listed, runId);
    if (toCheck.length > 0) {
      let found: Map<string, string>;
      try {
        found = await target.findExisting(mailbox, folder, toCheck);
      } catch (e) {
        if (!isDeliveryError(e)) throw e;
        // Unknown whether they arrived: they fail this run and stay as they
        // are in the ledger, to be asked about again by the next run.
        failAll(mailbox, toCheck.map((id) => unique.get(id)!), e.code, e.explanation);
        found = new Map();
        toCheck.length = 0;
      }
      const already = toCheck.filter((id) => found.has(id));
      if (already.length > 0) await ledger.markDelivered(already.map((id) => ({ messageId: id, mailbox, folder, ref: found.get(id)! })), runId);
      for (const id of toCheck) {
        if (found.has(id)) log.copyDuplicate(id);
        else toSend.push(unique.get(id)!);
      }
    }
    if (toSend.length === 0) return;

    const sendKeys = toSend.map((c) => ({ messageId: c.message.messageId, mailbox, folder }));
    await ledger.markPending(sendKeys, runId);
    batches++;
    crashIf(options.crash, 'after-pending', batches);
    let outcomes: readonly DeliveryOutcome[];
    let fault: { code: string; reason: string } | undefined;
    try {
      outcomes = await target.deliverBatch(mailbox, folder, toSend.map((c) => outgoing(c.message)));
    } catch (e) {
      if (!isDeliveryError(e)) throw e;
      // The target as a whole failed: what it confirmed is recorded; the rest
      // stays pending in the ledger, so that the next run asks the target.
      outcomes = e.partial;
      fault = { code: e.code, reason: e.explanation };
    }
    crashIf(options.crash, 'after-deliver', batches);
    const byId = new Map(outcomes.map((o) => [o.messageId, o]));
    const delivered: (CopyKey & { ref: string })[] = [];
    const failed: (CopyKey & { code: string; reason: string })[] = [];
    for (const copy of toSend) {
      const id = copy.message.messageId;
      const outcome = byId.get(id);
      if (outcome?.ok) {
        delivered.push({ messageId: id, mailbox, folder, ref: outcome.ref });
        log.copyDelivered(id);
      } else {
        const code = outcome ? outcome.code : fault!.code;
        const reason = outcome && !outcome.ok ? outcome.reason : fault!.reason;
        if (outcome) failed.push({ messageId: id, mailbox, folder, code, reason });
        log.copyFailed(id, { itemId: copy.item.id, sourceUserId: sourceUserId(copy.item), mailbox, code, reason });
      }
    }
    if (delivered.length > 0) await ledger.markDelivered(delivered, runId);
    if (failed.length > 0) await ledger.markFailed(failed, runId);
  };

  const enqueue = async (mailbox: string, copy: Copy): Promise<void> => {
    let q = queues.get(mailbox);
    if (!q) queues.set(mailbox, (q = []));
    q.push(copy);
    queued++;
    if (q.length >= batchSize) await flush(mailbox);
    else if (queued >= maxQueued) {
      // Memory stays bounded with many mailboxes: send the largest queue.
      let largest = mailbox;
      for (const [m, list] of queues) if (list.length > (queues.get(largest)?.length ?? 0)) largest = m;
      await flush(largest);
    }
  };

  const itemFailure = (f: ItemFailure): void => {
    log.itemFailed({ itemId: f.id ?? null, sourceUserId: null, mailbox: null, code: f.code, reason: f.message, entry: f.entry, ...(f.line !== undefined ? { line: f.line } : {}) });
  };

  for (const file of options.files) {
    let container;
    try {
      container = await openVerifiedContainer(file, options.verify);
    } catch (e) {
      if (!(e instanceof XipError)) throw e;
      const sha256 = e instanceof RejectedContainer ? (e.sha256 ?? null) : null;
      log.containers.push({ file, sha256, ok: false, code: e.code, message: e.explanation });
      if (sha256) await ledger.recordContainer({ sha256, file, ok: false, code: e.code, message: e.explanation, runId });
      continue;
    }
    try {
      const { source } = await resolveSource(container, { connectorName: options.connectorName });
      await ledger.recordContainer({
        sha256: container.sha256,
        file,
        ok: true,
        signerSubject: container.signer.subject,
        signerSha256: container.signer.sha256,
        source,
        ...(container.report.package ? { itemsDeclared: container.report.package.items } : {}),
        runId,
      });
      const ctx = createMessageContext(container, source);
      let itemsHere = 0;
      const records: Parameters<Ledger['recordItems']>[0][number][] = [];
      const flushRecords = async () => {
        if (records.length > 0) await ledger.recordItems(records.splice(0));
      };
      /** The run log and, when the item has an id (and so a Message-ID), the ledger record every failed item. */
      const failItem = async (f: ItemFailure): Promise<void> => {
        itemFailure(f);
        if (f.id === undefined) return; // only the run's log (kept with the run in the ledger) can name it
        records.push({ messageId: messageIdFor(source, f.id), source, itemId: f.id, containerSha256: container.sha256, entry: f.entry, ...(f.line !== undefined ? { line: f.line } : {}), ok: false, code: f.code, message: f.message });
        if (records.length >= 500) await flushRecords();
      };
      for await (const result of readItems(container)) {
        itemsRead++;
        itemsHere++;
        log.itemsFromSource++;
        crashIf(options.crash, 'after-item', itemsRead);
        if (!result.ok) {
          await failItem(result.failure);
          continue;
        }
        const { item, origin } = result;
        const resolution = resolveMailboxes(item, options.mapping);
        log.skippedNotOnHold += resolution.skippedNotOnHold.length;
        if (resolution.mailboxes.length === 0 || resolution.catchAll) {
          for (const u of resolution.unmapped) log.addUnmapped(u.sourceId, u.email);
        }
        let message: MessageSource;
        try {
          message = await buildMessage(result, ctx);
        } catch (e) {
          if (!(e instanceof XipError)) throw e;
          await failItem({ entry: origin.entry, line: origin.line, id: item.id, message: e.explanation, code: e.code });
          continue;
        }
        records.push({ messageId: message.messageId, source, itemId: item.id, containerSha256: container.sha256, entry: origin.entry, ...(origin.line !== undefined ? { line: origin.line } : {}), ok: true });
        if (records.length >= 500) await flushRecords();
        if (resolution.mailboxes.length === 0) {
          if (resolution.skippedNotOnHold.length === 0) {
            log.itemFailed({ itemId: item.id, sourceUserId: sourceUserId(item), mailbox: null, code: 'ITEM_UNMAPPED', reason: 'no participant maps to a mailbox of the directory, and there is no catch-all mailbox' });
          }
          continue;
        }
        log.planCopies(message.messageId, resolution.mailboxes.length);
        for (const mailbox of resolution.mailboxes) await enqueue(mailbox, { message, item });
      }
      await flushRecords();
      await drain();
      log.containers.push({ file, sha256: container.sha256, ok: true, code: null, items: itemsHere });
    } finally {
      // On a failure, batches still in flight read from this container: let them end first.
      await Promise.allSettled([...inFlight]);
      await container.close();
    }
  }
  const json = log.toJSON();
  await ledger.finishRun(runId, { finishedAt: now(), ok: log.ok, log: json });
  return json;
}
