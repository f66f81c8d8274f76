// The Maildir target's output read back through a real Dovecot configured
// with `mail_location = maildir:ROOT/%u` over IMAP, as a mail client would:
// the folder is listed, the messages are there byte for byte, seen, with
// INTERNALDATE = the internal date. And Dovecot's own `doveadm import` reads
// the same tree (what the bench compares against).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type Dovecot } from '../../../test/support/dovecot.js';
import { listFolders, readFolder } from '../../../test/support/imap-read.js';
import { testMessage, testMessages } from '../../../test/support/messages.js';
import { createMaildirTarget } from './index.js';

describe('Maildir target read back through Dovecot', () => {
  let dovecot: Dovecot;
  before(async () => {
    dovecot = await startDovecot({ users: ['ana@corp.example', 'bo@corp.example', 'cy@corp.example'] });
  });
  after(async () => {
    await dovecot?.stop();
  });

  it('is served by Dovecot as it is: folder INBOX.XIP, every message byte for byte, \\Seen, INTERNALDATE', async () => {
    const target = createMaildirTarget({ root: dovecot.mailRoot });
    const messages = testMessages('served', 25, new Date('2026-11-22T14:03:11+01:00'), 300);
    const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages);
    assert.ok(outcomes.every((o) => o.status === 'delivered'), JSON.stringify(outcomes.filter((o) => o.status !== 'delivered')));
    await dovecot.adopt(dovecot.mailRoot); // written as root here; Dovecot runs as its own user

    const { paths, delimiter } = await listFolders(dovecot, 'ana@corp.example');
    assert.equal(delimiter, '.');
    assert.deepEqual(paths, ['INBOX', 'INBOX.XIP']);
    const stored = await readFolder(dovecot, 'ana@corp.example', 'INBOX.XIP');
    assert.equal(stored.length, 25);
    const byId = new Map(stored.map((m) => [m.messageId, m]));
    for (const m of messages) {
      const s = byId.get(m.messageId);
      assert.ok(s, `${m.messageId} is served`);
      assert.ok(s.source.equals(m.bytes), 'byte for byte');
      assert.equal(s.size, m.size, 'RFC822.SIZE is the S= size');
      assert.ok(s.flags.has('\\Seen'), `${m.messageId} is seen`);
      assert.equal(s.internalDate.getTime(), m.internalDate.getTime());
    }
    assert.doesNotMatch(await dovecot.log(), /Error|Panic|Fatal|Warning/, 'Dovecot found nothing wrong with the tree');
  });

  it('keeps working beside Dovecot: later batches are served, and findExisting ignores Dovecot\'s own files', async () => {
    const target = createMaildirTarget({ root: dovecot.mailRoot });
    const first = testMessages('beside', 5);
    await target.deliverBatch('bo@corp.example', 'Inbox/XIP', first);
    await dovecot.adopt(dovecot.mailRoot);
    assert.equal((await readFolder(dovecot, 'bo@corp.example', 'INBOX.XIP')).length, 5); // Dovecot writes its uidlist and indexes
    const second = testMessages('beside-2', 5);
    await target.deliverBatch('bo@corp.example', 'Inbox/XIP', second);
    await dovecot.adopt(dovecot.mailRoot);
    assert.equal((await readFolder(dovecot, 'bo@corp.example', 'INBOX.XIP')).length, 10);
    const again = createMaildirTarget({ root: dovecot.mailRoot });
    const found = await again.findExisting('bo@corp.example', 'Inbox/XIP', [...first, ...second].map((m) => m.messageId));
    assert.equal(found.size, 10);
    assert.doesNotMatch(await dovecot.log(), /Error|Panic|Fatal|Warning/);
  });

  it('names a non-ASCII folder as Dovecot does (modified UTF-7 on disk)', async () => {
    const target = createMaildirTarget({ root: dovecot.mailRoot });
    await target.deliverBatch('cy@corp.example', 'Inbox/Überwachung', [testMessage({ id: 'umlaut' })]);
    await dovecot.adopt(dovecot.mailRoot);
    const { paths } = await listFolders(dovecot, 'cy@corp.example');
    assert.ok(paths.includes('INBOX.Überwachung'), paths.join(', '));
    assert.equal((await readFolder(dovecot, 'cy@corp.example', 'INBOX.Überwachung')).length, 1);
  });

  it("is read by Dovecot's own doveadm import (the bench's yardstick)", async () => {
    const source = join(dovecot.dir, 'import-source');
    const target = createMaildirTarget({ root: source });
    const messages = testMessages('imported', 8);
    await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages);
    await dovecot.adopt(source);
    await dovecot.doveadm(['import', '-u', 'cy@corp.example', '-s', `maildir:${join(source, 'ana@corp.example')}`, '', 'mailbox', 'INBOX.XIP', 'all']);
    const stored = await readFolder(dovecot, 'cy@corp.example', 'INBOX.XIP');
    assert.deepEqual(
      stored.map((m) => m.messageId ?? '').sort(),
      messages.map((m) => m.messageId).sort(),
    );
    assert.ok(stored.every((s) => s.flags.has('\\Seen')), 'imported as seen');
    const dates = new Map<string | undefined, number>(messages.map((m) => [m.messageId, m.internalDate.getTime()]));
    assert.ok(stored.every((s) => s.internalDate.getTime() === dates.get(s.messageId)), 'imported with their internal dates');
  });
});
