// The Maildir target, the embedded default (`--to maildir:ROOT`): each mailbox
// is ROOT/<address>/ in Dovecot's Maildir++ layout (layout.ts), so that Dovecot
// configured with `mail_location = maildir:ROOT/%u` serves it as it is.
//
// Run the connector as the user Dovecot accesses the mail as (its mail_uid,
// often "vmail"): files are created 0600 and directories 0700, as Dovecot does.
//
// A mailbox that does not exist is created: for Maildir the directory (the
// caller's mapping) decides which mailboxes exist, not the target. That is the
// caller's concern; this target only refuses an address that cannot be a
// directory name.
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DeliveryError, failed } from '../errors.js';
import type { DeliveryOutcome, MailboxTarget, OutgoingMessage } from '../port.js';
import { maildirHost } from './filename.js';
import { folderPaths, mailboxDirName, type FolderPaths } from './layout.js';
import { MessageIdIndex } from './msgid-index.js';
import { codeOfFsError, fsyncDir, writeBatch } from './write.js';

export interface MaildirTargetOptions {
  readonly root: string;
  /** Files written or fsync'd at the same time (default 8). */
  readonly concurrency?: number;
  /** Files of a batch held open at once (default 256). */
  readonly sliceSize?: number;
  /** The host part of file names (default: this host's name). */
  readonly host?: string;
  /**
   * fsync files and directories (default true). Turning it off makes a
   * delivered batch not durable: only for throwaway targets such as a bench's
   * source tree.
   */
  readonly fsync?: boolean;
  /**
   * Test-only seam, not for production: replaces the fsync of a directory,
   * so that a test can make the fsync of cur/ fail after the renames — a
   * fault a real disk cannot be made to show on demand (an fsync that fails
   * takes a failing device). Used by maildir-target.test.ts and the contract
   * suite; unset, the real fsync runs.
   */
  readonly testSeams?: { readonly fsyncDir?: (path: string) => Promise<void> };
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** mkdir that says whether it made the directory. */
async function makeDir(path: string): Promise<boolean> {
  try {
    await mkdir(path, { mode: 0o700 });
    return true;
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw e;
  }
}

class MaildirTarget implements MailboxTarget {
  readonly description: string;
  /** A message is written and renamed by the run's own process: nothing of a dead run lands later. */
  readonly settleMs = 0;
  private readonly root: string;
  private readonly ready = new Map<string, Promise<void>>();
  private readonly indexes = new Map<string, MessageIdIndex>();
  private readonly host: string;
  private readonly concurrency: number;
  private readonly sliceSize: number;
  private readonly fsync: boolean;
  private readonly syncDir: (path: string) => Promise<void>;

  constructor(options: MaildirTargetOptions) {
    if (!options.root) throw new TypeError('createMaildirTarget: root is required');
    this.root = resolve(options.root);
    this.description = `maildir:${this.root}`;
    this.host = maildirHost(options.host);
    this.concurrency = options.concurrency ?? 8;
    this.sliceSize = options.sliceSize ?? 256;
    this.fsync = options.fsync ?? true;
    this.syncDir = options.testSeams?.fsyncDir ?? fsyncDir;
    if (!(this.concurrency >= 1 && this.sliceSize >= 1)) throw new TypeError('createMaildirTarget: concurrency and sliceSize must be at least 1');
  }

  findExisting(mailbox: string, folder: string, messageIds: readonly string[]): Promise<Map<string, string>> {
    if (messageIds.length === 0) return Promise.resolve(new Map());
    return this.readIndex(mailbox, folder, (index) => index.lookup(messageIds));
  }

  listExisting(mailbox: string, folder: string): Promise<Map<string, string>> {
    return this.readIndex(mailbox, folder, (index) => index.all());
  }

  private async readIndex(mailbox: string, folder: string, read: (index: MessageIdIndex) => Promise<Map<string, string>>): Promise<Map<string, string>> {
    const dirName = mailboxDirName(mailbox);
    if (dirName === undefined) return new Map();
    const paths = folderPaths(this.root, dirName, folder);
    try {
      await stat(join(paths.dir, 'cur'));
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return new Map();
      throw new DeliveryError('TARGET_UNAVAILABLE', `${paths.dir}: ${(e as Error).message}`, { cause: e });
    }
    try {
      return await read(this.indexOf(paths));
    } catch (e) {
      throw new DeliveryError('TARGET_UNAVAILABLE', `reading the messages of ${paths.dir}: ${(e as Error).message}`, { cause: e });
    }
  }

  async deliverBatch(mailbox: string, folder: string, messages: readonly OutgoingMessage[]): Promise<DeliveryOutcome[]> {
    if (messages.length === 0) return [];
    const dirName = mailboxDirName(mailbox);
    if (dirName === undefined) {
      return messages.map((m) => failed(m.messageId, 'MAILBOX_NOT_FOUND', `"${mailbox}" cannot be a Maildir directory name`));
    }
    const paths = folderPaths(this.root, dirName, folder); // throws FOLDER_INVALID
    try {
      await this.ensureFolder(paths);
    } catch (e) {
      const code = codeOfFsError(e);
      if (code === 'STORAGE_FULL') return messages.map((m) => failed(m.messageId, code, `creating ${paths.dir}: ${(e as Error).message}`));
      throw new DeliveryError('TARGET_UNAVAILABLE', `creating ${paths.dir}: ${(e as Error).message}`, { cause: e });
    }
    const { outcomes, delivered } = await writeBatch(paths.dir, paths.relative, messages, {
      host: this.host,
      concurrency: this.concurrency,
      sliceSize: this.sliceSize,
      fsync: this.fsync,
      syncDir: this.syncDir,
    });
    try {
      await this.indexOf(paths).recordDelivered(delivered);
    } catch {
      // Handled by design: the index is a cache (msgid-index.ts). The files
      // are delivered and durable; the next lookup reads their headers again.
    }
    return outcomes;
  }

  async close(): Promise<void> {
    this.ready.clear();
    this.indexes.clear();
  }

  private indexOf(paths: FolderPaths): MessageIdIndex {
    let index = this.indexes.get(paths.dir);
    if (!index) {
      index = new MessageIdIndex(paths.dir, paths.relative);
      this.indexes.set(paths.dir, index);
    }
    return index;
  }

  /** Creates ROOT, the mailbox's Maildir and the folder's, once per target; fsyncs each directory that got a new entry. */
  private ensureFolder(paths: FolderPaths): Promise<void> {
    let ready = this.ready.get(paths.dir);
    if (!ready) {
      ready = this.createFolder(paths);
      this.ready.set(paths.dir, ready);
      ready.catch(() => this.ready.delete(paths.dir)); // tried again by the next batch
    }
    return ready;
  }

  private async createFolder(paths: FolderPaths): Promise<void> {
    const changed = new Set<string>();
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    if (await makeDir(paths.mailboxDir)) changed.add(dirname(paths.mailboxDir));
    const maildirs = paths.dir === paths.mailboxDir ? [paths.mailboxDir] : [paths.mailboxDir, paths.dir];
    for (const dir of maildirs) {
      if (dir !== paths.mailboxDir && (await makeDir(dir))) changed.add(paths.mailboxDir);
      for (const sub of ['cur', 'new', 'tmp']) if (await makeDir(join(dir, sub))) changed.add(dir);
    }
    if (paths.dir !== paths.mailboxDir) {
      // Maildir++: a folder is marked by an empty `maildirfolder` file.
      const fh = await open(join(paths.dir, 'maildirfolder'), 'a', 0o600);
      await fh.close();
      changed.add(paths.dir);
    }
    if (this.fsync) for (const dir of changed) await this.syncDir(dir);
  }
}

export function createMaildirTarget(options: MaildirTargetOptions): MailboxTarget {
  return new MaildirTarget(options);
}
