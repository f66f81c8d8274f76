// The Maildir target on disk: Dovecot's Maildir++ layout, file names and
// times, the Message-ID index and its recovery, the faults of a full disk and
// of a message that breaks its declared size.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { testMessage, testMessages } from '../../../test/support/messages.js';
import { isDeliveryError } from '../errors.js';
import type { OutgoingMessage } from '../port.js';
import { createMaildirTarget } from './index.js';
import { folderDirName, mailboxDirName } from './layout.js';
import { INDEX_FILE } from './msgid-index.js';
import { decodeMutf7, encodeMutf7 } from './mutf7.js';

const NAME = /^(\d+)\.M(\d+)P(\d+)Q(\d+)\.[^,/:]+,S=(\d+):2,S$/;

describe('Maildir++ names', () => {
  it('encodes folder names in modified UTF-7 as RFC 3501 and Dovecot do', () => {
    assert.equal(encodeMutf7('台北'), '&U,BTFw-');
    assert.equal(encodeMutf7('日本語'), '&ZeVnLIqe-');
    assert.equal(encodeMutf7('Überwachung & Co'), '&ANw-berwachung &- Co');
    assert.equal(encodeMutf7('XIP'), 'XIP');
    for (const name of ['台北', 'Überwachung & Co', 'a😀b', '&&']) assert.equal(decodeMutf7(encodeMutf7(name)), name);
  });

  it('maps the folder setting to its directory: "/" to ".", INBOX case-insensitive, INBOX itself the mailbox directory', () => {
    assert.equal(folderDirName('Inbox/XIP'), '.INBOX.XIP');
    assert.equal(folderDirName('INBOX/Archiv/2026'), '.INBOX.Archiv.2026');
    assert.equal(folderDirName('Inbox/Überwachung'), '.INBOX.&ANw-berwachung');
    assert.equal(folderDirName('Archive'), '.Archive');
    assert.equal(folderDirName('inbox'), '');
  });

  it('refuses folder names Maildir++ cannot hold with FOLDER_INVALID', () => {
    for (const bad of ['', 'Inbox/', 'Inbox//XIP', 'Inbox/a.b', 'Inbox/..', 'Inbox/~x', 'Inbox/a\nb']) {
      assert.throws(() => folderDirName(bad), (e: unknown) => isDeliveryError(e) && e.code === 'FOLDER_INVALID', JSON.stringify(bad));
    }
  });

  it('lower-cases mailbox directories as Dovecot\'s auth_username_format=%Lu does, and refuses unusable ones', () => {
    assert.equal(mailboxDirName('Ana@Corp.Example'), 'ana@corp.example');
    for (const bad of ['', '.', '..', '.hidden', 'a/b', 'a\\b', 'a\u0000b']) assert.equal(mailboxDirName(bad), undefined, JSON.stringify(bad));
  });
});

describe('Maildir target on disk', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'xip-maildir-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("writes Dovecot's Maildir++ layout: .INBOX.XIP with maildirfolder, unique names with S=, seen, mtime = internal date", async () => {
    const target = createMaildirTarget({ root });
    const messages = testMessages('layout', 12, new Date('2026-11-22T14:03:11.120+01:00'));
    const outcomes = await target.deliverBatch('Ana@corp.example', 'Inbox/XIP', messages);
    const box = join(root, 'ana@corp.example');
    for (const sub of ['cur', 'new', 'tmp']) assert.ok((await stat(join(box, sub))).isDirectory(), `INBOX ${sub}/`);
    const folder = join(box, '.INBOX.XIP');
    assert.equal((await stat(join(folder, 'maildirfolder'))).size, 0);
    assert.deepEqual(await readdir(join(folder, 'tmp')), [], 'nothing left in tmp/');
    assert.deepEqual(await readdir(join(folder, 'new')), []);
    const names = await readdir(join(folder, 'cur'));
    assert.equal(names.length, 12);
    for (const [i, o] of outcomes.entries()) {
      assert.ok(o.status === 'delivered', JSON.stringify(o));
      assert.equal(o.messageId, messages[i]!.messageId);
      const m = /^\.INBOX\.XIP\/cur\/(.+)$/.exec(o.ref);
      assert.ok(m, o.ref);
      const name = m[1]!;
      const parts = NAME.exec(name);
      assert.ok(parts, name);
      assert.equal(Number(parts[5]), messages[i]!.size, 'S= is the exact size');
      assert.equal(Number(parts[3]), process.pid);
      const path = join(folder, 'cur', name);
      assert.ok((await readFile(path)).equals(messages[i]!.bytes), 'byte for byte');
      const st = await stat(path);
      assert.equal(st.mtime.getTime(), messages[i]!.internalDate.getTime());
      assert.equal(st.mode & 0o777, 0o600);
    }
    assert.equal(new Set(names).size, 12, 'unique names');
    await target.close();
  });

  it('delivers into INBOX itself when the folder is INBOX', async () => {
    const target = createMaildirTarget({ root });
    const [o] = await target.deliverBatch('bo@corp.example', 'INBOX', [testMessage({ id: 'inbox-1' })]);
    assert.ok(o?.status === 'delivered' && /^cur\//.test(o.ref), JSON.stringify(o));
    assert.equal((await readdir(join(root, 'bo@corp.example', 'cur'))).length, 1);
  });

  it('fails copies for an address that cannot be a directory with MAILBOX_NOT_FOUND, and throws FOLDER_INVALID for a bad folder', async () => {
    const target = createMaildirTarget({ root });
    const [o] = await target.deliverBatch('../etc', 'Inbox/XIP', [testMessage({ id: 'escape' })]);
    assert.ok(o?.status === 'failed' && o.code === 'MAILBOX_NOT_FOUND', JSON.stringify(o));
    await assert.rejects(target.deliverBatch('cy@corp.example', 'Inbox/a.b', [testMessage({ id: 'dot' })]), (e: unknown) => isDeliveryError(e) && e.code === 'FOLDER_INVALID');
  });

  it('fails a message whose stream breaks its declared size, or whose date is invalid, with MESSAGE_INVALID, leaves no file for it, and delivers the others', async () => {
    const target = createMaildirTarget({ root });
    const good = testMessages('size', 4);
    const real = testMessage({ id: 'size-liar' });
    const tooShort: OutgoingMessage = { messageId: real.messageId, size: real.size + 5, internalDate: real.internalDate, open: () => Readable.from([real.bytes]) };
    const tooLong: OutgoingMessage = { messageId: '<size-long@xip.test>', size: real.size - 5, internalDate: real.internalDate, open: () => Readable.from([real.bytes]) };
    const failing: OutgoingMessage = {
      messageId: '<size-broken@xip.test>',
      size: 100,
      internalDate: real.internalDate,
      open: () =>
        new Readable({
          read() {
            this.destroy(new Error('staging file vanished'));
          },
        }),
    };
    const undated: OutgoingMessage = { ...good[0]!, messageId: '<size-undated@xip.test>', internalDate: new Date('not a date') };
    const outcomes = await target.deliverBatch('dee@corp.example', 'Inbox/XIP', [good[0]!, tooShort, good[1]!, tooLong, good[2]!, failing, good[3]!, undated]);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'delivered' ? 'delivered' : `${o.status} ${o.code}`)),
      ['delivered', 'failed MESSAGE_INVALID', 'delivered', 'failed MESSAGE_INVALID', 'delivered', 'failed MESSAGE_INVALID', 'delivered', 'failed MESSAGE_INVALID'],
    );
    const broken = outcomes[5]!;
    assert.match(broken.status === 'failed' ? broken.reason : '', /staging file vanished/);
    const folder = join(root, 'dee@corp.example', '.INBOX.XIP');
    assert.equal((await readdir(join(folder, 'cur'))).length, 4);
    assert.deepEqual(await readdir(join(folder, 'tmp')), []);
  });
});

describe('Maildir target: fsync of cur/ fails after the renames (test-only seam: a failing fsync needs a failing device)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'xip-maildir-fsync-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reports every renamed copy unknown, never failed, and findExisting then finds each one in cur/', async () => {
    const failing = async (path: string): Promise<void> => {
      if (path.endsWith('/cur')) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    };
    const target = createMaildirTarget({ root, testSeams: { fsyncDir: failing } });
    const messages = testMessages('fsync-eio', 5);
    const undated: OutgoingMessage = { ...messages[4]!, messageId: '<fsync-undated@xip.test>', internalDate: new Date('not a date') };
    const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', [...messages.slice(0, 4), undated]);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'delivered' ? 'delivered' : `${o.status} ${o.code}`)),
      ['unknown TARGET_UNAVAILABLE', 'unknown TARGET_UNAVAILABLE', 'unknown TARGET_UNAVAILABLE', 'unknown TARGET_UNAVAILABLE', 'failed MESSAGE_INVALID'],
    );
    const first = outcomes[0]!;
    assert.match(first.status === 'unknown' ? first.reason : '', /cur\/ could not be fsync'd.*EIO/);
    const cur = join(root, 'ana@corp.example', '.INBOX.XIP', 'cur');
    assert.equal((await readdir(cur)).length, 4, 'the renamed files are in cur/');
    // A later run (the real fsync) resolves them: present, each with the ref of its file.
    const later = createMaildirTarget({ root });
    const found = await later.findExisting('ana@corp.example', 'Inbox/XIP', [...messages.slice(0, 4), undated].map((m) => m.messageId));
    assert.deepEqual([...found.keys()].sort(), messages.slice(0, 4).map((m) => m.messageId).sort());
    for (const ref of found.values()) assert.match(ref, /^\.INBOX\.XIP\/cur\/.+:2,S$/);
  });
});

describe('Maildir target: Message-IDs already in a folder (findExisting)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'xip-maildir-find-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds what it delivered, with refs, and nothing else', async () => {
    const target = createMaildirTarget({ root });
    const messages = testMessages('find', 30);
    const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages.slice(0, 20));
    const found = await target.findExisting('ana@corp.example', 'Inbox/XIP', [...messages.map((m) => m.messageId), '<absent@xip.test>']);
    assert.equal(found.size, 20);
    outcomes.forEach((o) => assert.equal(found.get(o.messageId), o.status === 'delivered' ? o.ref : undefined));
    assert.equal((await target.findExisting('ana@corp.example', 'Inbox/Other', [messages[0]!.messageId])).size, 0);
    assert.equal((await target.findExisting('nobody@corp.example', 'Inbox/XIP', [messages[0]!.messageId])).size, 0);
  });

  it('keeps a Message-ID with a quoted local part holding spaces in its index, so a new run still finds it', async () => {
    const quoted = testMessage({ id: '"quoted local part"' });
    assert.equal(quoted.messageId, '<"quoted local part"@xip.test>');
    const outcomes = await createMaildirTarget({ root }).deliverBatch('cy@corp.example', 'Inbox/XIP', [quoted]);
    assert.equal(outcomes[0]!.status, 'delivered');
    const second = createMaildirTarget({ root });
    assert.ok((await second.findExisting('cy@corp.example', 'Inbox/XIP', [quoted.messageId])).has(quoted.messageId), 'found by reading the header');
    const third = createMaildirTarget({ root }); // the index file written by the second is what it reads
    assert.ok((await third.listExisting('cy@corp.example', 'Inbox/XIP')).has(quoted.messageId), 'found through the index file');
    const index = await readFile(join(root, 'cy@corp.example', '.INBOX.XIP', INDEX_FILE), 'utf8');
    assert.match(index, /\t<"quoted local part"@xip\.test>\n/);
  });

  it('finds messages written by others and those renamed in just before a crash, whatever the index file says', async () => {
    const folder = join(root, 'bo@corp.example', '.INBOX.XIP');
    const first = createMaildirTarget({ root });
    const messages = testMessages('crash', 10);
    await first.deliverBatch('bo@corp.example', 'Inbox/XIP', messages.slice(0, 5));
    await first.findExisting('bo@corp.example', 'Inbox/XIP', [messages[0]!.messageId]); // the index file is written
    const indexText = await readFile(join(folder, INDEX_FILE), 'utf8');
    assert.match(indexText, /^xip-msgid-index\t2\n/);
    // A crash between the rename into cur/ and the index write: the file is there, the index does not know it.
    const lost = messages[5]!;
    await writeFile(join(folder, 'cur', `1700000000.M1P1Q1.crashed,S=${lost.size}:2,S`), lost.bytes);
    // Dovecot (or a mail client) delivered one into new/, unflagged, with an LF-only header.
    const other = messages[6]!;
    await writeFile(join(folder, 'new', '1700000001.M2P2Q2.elsewhere'), other.bytes.toString('latin1').replace(/\r\n/g, '\n'));
    // The index lies (a line cut short by a full disk, a line for a file that is gone), and one file is expunged.
    await writeFile(join(folder, INDEX_FILE), indexText + 'gone-file\t<crash-9@xip.test>\n1700000000.M1P1Q1.crashed\t<crash-5@xip.te');
    const expunged = (await readdir(join(folder, 'cur'))).find((n) => n.includes(`Q`) && !n.includes('crashed'))!;
    await unlink(join(folder, 'cur', expunged));

    const second = createMaildirTarget({ root }); // a new run: nothing in memory
    const found = await second.findExisting('bo@corp.example', 'Inbox/XIP', messages.map((m) => m.messageId));
    assert.ok(found.has(lost.messageId), 'the file renamed just before the crash');
    assert.equal(found.get(lost.messageId), `.INBOX.XIP/cur/1700000000.M1P1Q1.crashed,S=${lost.size}:2,S`);
    assert.equal(found.get(other.messageId), '.INBOX.XIP/new/1700000001.M2P2Q2.elsewhere');
    assert.equal(found.has(messages[9]!.messageId), false, 'an index line for a file that is gone is not believed');
    assert.equal(found.size, 4 + 2, 'four of the first five (one expunged), and the two newcomers');
    const rewritten = await readFile(join(folder, INDEX_FILE), 'utf8');
    assert.doesNotMatch(rewritten, /gone-file/);
  });

  it('keeps the index across runs: a later run finds without reading the messages again', async () => {
    const target = createMaildirTarget({ root });
    const messages = testMessages('warm', 5);
    await target.deliverBatch('cy@corp.example', 'Inbox/XIP', messages);
    await target.close();
    const index = await readFile(join(root, 'cy@corp.example', '.INBOX.XIP', INDEX_FILE), 'utf8');
    for (const m of messages) assert.ok(index.includes(`\t${m.messageId}\n`), 'the delivery appended to the index');
    // Maildir files never change; were the headers read again, this one would now say another Message-ID.
    const cur = join(root, 'cy@corp.example', '.INBOX.XIP', 'cur');
    const [first] = (await readdir(cur)).sort();
    await writeFile(join(cur, first!), 'Message-ID: <rewritten@xip.test>\r\n\r\nx\r\n');
    const again = createMaildirTarget({ root });
    const found = await again.findExisting('cy@corp.example', 'Inbox/XIP', [...messages.map((m) => m.messageId), '<rewritten@xip.test>']);
    assert.equal(found.size, 5);
    assert.equal(found.has('<rewritten@xip.test>'), false, 'the index answered, not the file');
  });
});

describe('Maildir target on a full disk', () => {
  let mount: string | undefined;
  let skip: string | false = false;
  before(async () => {
    // A real full disk: a small tmpfs, mounted as root. Without the right to mount, the test says so and skips.
    const dir = await mkdtemp(join(tmpdir(), 'xip-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,nr_inodes=4096', 'xip-full', dir], { stdio: 'pipe' });
      mount = dir;
    } catch (e) {
      skip = `cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]}); needs root`;
      await rm(dir, { recursive: true, force: true });
    }
  });
  after(async () => {
    if (mount) {
      execFileSync('umount', [mount]);
      await rm(mount, { recursive: true, force: true });
    }
  });

  it('fails the copies that do not fit with STORAGE_FULL, leaves no partial file, and delivers the rest', async (t) => {
    if (skip || !mount) return t.skip(skip || 'no mount');
    const target = createMaildirTarget({ root: join(mount, 'mail') });
    const small = testMessages('full-small', 6, undefined, 2000);
    const huge = testMessage({ id: 'full-huge', bodyBytes: 400_000 });
    const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', [small[0]!, small[1]!, small[2]!, huge, small[3]!, small[4]!, small[5]!]);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'delivered' ? 'delivered' : `${o.status} ${o.code}`)),
      ['delivered', 'delivered', 'delivered', 'failed STORAGE_FULL', 'delivered', 'delivered', 'delivered'],
    );
    const tooBig = outcomes[3]!;
    assert.match(tooBig.status === 'failed' ? tooBig.reason : '', /ENOSPC/);
    const folder = join(mount, 'mail', 'ana@corp.example', '.INBOX.XIP');
    assert.equal((await readdir(join(folder, 'cur'))).length, 6);
    assert.deepEqual(await readdir(join(folder, 'tmp')), [], 'the partial file was removed');
    // Once the disk is truly full every copy fails the same way, and the target does not throw.
    await mkdir(join(mount, 'filler'));
    try {
      await writeFile(join(mount, 'filler', 'x'), Buffer.alloc(400_000));
    } catch {
      // filled up: what we want
    }
    const later = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', testMessages('full-later', 3, undefined, 2000));
    assert.ok(later.every((o) => o.status === 'failed' && o.code === 'STORAGE_FULL'), JSON.stringify(later));
  });
});
