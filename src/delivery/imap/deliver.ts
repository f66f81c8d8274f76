// Delivering one batch into one mailbox's folder over IMAP, and resuming it
// after a lost connection without delivering anything twice.
//
// The batch goes out in commands of at most `batchSize` messages and
// `maxCommandBytes` octets: pipelined MULTIAPPEND when the server offers it
// (multiappend.ts), else one APPEND per message (append.ts). A message over
// the server's APPENDLIMIT fails before anything is sent. A refused
// MULTIAPPEND appended nothing (it is atomic), so it is split in halves until
// the refused message stands alone and fails by itself (MESSAGE_TOO_LARGE for
// [TOOBIG]/[LIMIT]); the others go on.
//
// When the connection is lost, the command in flight may or may not have been
// carried out (the server may have stored the messages and lost only its OK,
// or may still be storing them). So after reconnecting, with backoff and no
// sooner than the settle time, the folder is asked which of those
// messages it holds (UID SEARCH HEADER Message-ID); those count as delivered,
// and only the rest is sent again. Bounded: after `retry.retries` faults in a
// row the target is unavailable (DeliveryError with the outcomes known).
//
// Outcomes tell the truth (ports/mailbox-target.ts): `failed` only for what
// is known not to be stored (refused, or never sent); a message whose command
// was in flight when the connection was lost, and whose fate no later SEARCH
// settled, is `unknown`: when the retries run out, when the mailbox can no
// longer be logged into, or when a later command for it is refused.
import { DeliveryError, delivered, failed, unknown, type DeliveryCode } from '../errors.js';
import type { DeliveryOutcome, OutgoingMessage } from '../port.js';
import { appendOne } from './append.js';
import { unwritableDate } from './internaldate.js';
import type { AppendUid } from './appenduid.js';
import { codeOfRefusal, describe, isRefusal, responseCodeOf } from './faults.js';
import { multiAppend, SourceFault } from './multiappend.js';
import { backoffDelay, sleep, type RetryPolicy } from './retry.js';
import type { MailboxSession } from './session.js';

export interface DeliverSettings {
  /** Most messages in one APPEND command. */
  readonly batchSize: number;
  /** Most message octets in one APPEND command (one message may exceed it alone). */
  readonly maxCommandBytes: number;
  /** 'off' sends one APPEND per message even where MULTIAPPEND is offered. */
  readonly multiAppend: 'auto' | 'off';
  readonly retry: RetryPolicy;
  /** Waited, at least, after losing a connection with a command in flight, before asking whether it was stored (MailboxTarget.settleMs). */
  readonly settleMs: number;
}

/** The mailbox cannot be acted for: every copy for it fails with this. */
export class MailboxUnavailable extends Error {
  constructor(
    readonly code: 'MAILBOX_NOT_FOUND' | 'TARGET_REJECTED',
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'MailboxUnavailable';
  }
}

export interface SessionSource {
  /** A session logged in for `mailbox`, locked for the caller until release(). Throws MailboxUnavailable, DeliveryError or a connection fault. */
  acquire(mailbox: string): Promise<{ session: MailboxSession; release: () => void }>;
  /** Drops a session whose connection failed. */
  discard(session: MailboxSession): void;
}

/** Connection faults: retried on a new connection. Everything else is an answer or a defect. */
export function isConnectionFault(e: unknown): boolean {
  if (isRefusal(e) || e instanceof DeliveryError || e instanceof MailboxUnavailable || e instanceof SourceFault) return false;
  const err = e as { code?: unknown; responseStatus?: unknown };
  if (err.responseStatus === 'BYE') return true;
  const code = typeof err.code === 'string' ? err.code : '';
  return (
    /^E[A-Z0-9_]+$/.test(code) ||
    ['NoConnection', 'EConnectionClosed', 'StateLogout', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEOUT', 'ETHROTTLE'].includes(code)
  );
}

class Batch {
  readonly outcomes: (DeliveryOutcome | undefined)[];
  /** Indices sent in the command that was in flight when the connection was lost. */
  inFlight: number[] = [];

  constructor(readonly messages: readonly OutgoingMessage[]) {
    this.outcomes = new Array(messages.length);
  }

  pending(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.messages.length; i++) if (!this.outcomes[i]) out.push(i);
    return out;
  }

  ok(i: number, ref: string): void {
    this.outcomes[i] = delivered(this.messages[i]!.messageId, ref);
  }

  fail(i: number, code: DeliveryCode, reason: string): void {
    this.outcomes[i] = failed(this.messages[i]!.messageId, code, reason);
  }

  /**
   * Ends every message without an outcome: those in flight when the
   * connection was lost are `unknown` (the server may have stored them), the
   * others were never sent, or were sent and then found absent, so `failed`
   * with `code`.
   */
  settle(code: DeliveryCode, reason: string): void {
    const inFlight = new Set(this.inFlight);
    for (const i of this.pending()) {
      this.outcomes[i] = inFlight.has(i)
        ? unknown(this.messages[i]!.messageId, 'TARGET_UNAVAILABLE', `the connection was lost after the message was sent, and whether the server stored it could not be learnt: ${reason}`)
        : failed(this.messages[i]!.messageId, code, reason);
    }
    this.inFlight = [];
  }

  /** What DeliveryError.partial holds when the target gives up: every message, settled. */
  partial(code: DeliveryCode, reason: string): DeliveryOutcome[] {
    this.settle(code, reason);
    return this.outcomes as DeliveryOutcome[];
  }
}

function nextCommand(batch: Batch, pending: number[], settings: DeliverSettings, multi: boolean): number[] {
  if (!multi) return pending.slice(0, 1);
  const chunk: number[] = [];
  let bytes = 0;
  for (const i of pending) {
    const size = batch.messages[i]!.size;
    if (chunk.length > 0 && (chunk.length >= settings.batchSize || bytes + size > settings.maxCommandBytes)) break;
    chunk.push(i);
    bytes += size;
  }
  return chunk;
}

async function recordUids(session: MailboxSession, batch: Batch, path: string, indices: number[], uid: AppendUid | undefined): Promise<void> {
  if (uid) {
    indices.forEach((i, k) => batch.ok(i, `${uid.uidValidity}:${uid.uids[k]}`));
    return;
  }
  // No APPENDUID (a server without UIDPLUS): ask the folder.
  const validity = await session.examine(path);
  const found = await session.search(indices.map((i) => batch.messages[i]!.messageId));
  for (const i of indices) {
    const n = found.get(batch.messages[i]!.messageId);
    batch.ok(i, `${validity ?? '?'}:${n ?? '?'}`);
  }
}

/** The server said [TRYCREATE]: the folder must be created again before resending. */
class FolderRecreated extends Error {}

/** Sends `indices` in one command; a refusal is split until it names one message. */
async function send(session: MailboxSession, batch: Batch, path: string, indices: number[], multi: boolean): Promise<void> {
  const messages = indices.map((i) => batch.messages[i]!);
  batch.inFlight = indices;
  let uid: AppendUid | undefined;
  try {
    uid = multi ? await multiAppend(session.conn, path, messages, session.literals) : await appendOne(session.client, path, messages[0]!);
  } catch (e) {
    if (e instanceof SourceFault) throw new SourceFault(indices[e.index]!, e.message, { cause: e.cause });
    if (!isRefusal(e)) throw e;
    batch.inFlight = []; // refused: nothing of it was stored
    const code = responseCodeOf(e);
    if (code === 'TRYCREATE') {
      // The folder went away after this session created it: the caller creates it again and resends.
      session.forgetFolder(path);
      throw new FolderRecreated();
    }
    if (indices.length === 1 || code === 'OVERQUOTA') {
      for (const i of indices) batch.fail(i, codeOfRefusal(code), `the server refused the APPEND: ${describe(e)}`);
      return;
    }
    const half = Math.ceil(indices.length / 2);
    await send(session, batch, path, indices.slice(0, half), multi);
    await send(session, batch, path, indices.slice(half), multi);
    return;
  }
  // Stored. Still in flight until each has its ref: a connection lost while a
  // server without UIDPLUS is asked for them must not make them look unsent.
  await recordUids(session, batch, path, indices, uid);
  batch.inFlight = [];
}

/** Delivers `messages` into `folder` of `mailbox`; one outcome per message, in order. */
export async function deliverToMailbox(
  sessions: SessionSource,
  settings: DeliverSettings,
  mailbox: string,
  folder: string,
  messages: readonly OutgoingMessage[],
): Promise<DeliveryOutcome[]> {
  const batch = new Batch(messages);
  let faults = 0;
  let recreations = 0;
  for (;;) {
    let held: { session: MailboxSession; release: () => void } | undefined;
    try {
      held = await sessions.acquire(mailbox);
      const session = held.session;
      const path = await session.ensureFolder(folder);
      if (batch.inFlight.length > 0) {
        // Resume: which of the messages in flight did the server store?
        const validity = await session.examine(path);
        const found = validity === undefined ? new Map<string, number>() : await session.search(batch.inFlight.map((i) => messages[i]!.messageId));
        for (const i of batch.inFlight) {
          const uid = found.get(messages[i]!.messageId);
          if (uid !== undefined) batch.ok(i, `${validity}:${uid}`);
        }
        batch.inFlight = [];
      }
      for (const i of batch.pending()) {
        const reason = unwritableDate(messages[i]!.internalDate);
        if (reason) batch.fail(i, 'MESSAGE_INVALID', reason);
      }
      const limit = session.appendLimit;
      if (limit !== undefined) {
        for (const i of batch.pending()) {
          if (messages[i]!.size > limit) batch.fail(i, 'MESSAGE_TOO_LARGE', `${messages[i]!.size} octets, the server's APPENDLIMIT is ${limit}`);
        }
      }
      const multi = settings.multiAppend === 'auto' && session.offersMultiAppend;
      for (let pending = batch.pending(); pending.length > 0; pending = batch.pending()) {
        await send(session, batch, path, nextCommand(batch, pending, settings, multi), multi);
        faults = 0; // progress: a later fault starts a new count
      }
      return batch.outcomes as DeliveryOutcome[];
    } catch (e) {
      if (e instanceof MailboxUnavailable) {
        batch.settle(e.code, e.reason);
        return batch.outcomes as DeliveryOutcome[];
      }
      if (e instanceof SourceFault) {
        // Its command was cut off with the connection: nothing of it was stored.
        batch.fail(e.index, 'MESSAGE_INVALID', e.message);
        batch.inFlight = [];
        if (held) sessions.discard(held.session);
        continue;
      }
      if (e instanceof FolderRecreated) {
        if (++recreations <= 2) continue;
        batch.settle('TARGET_REJECTED', `the folder ${folder} of ${mailbox} keeps disappearing ([TRYCREATE] after CREATE)`);
        return batch.outcomes as DeliveryOutcome[];
      }
      if (isRefusal(e)) {
        // CREATE, EXAMINE or SEARCH refused: this mailbox cannot take the batch
        // (and what was in flight before cannot be looked up).
        batch.settle('TARGET_REJECTED', `the server refused a command for ${mailbox}: ${describe(e)}`);
        return batch.outcomes as DeliveryOutcome[];
      }
      if (!isConnectionFault(e)) {
        if (e instanceof DeliveryError) throw new DeliveryError(e.code, e.detail, { cause: e, partial: batch.partial(e.code, e.message) });
        // A defect: nothing is known of the messages it left, so none is reported (the caller counts them unknown).
        throw e;
      }
      if (held) sessions.discard(held.session);
      faults++;
      if (faults > settings.retry.retries) {
        const reason = `${faults} connection faults in a row delivering to ${mailbox}; last: ${describe(e)}`;
        throw new DeliveryError('TARGET_UNAVAILABLE', reason, { cause: e, partial: batch.partial('TARGET_UNAVAILABLE', reason) });
      }
      // A command received whole may still be being stored: the SEARCH after
      // reconnecting must not come before it lands, or it would be sent twice.
      await sleep(Math.max(backoffDelay(settings.retry, faults), batch.inFlight.length > 0 ? settings.settleMs : 0));
    } finally {
      held?.release();
    }
  }
}
