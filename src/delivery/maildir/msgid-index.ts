// An index of the Message-IDs in one Maildir folder, so that with the ledger
// lost the folder itself says what it holds (MailboxTarget.findExisting).
//
// The file `xip-msgid-index` inside the folder is only a cache: a line
// "<base name>\t<Message-ID>" per message file. The folder's cur/ and new/
// listings are the truth. Every lookup lists them, reads the header of each
// file the index does not know yet (one written by Dovecot, or by us just
// before a crash that came between the rename and the index write), and
// forgets the files that are gone (expunged). So the index is never trusted
// for what it claims, only used to avoid reading headers again. Dovecot
// ignores the file: it reads only cur/, new/ and its own files.
import { appendFile, open, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { baseOf } from './filename.js';
import { parseMessageId } from '../../message/message-id.js';
import { readMessageId } from './header.js';

export const INDEX_FILE = 'xip-msgid-index';
// Version 2: Message-IDs are the normalised form of message/message-id.ts;
// a version-1 file recorded some legal forms as "none", so it is rebuilt.
const INDEX_HEADER = 'xip-msgid-index\t2';
const HEADER_READS_IN_FLIGHT = 8;
/** What the index records as a Message-ID: a normalised one (quoted local parts may hold spaces), on one line; anything else is recorded as none. */
const MESSAGE_ID = { test: (id: string): boolean => !/[\t\r\n]/.test(id) && parseMessageId(id) === id };

interface Entry {
  messageId: string; // "" when the message has none
  sub: 'cur' | 'new';
  name: string; // the current file name, with its info part
}

export interface DeliveredFile {
  readonly messageId: string;
  readonly name: string; // in cur/
}

export class MessageIdIndex {
  private readonly entries = new Map<string, Entry>(); // by base name
  private byId = new Map<string, string>(); // Message-ID -> base name
  private loaded = false;
  private fileHasHeader = false;
  private fileChecked = false;
  private queue: Promise<unknown> = Promise.resolve();

  /** `dir` is the folder's Maildir; `relative` its name under the mailbox directory ("" for INBOX), the first part of a ref. */
  constructor(
    private readonly dir: string,
    private readonly relative: string,
  ) {}

  /** The ref of every given Message-ID present in the folder. */
  lookup(messageIds: readonly string[]): Promise<Map<string, string>> {
    return this.serial(async () => {
      await this.refresh();
      const found = new Map<string, string>();
      for (const id of messageIds) {
        const base = this.byId.get(id);
        const entry = base === undefined ? undefined : this.entries.get(base);
        if (entry) found.set(id, this.refOf(entry));
      }
      return found;
    });
  }

  /**
   * The ref of every Message-ID in the folder. The caller keeps the answer, so
   * the index lets go of its own copy (the file still has it): an import that
   * lists a folder once and then writes 100,000 messages into it need not
   * hold them all twice.
   */
  all(): Promise<Map<string, string>> {
    return this.serial(async () => {
      await this.refresh();
      const found = new Map<string, string>();
      for (const [id, base] of this.byId) {
        const entry = this.entries.get(base);
        if (entry) found.set(id, this.refOf(entry));
      }
      this.entries.clear();
      this.byId = new Map();
      this.loaded = false;
      return found;
    });
  }

  /** Records files this process just renamed into cur/ (after their directory was fsync'd). */
  recordDelivered(files: readonly DeliveredFile[]): Promise<void> {
    if (files.length === 0) return Promise.resolve();
    return this.serial(async () => {
      // Kept in memory only once a lookup has listed the folder; until then the
      // file alone remembers them (a plain import never looks up, and need not
      // hold every Message-ID it wrote).
      if (this.loaded) for (const f of files) this.add(baseOf(f.name), { messageId: f.messageId, sub: 'cur', name: f.name });
      if (!this.fileChecked) {
        this.fileHasHeader = await this.hasValidFile();
        this.fileChecked = true;
      }
      if (!this.fileHasHeader) {
        await this.persist(); // the header, and what memory holds (these files too, once loaded)
        if (this.loaded) return;
      }
      const lines = files.map((f) => `${baseOf(f.name)}\t${MESSAGE_ID.test(f.messageId) ? f.messageId : ''}\n`).join('');
      await appendFile(join(this.dir, INDEX_FILE), lines);
    });
  }

  refOf(entry: { sub: string; name: string }): string {
    return this.relative === '' ? `${entry.sub}/${entry.name}` : `${this.relative}/${entry.sub}/${entry.name}`;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private add(base: string, entry: Entry): void {
    this.entries.set(base, entry);
    if (entry.messageId && !this.byId.has(entry.messageId)) this.byId.set(entry.messageId, base);
  }

  private async load(): Promise<Map<string, string>> {
    const cached = new Map<string, string>();
    let text: string;
    try {
      text = await readFile(join(this.dir, INDEX_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return cached;
      throw e;
    }
    const lines = text.split('\n');
    if (lines[0] !== INDEX_HEADER) return cached; // not ours, or from another version: rebuilt
    this.fileHasHeader = true;
    this.fileChecked = true;
    // The last segment is "" after a final newline, or a line cut short by a
    // crash or a full disk: it is never trusted. Nor is a line that does not
    // read as "<base>\t<Message-ID or nothing>".
    for (const line of lines.slice(1, -1)) {
      const tab = line.indexOf('\t');
      const id = line.slice(tab + 1);
      if (tab > 0 && (id === '' || MESSAGE_ID.test(id))) cached.set(line.slice(0, tab), id);
    }
    return cached;
  }

  private async hasValidFile(): Promise<boolean> {
    let fh;
    try {
      fh = await open(join(this.dir, INDEX_FILE), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    try {
      const buf = Buffer.alloc(INDEX_HEADER.length + 1);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead).toString('utf8') === INDEX_HEADER + '\n';
    } finally {
      await fh.close();
    }
  }

  private async listing(): Promise<Map<string, { sub: 'cur' | 'new'; name: string }>> {
    const files = new Map<string, { sub: 'cur' | 'new'; name: string }>();
    for (const sub of ['new', 'cur'] as const) {
      let names: string[];
      try {
        names = await readdir(join(this.dir, sub));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      for (const name of names) if (!name.startsWith('.')) files.set(baseOf(name), { sub, name });
    }
    return files;
  }

  private async refresh(): Promise<void> {
    const known = new Map<string, string>();
    if (!this.loaded) {
      for (const [base, id] of await this.load()) known.set(base, id);
    }
    for (const [base, e] of this.entries) known.set(base, e.messageId);
    const files = await this.listing();
    let changed = !this.loaded;
    const unknown: [string, { sub: 'cur' | 'new'; name: string }][] = [];
    this.entries.clear();
    this.byId = new Map();
    for (const [base, file] of files) {
      const id = known.get(base);
      if (id === undefined) unknown.push([base, file]);
      else this.add(base, { messageId: id, ...file });
    }
    if (known.size !== this.entries.size) changed = true; // files went away
    let next = 0;
    const readOne = async (): Promise<void> => {
      while (next < unknown.length) {
        const [base, file] = unknown[next++]!;
        let id: string | undefined;
        try {
          id = await readMessageId(join(this.dir, file.sub, file.name));
        } catch (e) {
          // Moved between new/ and cur/ or expunged since the listing: the next lookup sees it again.
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw e;
        }
        this.add(base, { messageId: id ?? '', ...file });
        changed = true;
      }
    };
    await Promise.all(Array.from({ length: HEADER_READS_IN_FLIGHT }, readOne));
    this.loaded = true;
    if (changed) await this.persist();
  }

  private async persist(): Promise<void> {
    const lines = [INDEX_HEADER];
    for (const [base, e] of this.entries) lines.push(`${base}\t${MESSAGE_ID.test(e.messageId) ? e.messageId : ''}`);
    const path = join(this.dir, INDEX_FILE);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, lines.join('\n') + '\n');
    await rename(tmp, path); // a cache: no fsync, a crash at worst loses work
    this.fileHasHeader = true;
    this.fileChecked = true;
  }
}
