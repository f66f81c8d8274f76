// Claim → deliver → record, for one batch of copies into one mailbox's folder
// (the window's send). The exactly-once protocol of ports/ledger.ts:
//
//   1. what the folder already holds, when the ledger has never delivered
//      there (new or lost ledger): listed once per run, and those copies are
//      recorded as delivered without being sent;
//   2. the rest is claimed in one conditional write: `delivered` and `busy`
//      (another live run holds it) are not sent; `recheck` (a previous attempt
//      may have stored it) is looked up in the target first; `send` is sent.
//      A copy held by a run that stopped (or whose process is gone) is
//      claimed again once the target's settle time has passed since it
//      stopped: what that run had sent may still be landing, and a lookup
//      before it lands would send it twice;
//   3. the target's outcomes are recorded: delivered always, failed releases
//      the claim, unknown stays pending for the next claimant to recheck.
//
// A run whose lease lapsed sends nothing (LEASE_LOST ends the run).
import { setTimeout as delay } from 'node:timers/promises';
import { isDeliveryError, unknown, type DeliveryCode, type DeliveryOutcome, type MailboxTarget } from '../ports/mailbox-target.js';
import type { Claim, CopyKey } from '../ports/ledger.js';
import { crashIf, type Copy, type RunContext } from './context.js';
import { reapDeadRuns } from './lease.js';
import type { FailureLine } from './run-log.js';

/** Waited past a stopped run's settle time, so that the claim after it finds the run settled. */
const SETTLE_MARGIN_MS = 20;

export async function deliverCopies(ctx: RunContext, mailbox: string, copies: readonly Copy[]): Promise<void> {
  const claimed = await claimCopies(ctx, mailbox, copies);
  if (claimed === undefined) return;
  const toSend = [...claimed.send, ...(await recheck(ctx, mailbox, claimed.recheck))];
  if (toSend.length > 0) await send(ctx, mailbox, toSend, claimed.batch);
  await ctx.recorder.flushIfFull();
}

function failure(mailbox: string, copy: Copy, code: string, reason: string, outcome: 'failed' | 'unknown'): FailureLine {
  return { itemId: copy.itemId, sourceUserId: copy.sourceUserId, mailbox, code, reason, outcome };
}

function failAll(ctx: RunContext, mailbox: string, copies: Iterable<Copy>, code: string, reason: string, outcome: 'failed' | 'unknown'): void {
  for (const c of copies) ctx.recorder.emit({ kind: 'copy-failed', seq: c.seq, failure: failure(mailbox, c, code, reason, outcome) });
}

/** What the folder held when this run first met the mailbox, or null when the ledger knows it. Throws the target's DeliveryError. */
function listing(ctx: RunContext, mailbox: string): Promise<Map<string, string> | null> {
  let known = ctx.listings.get(mailbox);
  if (!known) {
    known = (async () => ((await ctx.ledger.hasDeliveredTo(mailbox, ctx.folder)) ? null : await ctx.target.listExisting(mailbox, ctx.folder)))();
    ctx.listings.set(mailbox, known);
    // Not kept when it failed: the next batch asks again.
    known.catch(() => ctx.listings.delete(mailbox));
  }
  return known;
}

/** The copies this run now holds, to send or to look up first, and the batch's number in the run (for crash injection). */
async function claimCopies(ctx: RunContext, mailbox: string, copies: readonly Copy[]): Promise<{ send: Copy[]; recheck: Copy[]; batch: number } | undefined> {
  // The same message twice in one batch (the same item in two containers of the run) is one copy.
  const unique = new Map<string, Copy>();
  for (const c of copies) {
    if (unique.has(c.message.messageId)) ctx.recorder.emit({ kind: 'copy', seq: c.seq, result: 'duplicate' });
    else unique.set(c.message.messageId, c);
  }
  let listed: Map<string, string> | null;
  try {
    listed = await listing(ctx, mailbox);
  } catch (e) {
    if (!isDeliveryError(e)) throw e;
    // What the folder holds is unknown, so nothing was claimed or sent: safe to send later.
    failAll(ctx, mailbox, unique.values(), e.code, e.explanation, 'failed');
    return undefined;
  }
  if (listed && listed.size > 0) {
    const there = [...unique.keys()].filter((id) => listed.has(id));
    await ctx.ledger.markDelivered(
      there.map((messageId) => ({ messageId, mailbox, folder: ctx.folder, ref: listed.get(messageId)! })),
      ctx.runId,
    );
    for (const id of there) {
      ctx.recorder.emit({ kind: 'copy', seq: unique.get(id)!.seq, result: 'duplicate' });
      unique.delete(id);
    }
  }
  if (unique.size === 0) return undefined;
  ctx.lease.assertHeld(); // a run whose lease lapsed claims nothing more
  const claims = await claimTakingOver(ctx, mailbox, [...unique.keys()]);
  const batch = ++ctx.counters.batches;
  crashIf(ctx, 'after-pending', batch);
  const out = { send: [] as Copy[], recheck: [] as Copy[], batch };
  for (const [id, copy] of unique) {
    const claim = claims.get(id);
    if (claim === undefined) throw new Error(`the ledger gave no claim for ${id}`);
    if (claim.verdict === 'send' || claim.verdict === 'recheck') out[claim.verdict].push(copy);
    else ctx.recorder.emit({ kind: 'copy', seq: copy.seq, result: claim.verdict === 'delivered' ? 'duplicate' : 'elsewhere' });
  }
  return out;
}

/**
 * Claims. When live runs of this host hold some copies but their process is
 * gone, expires them; copies held by runs that stopped are claimed again
 * once they have settled (at most the target's settleMs from now).
 */
async function claimTakingOver(ctx: RunContext, mailbox: string, ids: readonly string[]): Promise<Map<string, Claim>> {
  const settleMs = ctx.target.settleMs;
  const claims = await ctx.ledger.claim(mailbox, ctx.folder, ids, ctx.runId, settleMs);
  const busy = (): string[] => ids.filter((id) => claims.get(id)?.verdict === 'busy');
  const claimAgain = async (): Promise<void> => {
    for (const [id, claim] of await ctx.ledger.claim(mailbox, ctx.folder, busy(), ctx.runId, settleMs)) claims.set(id, claim);
  };
  const running = new Set<number>();
  for (const c of claims.values()) if (c.verdict === 'busy' && c.settlesAt === undefined) running.add(c.owner);
  if (running.size > 0 && (await reapDeadRuns(ctx.ledger, ctx.runner, running)).length > 0) await claimAgain();
  let settlesAt = 0;
  for (const c of claims.values()) if (c.verdict === 'busy' && c.settlesAt !== undefined) settlesAt = Math.max(settlesAt, c.settlesAt.getTime());
  if (settlesAt === 0) return claims;
  // Bounded by settleMs whatever the clocks say; what has not settled by then is left to a later run.
  await delay(Math.min(settleMs, Math.max(0, settlesAt - Date.now())) + SETTLE_MARGIN_MS);
  ctx.lease.assertHeld();
  await claimAgain();
  return claims;
}

/** Copies whose last attempt may have stored them: those the target holds are recorded; the rest are returned, to be sent. */
async function recheck(ctx: RunContext, mailbox: string, copies: readonly Copy[]): Promise<Copy[]> {
  if (copies.length === 0) return [];
  let found: Map<string, string>;
  try {
    found = await ctx.target.findExisting(mailbox, ctx.folder, copies.map((c) => c.message.messageId));
  } catch (e) {
    if (!isDeliveryError(e)) throw e;
    // Still unknown: they stay pending, to be looked up again by the next run.
    failAll(ctx, mailbox, copies, e.code, e.explanation, 'unknown');
    return [];
  }
  const there = copies.filter((c) => found.has(c.message.messageId));
  await ctx.ledger.markDelivered(
    there.map((c) => ({ messageId: c.message.messageId, mailbox, folder: ctx.folder, ref: found.get(c.message.messageId)! })),
    ctx.runId,
  );
  for (const c of there) ctx.recorder.emit({ kind: 'copy', seq: c.seq, result: 'duplicate' });
  return copies.filter((c) => !found.has(c.message.messageId));
}

/** The target's outcome for each copy; a target that failed as a whole leaves those it did not answer for unknown. */
async function outcomesOf(target: MailboxTarget, mailbox: string, folder: string, copies: readonly Copy[]): Promise<Map<string, DeliveryOutcome>> {
  const messages = copies.map((c) => ({ messageId: c.message.messageId, size: c.message.size, internalDate: c.message.sentAt, open: () => c.message.open() }));
  let outcomes: readonly DeliveryOutcome[];
  let fault: { code: DeliveryCode; reason: string } | undefined;
  try {
    outcomes = await target.deliverBatch(mailbox, folder, messages);
  } catch (e) {
    if (!isDeliveryError(e)) throw e;
    outcomes = e.partial;
    fault = { code: e.code, reason: e.explanation };
  }
  const byId = new Map(outcomes.map((o) => [o.messageId, o]));
  for (const c of copies) {
    if (byId.has(c.message.messageId)) continue;
    const reason = fault ? `${fault.reason}; the copy may have been stored and will be looked up before any resend` : 'the target gave no outcome for this message';
    byId.set(c.message.messageId, unknown(c.message.messageId, fault?.code ?? 'TARGET_UNAVAILABLE', reason));
  }
  return byId;
}

async function send(ctx: RunContext, mailbox: string, copies: readonly Copy[], batch: number): Promise<void> {
  ctx.lease.assertHeld();
  const outcomes = await outcomesOf(ctx.target, mailbox, ctx.folder, copies);
  crashIf(ctx, 'after-deliver', batch);
  const delivered: (CopyKey & { ref: string })[] = [];
  const failed: (CopyKey & { code: string; reason: string })[] = [];
  for (const copy of copies) {
    const outcome = outcomes.get(copy.message.messageId)!;
    const key = { messageId: copy.message.messageId, mailbox, folder: ctx.folder };
    if (outcome.status === 'delivered') {
      delivered.push({ ...key, ref: outcome.ref });
      ctx.recorder.emit({ kind: 'copy', seq: copy.seq, result: 'delivered' });
      continue;
    }
    if (outcome.status === 'failed') failed.push({ ...key, code: outcome.code, reason: outcome.reason });
    ctx.recorder.emit({ kind: 'copy-failed', seq: copy.seq, failure: failure(mailbox, copy, outcome.code, outcome.reason, outcome.status) });
  }
  await ctx.ledger.markDelivered(delivered, ctx.runId);
  await ctx.ledger.markFailed(failed, ctx.runId);
}
