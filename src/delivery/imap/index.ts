// The IMAP target (`--to imap://USER@HOST:PORT`, `imaps://…`): USER is an
// administrative identity allowed to act for every mailbox (authenticate.ts),
// with one connection per mailbox, kept for the mailbox's next batches (at
// most `maxSessions` at once, the least recently used closed first).
// The folder is created when missing; messages go in pipelined MULTIAPPEND
// commands where offered (deliver.ts, multiappend.ts).
// With auth 'oauth2-app' (oauth2.ts) there is no administrative identity:
// each mailbox is logged into as itself with an application's OAuth 2.0
// token (Exchange Online's app-only access), taken from `accessToken` at
// each login.
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'imapflow';
import { DeliveryError } from '../errors.js';
import type { DeliveryOutcome, MailboxTarget, OutgoingMessage } from '../port.js';
import { authenticate, LoginRefused, type AuthMode, type ConnectSettings } from './authenticate.js';
import { deliverToMailbox, isConnectionFault, MailboxUnavailable, type DeliverSettings, type SessionSource } from './deliver.js';
import { describe, isRefusal } from './faults.js';
import { fetchAccessToken, type AccessTokenSource } from './oauth2.js';
import { backoffDelay, DEFAULT_RETRY, sleep, type RetryPolicy } from './retry.js';
import { MailboxSession } from './session.js';
import { parseImapUrl } from './url.js';

export type { AuthMode } from './authenticate.js';

export interface ImapTargetOptions {
  /** imap://USER@HOST:PORT or imaps://USER@HOST:PORT (url.ts); with 'oauth2-app' USER may be left out. */
  readonly url: string;
  /** The administrative identity's password (XIP_IMAP_PASSWORD); required except with 'oauth2-app', which ignores it. */
  readonly password?: string;
  /**
   * For 'oauth2-app': the application's access token, asked for at each new
   * login (so that one after expiry gets a renewed token); the caller caches
   * and renews. What it throws is TARGET_AUTH_FAILED.
   */
  readonly accessToken?: AccessTokenSource;
  /** TLS options for imaps:// and STARTTLS (ca, servername, rejectUnauthorized…). */
  readonly tls?: ConnectionOptions;
  /** STARTTLS for imap://: 'required', 'never', or 'when-offered' (default, imapflow's). */
  readonly starttls?: 'required' | 'never' | 'when-offered';
  /** How to act for a mailbox (authenticate.ts); default from the URL, else 'auto' (never 'oauth2-app'). */
  readonly auth?: AuthMode | 'auto';
  /** Dovecot's auth_master_user_separator, for 'master-user' (default "*"). */
  readonly masterSeparator?: string;
  /** Most messages in one APPEND command (default 500). */
  readonly batchSize?: number;
  /** Most message octets in one APPEND command (default 32 MiB). */
  readonly maxCommandBytes?: number;
  /** 'off' forces one APPEND per message (default 'auto': MULTIAPPEND when offered). */
  readonly multiAppend?: 'auto' | 'off';
  /** Connections kept open at once, one per mailbox (default 8). */
  readonly maxSessions?: number;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * How long the server may still be storing a command received whole after
   * its sender went away (default 5 s; MailboxTarget.settleMs): waited before
   * the messages of an interrupted command are looked up.
   */
  readonly settleMs?: number;
  readonly connectTimeoutMs?: number;
  readonly socketTimeoutMs?: number;
  /** imapflow's logger (pino-compatible); every command line is logged at debug level. Default: none. */
  readonly logger?: Logger | false;
}

/**
 * A server stores a MULTIAPPEND it received whole within milliseconds when
 * well; seconds under load. 5 s is an order of magnitude above what Dovecot
 * took on a loaded two-core machine (docs/operations.md).
 */
export const DEFAULT_SETTLE_MS = 5_000;

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`createImapTarget: ${name} must be a positive integer, got ${value}`);
  return value;
}

class ImapTarget implements MailboxTarget, SessionSource {
  readonly description: string;
  readonly settleMs: number;
  private readonly connect: ConnectSettings;
  private readonly authOption: AuthMode | 'auto';
  private readonly accessToken: AccessTokenSource | undefined;
  private readonly settings: DeliverSettings;
  private readonly maxSessions: number;
  private readonly opening = new Map<string, Promise<MailboxSession>>();
  private readonly open = new Map<string, MailboxSession>();
  /** Decided by the first successful login when authOption is 'auto'. */
  private mode: AuthMode | undefined;
  /** The admin's credentials worked at least once: a later refusal is about the mailbox. */
  private adminVerified = false;
  /**
   * Mailboxes refused at login, with why: not tried again by this target (a
   * run). Each refused login costs a server like Dovecot an auth penalty that
   * slows every later login from this address.
   */
  private readonly refused = new Map<string, string>();
  private closed = false;

  constructor(options: ImapTargetOptions) {
    let address;
    try {
      address = parseImapUrl(options.url, options.auth);
    } catch (e) {
      throw new TypeError(`createImapTarget: ${(e as Error).message}`);
    }
    this.authOption = options.auth ?? address.auth ?? 'auto';
    this.accessToken = options.accessToken;
    if (this.authOption === 'oauth2-app') {
      if (typeof options.accessToken !== 'function') throw new TypeError('createImapTarget: auth oauth2-app needs accessToken, the source of the app\'s token');
    } else if (!options.password) throw new TypeError('createImapTarget: password is required');
    this.description = address.description;
    const starttls = options.starttls ?? address.starttls;
    this.connect = {
      host: address.host,
      port: address.port,
      secure: address.secure,
      tls: options.tls,
      doSTARTTLS: starttls === 'required' ? true : starttls === 'never' ? false : undefined,
      user: address.user,
      password: options.password ?? '',
      masterSeparator: options.masterSeparator ?? '*',
      logger: options.logger ?? false,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      socketTimeoutMs: options.socketTimeoutMs ?? 5 * 60_000,
    };
    this.settings = {
      batchSize: positive('batchSize', options.batchSize ?? 500),
      maxCommandBytes: positive('maxCommandBytes', options.maxCommandBytes ?? 32 * 1024 * 1024),
      multiAppend: options.multiAppend ?? 'auto',
      retry: { ...DEFAULT_RETRY, ...options.retry },
      settleMs: options.settleMs ?? DEFAULT_SETTLE_MS,
    };
    if (!(Number.isInteger(this.settings.settleMs) && this.settings.settleMs >= 0)) throw new TypeError(`createImapTarget: settleMs must be a whole number of ms, got ${options.settleMs}`);
    this.settleMs = this.settings.settleMs;
    this.maxSessions = positive('maxSessions', options.maxSessions ?? 8);
  }

  deliverBatch(mailbox: string, folder: string, messages: readonly OutgoingMessage[]): Promise<DeliveryOutcome[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return deliverToMailbox(this, this.settings, mailbox, folder, messages);
  }

  findExisting(mailbox: string, folder: string, messageIds: readonly string[]): Promise<Map<string, string>> {
    if (messageIds.length === 0) return Promise.resolve(new Map());
    return this.readFolder(mailbox, folder, 'searching', (session) => session.search(messageIds));
  }

  listExisting(mailbox: string, folder: string): Promise<Map<string, string>> {
    return this.readFolder(mailbox, folder, 'listing', (session) => session.listAll());
  }

  /** Examines the folder and reads Message-ID → UID from it, retrying connection faults; refs are "uidvalidity:uid". */
  private async readFolder(mailbox: string, folder: string, what: string, read: (session: MailboxSession) => Promise<Map<string, number>>): Promise<Map<string, string>> {
    const refs = new Map<string, string>();
    for (let faults = 0; ; ) {
      let held: { session: MailboxSession; release: () => void } | undefined;
      try {
        held = await this.acquire(mailbox);
        const validity = await held.session.examine(held.session.folderPath(folder));
        if (validity === undefined) return refs; // no folder, nothing in it
        for (const [id, uid] of await read(held.session)) refs.set(id, `${validity}:${uid}`);
        return refs;
      } catch (e) {
        if (e instanceof MailboxUnavailable) return refs; // the mailbox holds nothing we could see
        if (isRefusal(e)) throw new DeliveryError('TARGET_REJECTED', `${what} ${mailbox}: ${describe(e)}`, { cause: e });
        if (!isConnectionFault(e)) throw e;
        if (held) this.discard(held.session);
        if (++faults > this.settings.retry.retries) {
          throw new DeliveryError('TARGET_UNAVAILABLE', `${faults} connection faults in a row ${what} ${mailbox}; last: ${describe(e)}`, { cause: e });
        }
        await sleep(backoffDelay(this.settings.retry, faults));
      } finally {
        held?.release();
      }
    }
  }

  async acquire(mailbox: string): Promise<{ session: MailboxSession; release: () => void }> {
    if (this.closed) throw new DeliveryError('TARGET_UNAVAILABLE', 'the target was closed');
    const key = mailbox.toLowerCase();
    let opening = this.opening.get(key);
    const current = this.open.get(key);
    if (current && !current.usable) {
      this.discard(current); // its connection is gone: log in again
      opening = undefined;
    }
    if (!opening) {
      opening = this.login(mailbox);
      this.opening.set(key, opening);
      opening.then(
        (s) => this.open.set(key, s),
        () => {
          if (this.opening.get(key) === opening) this.opening.delete(key);
        },
      );
    }
    const session = await opening;
    const release = await session.lock();
    await this.evict(session);
    return { session, release };
  }

  discard(session: MailboxSession): void {
    const key = session.mailbox.toLowerCase();
    if (this.open.get(key) === session) {
      this.open.delete(key);
      this.opening.delete(key);
    }
    session.client.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    const sessions = [...this.open.values()];
    this.open.clear();
    this.opening.clear();
    await Promise.all(sessions.map((s) => s.close()));
  }

  private async login(mailbox: string): Promise<MailboxSession> {
    const known = this.refused.get(mailbox.toLowerCase());
    if (known !== undefined) throw new MailboxUnavailable('MAILBOX_NOT_FOUND', known);
    const mode = this.mode ?? (this.authOption === 'auto' ? 'sasl-plain' : this.authOption);
    try {
      const token = mode === 'oauth2-app' ? await fetchAccessToken(this.accessToken, `${this.description} acting for ${mailbox}`) : undefined;
      const client = await authenticate(this.connect, mailbox, mode, token);
      this.mode ??= mode;
      this.adminVerified = true;
      return new MailboxSession(client, mailbox);
    } catch (e) {
      if (!(e instanceof LoginRefused)) throw e;
      if (this.authOption === 'auto' && this.mode === undefined && mode === 'sasl-plain' && !e.plainOffered) {
        this.mode = 'master-user'; // no SASL PLAIN on offer: Dovecot's master-user login
        return this.login(mailbox);
      }
      // With 'oauth2-app' too: a token refused before any login worked is the
      // app's credentials; once one worked, a refusal is about the mailbox (the
      // app may not open it, e.g. an application access policy, or no such mailbox).
      if (e.responseCode === 'AUTHORIZATIONFAILED' || this.adminVerified) {
        const who = mode === 'oauth2-app' ? "the application's token" : this.connect.user;
        const reason = `the server refused ${who} acting for ${mailbox}: ${e.message}`;
        this.refused.set(mailbox.toLowerCase(), reason);
        throw new MailboxUnavailable('MAILBOX_NOT_FOUND', reason);
      }
      throw new DeliveryError('TARGET_AUTH_FAILED', `${this.description} acting for ${mailbox} (${mode}): ${e.message}`, { cause: e });
    }
  }

  /** Closes the least recently used idle sessions beyond maxSessions. */
  private async evict(keep: MailboxSession): Promise<void> {
    if (this.open.size <= this.maxSessions) return;
    const idle = [...this.open.values()].filter((s) => s !== keep && s.busy === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    const surplus = idle.slice(0, this.open.size - this.maxSessions);
    for (const s of surplus) {
      this.open.delete(s.mailbox.toLowerCase());
      this.opening.delete(s.mailbox.toLowerCase());
    }
    await Promise.all(surplus.map((s) => s.close()));
  }
}

export function createImapTarget(options: ImapTargetOptions): MailboxTarget {
  return new ImapTarget(options);
}
