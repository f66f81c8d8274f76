// One logged-in IMAP connection acting for one mailbox, with what it knows of
// that mailbox's folders. Commands on it are serialised by lock(): imapflow
// queues commands itself, but a delivery is a sequence of commands (CREATE,
// APPEND…, EXAMINE, SEARCH) that must not interleave with another's.
import type { ImapFlow } from 'imapflow';
import { normalizePath } from 'imapflow/lib/tools.js';
import { DeliveryError } from '../errors.js';
import { folderParts } from '../folder.js';
import { createFolder } from './create.js';
import { examine } from './examine.js';
import { connectionOf, type ImapConnection } from './internals.js';
import type { LiteralSupport } from './multiappend.js';
import { listMessageIds, searchMessageIds } from './search.js';

export class MailboxSession {
  readonly conn: ImapConnection;
  private readonly created = new Set<string>();
  private tail: Promise<void> = Promise.resolve();
  private closed = false;
  lastUsed = Date.now();
  busy = 0;

  constructor(
    readonly client: ImapFlow,
    readonly mailbox: string,
  ) {
    this.conn = connectionOf(client);
    client.on('close', () => {
      this.closed = true;
    });
  }

  get usable(): boolean {
    return !this.closed && this.client.usable;
  }

  /** Waits for the commands of earlier holders; call the returned function to let the next one in. */
  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const prior = this.tail;
    this.tail = prior.then(() => next);
    this.busy++;
    await prior;
    return () => {
      this.busy--;
      this.lastUsed = Date.now();
      release();
    };
  }

  /** The folder setting ("Inbox/XIP") as this server's path (its separator and namespace prefix). */
  folderPath(folder: string): string {
    const delimiter = this.client.namespace?.delimiter || '/';
    const parts = folderParts(folder);
    for (const part of parts) {
      if (part.includes(delimiter)) {
        throw new DeliveryError('FOLDER_INVALID', `folder "${folder}": the part "${part}" holds the server's hierarchy separator "${delimiter}"`);
      }
    }
    return normalizePath(this.client, parts.join(delimiter));
  }

  /** CREATE the folder unless this session did already; its path. */
  async ensureFolder(folder: string): Promise<string> {
    const path = this.folderPath(folder);
    if (!this.created.has(path)) {
      await createFolder(this.client, path);
      this.created.add(path);
    }
    return path;
  }

  /** Forget that the folder exists (it was deleted under us: the next ensureFolder creates it again). */
  forgetFolder(path: string): void {
    this.created.delete(path);
  }

  /** EXAMINE the folder; its UIDVALIDITY, or undefined when it does not exist. */
  examine(path: string): Promise<string | undefined> {
    return examine(this.client, path);
  }

  /** UIDs of the Message-IDs present in the folder examined last. */
  search(messageIds: readonly string[]): Promise<Map<string, number>> {
    return searchMessageIds(this.client, messageIds);
  }

  /** UIDs of every Message-ID in the folder examined last. */
  listAll(): Promise<Map<string, number>> {
    return listMessageIds(this.client);
  }

  /** APPENDLIMIT (RFC 7889) when the server announced one for all folders. */
  get appendLimit(): number | undefined {
    const limit = this.client.capabilities.get('APPENDLIMIT');
    // A bare APPENDLIMIT (imapflow reads it as 0) means "per folder, ask STATUS": not used up front.
    return typeof limit === 'number' && limit > 0 ? limit : undefined;
  }

  get offersMultiAppend(): boolean {
    return this.client.capabilities.has('MULTIAPPEND');
  }

  get literals(): LiteralSupport {
    const caps = this.client.capabilities;
    return { literalPlus: caps.has('LITERAL+'), literalMinus: caps.has('LITERAL-') || caps.has('IMAP4rev2') };
  }

  async close(): Promise<void> {
    if (!this.usable) {
      this.client.close();
      return;
    }
    const timer = setTimeout(() => this.client.close(), 5000);
    try {
      await this.client.logout();
    } catch {
      this.client.close(); // LOGOUT is a courtesy; the connection is closed either way
    } finally {
      clearTimeout(timer);
    }
  }
}
