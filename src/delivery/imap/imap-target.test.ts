// The IMAP target end to end against a real Dovecot (test/support/dovecot.ts):
// what a person reading the mailbox would check, and that the pipelined
// MULTIAPPEND really is one command per batch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type Dovecot } from '../../../test/support/dovecot.js';
import { listFolders, readFolder } from '../../../test/support/imap-read.js';
import { testMessage, testMessages } from '../../../test/support/messages.js';
import { isDeliveryError } from '../errors.js';
import type { DeliveryOutcome } from '../port.js';
import { createImapTarget } from './index.js';
import { commandLog } from './test-support/command-log.js';


const appends = (lines: string[]): string[] => lines.filter((l) => /^\S+ APPEND /.test(l));

function refsOf(outcomes: DeliveryOutcome[]): string[] {
  return outcomes.map((o) => {
    assert.ok(o.status === 'delivered', `not delivered: ${JSON.stringify(o)}`);
    return o.ref;
  });
}

describe('IMAP target against Dovecot', () => {
  let dovecot: Dovecot;
  const url = (): string => `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`;

  before(async () => {
    dovecot = await startDovecot({ users: ['ana@corp.example', 'bo@corp.example', 'cy@corp.example', 'di@corp.example'] });
  });
  after(async () => {
    await dovecot?.stop();
  });

  it('delivers a batch in one pipelined MULTIAPPEND: folder created, each message once, \\Seen, INTERNALDATE, APPENDUID refs', async () => {
    const log = commandLog();
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, logger: log.logger });
    // sentAt 14:03:11.120+01:00 is the instant 13:03:11.120Z; IMAP keeps whole seconds
    const messages = testMessages('e2e', 20, new Date('2026-11-22T14:03:11.120+01:00'));
    try {
      const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages);
      const refs = refsOf(outcomes);
      assert.deepEqual(
        outcomes.map((o) => o.messageId),
        messages.map((m) => m.messageId),
      );

      const lines = appends(log.lines);
      assert.equal(lines.length, 1, `one APPEND command for the batch, got:\n${lines.join('\n')}`);
      assert.match(lines[0]!, /^\S+ APPEND "INBOX\.XIP" \(\\Seen\) "22-Nov-2026 13:03:11 \+0000" \{\d+\+\}$/);
      assert.ok(log.lines.some((l) => /CREATE INBOX\.XIP/.test(l)), 'the folder was created');

      const { paths } = await listFolders(dovecot, 'ana@corp.example');
      assert.deepEqual(paths, ['INBOX', 'INBOX.XIP']);
      const stored = await readFolder(dovecot, 'ana@corp.example', 'INBOX.XIP');
      assert.deepEqual(
        stored.map((m) => m.messageId),
        messages.map((m) => m.messageId),
      );
      assert.deepEqual(
        stored.map((m) => m.ref),
        refs,
      );
      for (const [i, m] of stored.entries()) {
        assert.ok(m.flags.has('\\Seen'), `${m.messageId} is seen`);
        assert.equal(m.internalDate.getTime(), Math.floor(messages[i]!.internalDate.getTime() / 1000) * 1000);
        assert.ok(m.source.equals(messages[i]!.bytes), 'stored byte for byte');
      }
    } finally {
      await target.close();
    }
  });

  it('sends one APPEND command per batchSize messages, on one connection', async () => {
    const log = commandLog();
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, logger: log.logger, batchSize: 10 });
    const messages = testMessages('chunks', 25);
    try {
      refsOf(await target.deliverBatch('bo@corp.example', 'Inbox/XIP', messages.slice(0, 15)));
      refsOf(await target.deliverBatch('bo@corp.example', 'Inbox/XIP', messages.slice(15)));
      assert.equal(appends(log.lines).length, 3);
      assert.equal(log.lines.filter((l) => /AUTHENTICATE/.test(l)).length, 1, 'the session is kept for the next batch');
      assert.equal((await readFolder(dovecot, 'bo@corp.example', 'INBOX.XIP')).length, 25);
    } finally {
      await target.close();
    }
  });

  it('finds delivered Message-IDs, and only those, with their refs (findExisting)', async () => {
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword });
    const messages = testMessages('find', 150);
    try {
      const refs = refsOf(await target.deliverBatch('cy@corp.example', 'Inbox/XIP', messages.slice(0, 140)));
      const asked = [...messages.map((m) => m.messageId), '<absent@xip.test>'];
      const found = await target.findExisting('cy@corp.example', 'Inbox/XIP', asked);
      assert.equal(found.size, 140);
      messages.slice(0, 140).forEach((m, i) => assert.equal(found.get(m.messageId), refs[i]));
      for (const m of messages.slice(140)) assert.equal(found.has(m.messageId), false);
      assert.equal((await target.findExisting('cy@corp.example', 'Other/Folder', asked)).size, 0, 'a folder that does not exist holds nothing');
      assert.equal((await target.findExisting('nobody@corp.example', 'Inbox/XIP', asked)).size, 0, 'a mailbox that does not exist holds nothing');
    } finally {
      await target.close();
    }
  });

  it('takes batches for several mailboxes at once, and for one mailbox one after the other, within maxSessions', async () => {
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, maxSessions: 1 });
    const a = testMessages('conc-a', 8);
    const b = testMessages('conc-b', 8);
    try {
      const results = await Promise.all([
        target.deliverBatch('ana@corp.example', 'Inbox/Conc', a.slice(0, 4)),
        target.deliverBatch('bo@corp.example', 'Inbox/Conc', b.slice(0, 4)),
        target.deliverBatch('ana@corp.example', 'Inbox/Conc', a.slice(4)),
        target.deliverBatch('bo@corp.example', 'Inbox/Conc', b.slice(4)),
      ]);
      results.forEach((r) => refsOf(r));
      for (const [user, messages] of [
        ['ana@corp.example', a],
        ['bo@corp.example', b],
      ] as const) {
        const stored = await readFolder(dovecot, user, 'INBOX.Conc');
        assert.deepEqual(stored.map((m) => m.messageId ?? '').sort(), messages.map((m) => m.messageId).sort());
      }
    } finally {
      await target.close();
    }
  });

  it("logs in with Dovecot's master-user syntax when told to", async () => {
    const log = commandLog();
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, auth: 'master-user', logger: log.logger });
    try {
      refsOf(await target.deliverBatch('di@corp.example', 'Inbox/Master', [testMessage({ id: 'master-1' })]));
      assert.ok(log.lines.some((l) => /LOGIN "di@corp\.example\*xip-admin"/.test(l)), log.lines.join('\n'));
      assert.equal((await readFolder(dovecot, 'di@corp.example', 'INBOX.Master')).length, 1);
    } finally {
      await target.close();
    }
  });

  it('creates a folder with a non-ASCII name as Dovecot names it', async () => {
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword });
    try {
      refsOf(await target.deliverBatch('di@corp.example', 'Inbox/Überwachung', [testMessage({ id: 'umlaut-1' })]));
      const { paths } = await listFolders(dovecot, 'di@corp.example');
      assert.ok(paths.includes('INBOX.Überwachung'), paths.join(', '));
    } finally {
      await target.close();
    }
  });

  it('throws TARGET_AUTH_FAILED when the administrative password is wrong', async () => {
    const target = createImapTarget({ url: url(), password: 'not-the-password' });
    try {
      await assert.rejects(target.deliverBatch('ana@corp.example', 'Inbox/XIP', [testMessage({ id: 'wrong-pw' })]), (e: unknown) => {
        assert.ok(isDeliveryError(e) && e.code === 'TARGET_AUTH_FAILED', String(e));
        assert.doesNotMatch(e.message, /not-the-password/);
        return true;
      });
    } finally {
      await target.close();
    }
  });
});

describe('IMAP target against a Dovecot without MULTIAPPEND or LITERAL+', () => {
  it('falls back to one APPEND per message (imapflow) without MULTIAPPEND', async () => {
    const dovecot = await startDovecot({ users: ['ana@corp.example'], withoutCapabilities: ['MULTIAPPEND'] });
    const log = commandLog();
    const target = createImapTarget({ url: `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`, password: dovecot.masterPassword, logger: log.logger });
    try {
      const messages = testMessages('single', 6);
      const refs = refsOf(await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages));
      assert.equal(appends(log.lines).length, 6);
      const stored = await readFolder(dovecot, 'ana@corp.example', 'INBOX.XIP');
      assert.deepEqual(
        stored.map((m) => m.ref),
        refs,
      );
      assert.ok(stored.every((m, i) => m.flags.has('\\Seen') && m.internalDate.getTime() === messages[i]!.internalDate.getTime()), 'seen, with their internal dates');
    } finally {
      await target.close();
      await dovecot.stop();
    }
  });

  it('without either, sends one APPEND per message, each with a synchronizing literal', async () => {
    const dovecot = await startDovecot({ users: ['ana@corp.example'], withoutCapabilities: ['MULTIAPPEND', 'LITERAL+'] });
    // Both sides of the conversation: a synchronizing literal waits for the server's "+" (RFC 9051 §7.5).
    const conversation: string[] = [];
    const ignore = (): void => undefined;
    const logger = {
      debug: (o: { src?: string; msg?: string }) => {
        if ((o.src === 'c' || o.src === 's') && typeof o.msg === 'string') conversation.push(`${o.src} ${o.msg}`);
      },
      info: ignore,
      warn: ignore,
      error: ignore,
    };
    const target = createImapTarget({ url: `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`, password: dovecot.masterPassword, logger });
    try {
      const messages = testMessages('neither', 4, undefined, 3000);
      const refs = refsOf(await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages));
      const from = conversation.findIndex((l) => /^c \S+ APPEND /.test(l));
      const appending = conversation.slice(from).filter((l) => /^c \S+ APPEND |^s \+/.test(l));
      assert.deepEqual(
        appending.map((l) => (l.startsWith('c') ? 'APPEND' : '+')),
        ['APPEND', '+', 'APPEND', '+', 'APPEND', '+', 'APPEND', '+'],
        'one APPEND per message, each literal sent after the server\'s "+"',
      );
      const stored = await readFolder(dovecot, 'ana@corp.example', 'INBOX.XIP');
      assert.deepEqual(
        stored.map((m) => m.ref),
        refs,
      );
      assert.ok(stored.every((m, i) => m.source.equals(messages[i]!.bytes)), 'stored byte for byte');
    } finally {
      await target.close();
      await dovecot.stop();
    }
  });

  it('still sends one MULTIAPPEND, with synchronizing literals, without LITERAL+', async () => {
    const dovecot = await startDovecot({ users: ['ana@corp.example'], withoutCapabilities: ['LITERAL+'] });
    const log = commandLog();
    const target = createImapTarget({ url: `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`, password: dovecot.masterPassword, logger: log.logger });
    try {
      const messages = testMessages('sync', 5, undefined, 6000);
      const refs = refsOf(await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages));
      const lines = appends(log.lines);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /\{\d+\}$/, 'a synchronizing literal');
      const stored = await readFolder(dovecot, 'ana@corp.example', 'INBOX.XIP');
      assert.deepEqual(
        stored.map((m) => m.ref),
        refs,
      );
      assert.ok(stored.every((m, i) => m.source.equals(messages[i]!.bytes)), 'stored byte for byte');
    } finally {
      await target.close();
      await dovecot.stop();
    }
  });
});
