// One message into one folder with importMime
// (https://learn.microsoft.com/en-us/graph/api/mailfolder-importmime?view=graph-rest-beta):
// `POST /beta/users/{u}/mailFolders/{f}/importMime`, Content-Type text/plain,
// the body the base64 of the whole MIME message; 201 and a message whose
// isDraft is false. Unlike `POST …/messages` with MIME
// (https://learn.microsoft.com/en-us/graph/api/user-post-messages), which
// always makes a draft, the message is stored as delivered, headers,
// attachments and all.
//
// Exactly once: a request that may have been acted on (sent, and no answer,
// or a 5xx) makes the next attempt look the message up by its Message-ID
// first; only a known absence is sent again. A 429 was refused, so it is
// sent again after Retry-After without a look-up.
import type { Readable } from 'node:stream';
import { delivered, failed, unknown, type DeliveryOutcome, type OutgoingMessage } from '../../ports/mailbox-target.js';
import { DeliveryError } from '../errors.js';
import type { Answer, GraphApi } from './api.js';
import { HttpFault } from './http.js';
import { Throttled } from './folders.js';
import { findMessage } from './lookup.js';
import { backoffDelay, sleep, type RetryPolicy } from './retry.js';

export interface ImportSettings {
  readonly retry: RetryPolicy;
  /** Most throttled answers waited through for one message before it is left for the next run (default 30). */
  readonly maxThrottled: number;
}

/** The bytes of the message, checked against its declared size. */
export async function readMessage(message: OutgoingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of message.open() as Readable) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += b.length;
    if (size > message.size) break;
    chunks.push(b);
  }
  if (size !== message.size) throw new DeliveryError('MESSAGE_INVALID', `${message.messageId}: the message stream gave ${size > message.size ? 'more than' : ''} ${size} octets, ${message.size} were declared`);
  return Buffer.concat(chunks, size);
}

/** The base64 body's length for a message of `size` octets. */
export function base64Length(size: number): number {
  return Math.ceil(size / 3) * 4;
}

/** The request was over what Graph takes in one request (413): the message goes by the IMAP route, or fails. */
export const REQUEST_TOO_LARGE = 'request-too-large';

/** Imports one message; a fault that outlasts the retries is a `failed` (never sent) or `unknown` (may be stored) outcome, a lost connection throughout a DeliveryError. */
export async function importMessage(api: GraphApi, settings: ImportSettings, mailbox: string, folderId: string, message: OutgoingMessage, body: string): Promise<DeliveryOutcome | typeof REQUEST_TOO_LARGE> {
  const id = message.messageId;
  const url = api.userUrl('beta', mailbox, `/mailFolders/${encodeURIComponent(folderId)}/importMime`);
  let maybeStored = false;
  let faults = 0;
  let throttled = 0;
  let last = '';
  for (;;) {
    try {
      if (maybeStored) {
        const looked = await lookUp(api, mailbox, folderId, id);
        if (looked.kind === 'found') return delivered(id, looked.ref);
        if (looked.kind === 'absent') maybeStored = false; // known absent: safe to send
        else {
          last = looked.reason;
          if (++faults > settings.retry.retries) return unknown(id, 'TARGET_UNAVAILABLE', `may be stored; the look-up failed: ${last}`);
          // with a Retry-After the mailbox's gate already waits (api.ts paused it): no second wait here
          if (looked.retryAfterMs === undefined) await sleep(backoffDelay(settings.retry, faults));
          continue;
        }
      }
      const answer = await api.call(mailbox, { method: 'POST', url, headers: { 'content-type': 'text/plain', accept: 'application/json' }, body }, body.length);
      const verdict = judge(answer, message);
      if (verdict.kind === 'done') return verdict.outcome;
      if (verdict.kind === 'too-large') return REQUEST_TOO_LARGE;
      last = verdict.reason;
      if (verdict.kind === 'throttled') {
        if (++throttled > settings.maxThrottled) return failed(id, 'TARGET_UNAVAILABLE', `${mailbox} stayed throttled (${throttled - 1} times); last: ${last}`);
        if (verdict.retryAfterMs === undefined) await sleep(backoffDelay(settings.retry, Math.min(throttled, 8)));
        // with a Retry-After the mailbox's gate waits
        maybeStored ||= verdict.maybeStored;
        continue;
      }
      maybeStored ||= verdict.maybeStored;
    } catch (e) {
      if (!(e instanceof HttpFault)) throw e;
      last = e.message;
      maybeStored ||= e.phase === 'sent';
      if (faults >= settings.retry.retries) {
        throw new DeliveryError('TARGET_UNAVAILABLE', `${faults + 1} connection faults in a row importing into ${mailbox}; last: ${last}`, { cause: e });
      }
    }
    if (++faults > settings.retry.retries) return maybeStored ? unknown(id, 'TARGET_UNAVAILABLE', last) : failed(id, 'TARGET_UNAVAILABLE', last);
    await sleep(backoffDelay(settings.retry, faults));
  }
}

/** A look-up that failed (5xx, throttled, no answer) leaves the message as it was: may be stored. */
async function lookUp(api: GraphApi, mailbox: string, folderId: string, id: string): Promise<{ kind: 'found'; ref: string } | { kind: 'absent' } | { kind: 'failed'; reason: string; retryAfterMs?: number }> {
  try {
    const ref = await findMessage(api, mailbox, folderId, id);
    return ref === undefined ? { kind: 'absent' } : { kind: 'found', ref };
  } catch (e) {
    if (e instanceof Throttled) return { kind: 'failed', reason: e.message, ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) };
    if (e instanceof HttpFault || (e instanceof DeliveryError && e.code === 'TARGET_UNAVAILABLE')) return { kind: 'failed', reason: e.message };
    throw e;
  }
}

type Verdict =
  | { readonly kind: 'done'; readonly outcome: DeliveryOutcome }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'throttled'; readonly retryAfterMs: number | undefined; readonly maybeStored: boolean; readonly reason: string }
  | { readonly kind: 'retry'; readonly maybeStored: boolean; readonly reason: string };

/** What an answer to importMime means for the message. */
function judge(answer: Answer, message: OutgoingMessage): Verdict {
  const id = message.messageId;
  if (answer.kind === 'ok') {
    const made = answer.json as { id?: unknown; isDraft?: unknown } | undefined;
    if (typeof made?.id !== 'string') return { kind: 'retry', maybeStored: true, reason: `importMime answered ${answer.status} without a message id` };
    return { kind: 'done', outcome: delivered(id, made.id) };
  }
  const reason = `${answer.status} ${answer.code}: ${answer.message}`;
  // 429 is a refusal; a 503 may come from a front end after the mailbox acted, so it is looked up.
  if (answer.kind === 'throttled') return { kind: 'throttled', retryAfterMs: answer.retryAfterMs, maybeStored: answer.status === 503, reason };
  if (answer.status >= 500) return { kind: 'retry', maybeStored: true, reason };
  // Over the mailbox's own limit (ErrorMessageSizeExceeded, whatever the status) is final; a 413 otherwise is the request's limit.
  if (/SizeExceeded/i.test(answer.code)) {
    return { kind: 'done', outcome: failed(id, 'MESSAGE_TOO_LARGE', `${message.size} octets, over the mailbox's limit: ${reason}`) };
  }
  if (answer.status === 413) return { kind: 'too-large' };
  if (/TooLarge/i.test(answer.code)) {
    return { kind: 'done', outcome: failed(id, 'MESSAGE_TOO_LARGE', `${message.size} octets (${base64Length(message.size)} in base64): ${reason}`) };
  }
  if (/Quota/i.test(answer.code)) return { kind: 'done', outcome: failed(id, 'STORAGE_FULL', reason) };
  return { kind: 'done', outcome: failed(id, 'TARGET_REJECTED', reason) };
}
