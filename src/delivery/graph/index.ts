// The Microsoft 365 target (`--to graph://TENANT`): Exchange Online
// mailboxes through Microsoft Graph, app-only. Each mailbox's folder is found
// or created (folders.ts); each message is imported with importMime so that it
// is stored as delivered, not as a draft (import-mime.ts); the Graph message
// id (an immutable id: Prefer: IdType="ImmutableId",
// https://learn.microsoft.com/en-us/graph/outlook-immutable-id) is the ref.
//
// Throughput: up to the Outlook limits per mailbox (throttle.ts), and as many
// mailboxes at once as the import run sends batches for (`parallelism`).
//
// A message whose base64 body would be over what one Graph request may carry
// goes through `large` (the IMAP target with XOAUTH2 to the same mailbox)
// when one is configured; otherwise it fails with MESSAGE_TOO_LARGE and its
// size. Nothing is truncated.
import { DeliveryError } from '../errors.js';
import { failed, type DeliveryOutcome, type MailboxTarget, type OutgoingMessage } from '../../ports/mailbox-target.js';
import { GraphApi, MailboxUnavailable } from './api.js';
import { FolderIds } from './folders.js';
import { HttpClient, type HttpSettings } from './http.js';
import { base64Length, importMessage, readMessage, REQUEST_TOO_LARGE, type ImportSettings } from './import-mime.js';
import { fetchMessagePage, findMessage, listMessages } from './lookup.js';
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from './retry.js';
import { Gates, OUTLOOK_LIMITS, type OutlookLimits } from './throttle.js';
import { createTokenSource, type GraphCredential, type TokenSource } from './token.js';

export { OUTLOOK_LIMITS, type OutlookLimits } from './throttle.js';
export { createTokenSource, type GraphCredential, type TokenSource, type TokenSettings } from './token.js';
export { HttpClient, type HttpSettings } from './http.js';

/**
 * The largest base64 body sent in one importMime: Graph limits "the total
 * size of each REST request" to 4 MB, headers included
 * (https://learn.microsoft.com/en-us/graph/api/profilephoto-update); the
 * importMime page states no limit of its own. 4,000,000 less room for the
 * request line and headers. A 413 all the same sends the message by the
 * IMAP route.
 */
export const GRAPH_MAX_REQUEST_BYTES = 3_990_000;

export interface GraphTargetOptions {
  readonly tenant: string;
  readonly clientId: string;
  readonly credential: GraphCredential;
  /** Default https://graph.microsoft.com. */
  readonly graphUrl?: string;
  /** Default https://login.microsoftonline.com. */
  readonly loginUrl?: string;
  /** TLS: a private CA (PEM) beside the system's, for a double or a proxy; timeouts. */
  readonly http?: HttpSettings;
  /** A token source to share with the IMAP route (made from the settings above when absent). */
  readonly tokens?: TokenSource;
  readonly limits?: Partial<OutlookLimits>;
  /** Largest base64 body sent in one importMime (default 4 MiB); larger messages go through `large`. */
  readonly maxRequestBytes?: number;
  /** Where larger messages go: the IMAP target with XOAUTH2 to the same mailboxes, made with this target's token source. */
  readonly large?: (tokens: TokenSource) => MailboxTarget;
  readonly retry?: Partial<RetryPolicy>;
  readonly maxThrottled?: number;
  /** MailboxTarget.settleMs (default GRAPH_SETTLE_MS); the IMAP route's, when longer, wins. */
  readonly settleMs?: number;
}

/**
 * A request Exchange Online received whole is carried out whether or not its
 * sender waits: 30 s covers its slow answers under load (the service's
 * timeouts are of that order), after which a message created is found by
 * its internetMessageId.
 */
export const GRAPH_SETTLE_MS = 30_000;

class GraphTarget implements MailboxTarget {
  readonly description: string;
  /** Batches for different mailboxes worth running at once: the limits are per mailbox. */
  readonly parallelism = 256;
  readonly settleMs: number;
  readonly #http: HttpClient;
  readonly #api: GraphApi;
  readonly #folders: FolderIds;
  readonly #import: ImportSettings;
  readonly #maxRequestBytes: number;
  readonly #large: MailboxTarget | undefined;
  readonly #concurrent: number;
  /** Shared with the IMAP route; for tests, how many tokens were obtained. */
  readonly tokens: TokenSource;

  constructor(o: GraphTargetOptions) {
    const graphUrl = (o.graphUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
    const loginUrl = o.loginUrl ?? 'https://login.microsoftonline.com';
    this.description = `graph://${o.tenant} (${graphUrl})`;
    this.#http = new HttpClient(o.http);
    const tokens = o.tokens ?? createTokenSource({ tenant: o.tenant, clientId: o.clientId, loginUrl, credential: o.credential }, this.#http);
    const limits = { ...OUTLOOK_LIMITS, ...o.limits };
    this.#concurrent = limits.concurrent;
    this.#api = new GraphApi({ graphUrl, http: this.#http, tokens, gates: new Gates(limits) });
    this.#folders = new FolderIds(this.#api);
    this.#import = { retry: { ...DEFAULT_RETRY, ...o.retry }, maxThrottled: o.maxThrottled ?? 30 };
    this.#maxRequestBytes = o.maxRequestBytes ?? GRAPH_MAX_REQUEST_BYTES;
    this.#large = o.large?.(tokens);
    this.settleMs = Math.max(o.settleMs ?? GRAPH_SETTLE_MS, this.#large?.settleMs ?? 0);
    this.tokens = tokens;
  }

  async deliverBatch(mailbox: string, folder: string, messages: readonly OutgoingMessage[]): Promise<DeliveryOutcome[]> {
    const outcomes: (DeliveryOutcome | undefined)[] = new Array(messages.length);
    const small: number[] = [];
    const large: number[] = [];
    messages.forEach((m, i) => (base64Length(m.size) > this.#maxRequestBytes ? large : small).push(i));
    try {
      // Both routes at once; each ends before the batch does, whatever the other did.
      const [viaGraph, viaLarge] = await Promise.allSettled([this.#viaGraph(mailbox, folder, messages, small, outcomes), this.#viaLarge(mailbox, folder, messages, large, outcomes)]);
      if (viaGraph.status === 'rejected') throw viaGraph.reason;
      if (viaLarge.status === 'rejected') throw viaLarge.reason;
      await this.#viaLarge(mailbox, folder, messages, viaGraph.value, outcomes);
    } catch (e) {
      if (e instanceof DeliveryError) throw new DeliveryError(e.code, e.detail, { cause: e, partial: outcomes.filter((o) => o !== undefined) });
      throw e;
    }
    return outcomes.map((o, i) => o ?? failed(messages[i]!.messageId, 'TARGET_UNAVAILABLE', 'not attempted'));
  }

  /** Imports by Graph; returns the messages Graph refused as too large for one request (413), for the IMAP route. */
  async #viaGraph(mailbox: string, folder: string, messages: readonly OutgoingMessage[], indexes: readonly number[], outcomes: (DeliveryOutcome | undefined)[]): Promise<number[]> {
    const refused: number[] = [];
    if (indexes.length === 0) return refused;
    let folderId: string;
    try {
      folderId = (await withRetries(this.#import.retry, `the folder ${folder} of ${mailbox}`, () => this.#folders.resolve(mailbox, folder, true)))!;
    } catch (e) {
      if (!(e instanceof MailboxUnavailable)) throw e;
      for (const i of indexes) outcomes[i] = failed(messages[i]!.messageId, 'MAILBOX_NOT_FOUND', e.reason);
      return refused;
    }
    // As many workers as the mailbox may have requests in flight; the gate keeps them within the limits.
    let next = 0;
    let unavailable: MailboxUnavailable | undefined;
    let stop = false; // a worker met a fault of the whole target: the others take no new message
    const worker = async (): Promise<void> => {
      while (next < indexes.length && !stop) {
        const i = indexes[next++]!;
        const m = messages[i]!;
        if (Number.isNaN(m.internalDate.getTime())) {
          outcomes[i] = failed(m.messageId, 'MESSAGE_INVALID', `${m.messageId}: its internal date is not a date`);
          continue;
        }
        if (unavailable) {
          outcomes[i] = failed(m.messageId, 'MAILBOX_NOT_FOUND', unavailable.reason);
          continue;
        }
        try {
          const body = (await readMessage(m)).toString('base64');
          const outcome = await importMessage(this.#api, this.#import, mailbox, folderId, m, body);
          if (outcome === REQUEST_TOO_LARGE) refused.push(i);
          else outcomes[i] = outcome;
        } catch (e) {
          if (e instanceof MailboxUnavailable) {
            unavailable = e;
            outcomes[i] = failed(m.messageId, 'MAILBOX_NOT_FOUND', e.reason);
          } else if (e instanceof DeliveryError && e.code === 'MESSAGE_INVALID') outcomes[i] = failed(m.messageId, e.code, e.detail ?? e.message);
          else {
            stop = true;
            throw e;
          }
        }
      }
    };
    // Every worker ends before the batch does: none goes on sending after the batch has been given up.
    const ends = await Promise.allSettled(Array.from({ length: Math.min(this.#concurrent, indexes.length) }, worker));
    const fault = ends.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (fault) throw fault.reason;
    return refused;
  }

  async #viaLarge(mailbox: string, folder: string, messages: readonly OutgoingMessage[], indexes: readonly number[], outcomes: (DeliveryOutcome | undefined)[]): Promise<void> {
    if (indexes.length === 0) return;
    if (!this.#large) {
      for (const i of indexes) {
        const m = messages[i]!;
        outcomes[i] = failed(m.messageId, 'MESSAGE_TOO_LARGE', `${m.size} octets: its base64 (${base64Length(m.size)}) is over what one Graph request may carry (${this.#maxRequestBytes}), and no IMAP route is configured for larger messages (XIP_GRAPH_IMAP_URL)`);
      }
      return;
    }
    const got = await this.#large.deliverBatch(mailbox, folder, indexes.map((i) => messages[i]!));
    got.forEach((o, k) => (outcomes[indexes[k]!] = o));
  }

  async findExisting(mailbox: string, folder: string, messageIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (messageIds.length === 0) return found;
    const folderId = await this.#existingFolder(mailbox, folder);
    if (folderId !== undefined) {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < messageIds.length) {
          const id = messageIds[next++]!;
          const hit = await withRetries(this.#import.retry, `looking up ${id} in ${mailbox}`, () => findMessage(this.#api, mailbox, folderId, id));
          if (hit !== undefined) found.set(id, hit);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#concurrent, messageIds.length) }, worker));
    }
    // Messages sent by the IMAP route are in the same Exchange folder, so Graph sees them; a separate store (a test's) is asked too.
    const rest = messageIds.filter((id) => !found.has(id));
    if (this.#large && rest.length > 0) for (const [id, ref] of await this.#large.findExisting(mailbox, folder, rest)) found.set(id, ref);
    return found;
  }

  async listExisting(mailbox: string, folder: string): Promise<Map<string, string>> {
    const folderId = await this.#existingFolder(mailbox, folder);
    if (folderId === undefined) return new Map();
    try {
      return await listMessages(this.#api, mailbox, folderId, (url) => withRetries(this.#import.retry, `listing ${folder} of ${mailbox}`, () => fetchMessagePage(this.#api, mailbox, url)));
    } catch (e) {
      if (e instanceof MailboxUnavailable) return new Map();
      throw e;
    }
  }

  /** The folder's id when it exists; a mailbox that cannot be reached holds nothing we could see. */
  async #existingFolder(mailbox: string, folder: string): Promise<string | undefined> {
    try {
      return await withRetries(this.#import.retry, `the folder ${folder} of ${mailbox}`, () => this.#folders.resolve(mailbox, folder, false));
    } catch (e) {
      if (e instanceof MailboxUnavailable) return undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.#http.close();
    await this.#large?.close();
  }
}

export function createGraphTarget(options: GraphTargetOptions): MailboxTarget & { readonly tokens: TokenSource } {
  return new GraphTarget(options);
}
