// The IMAP target's faults against a real Dovecot: lost connections (through
// the fault-injecting proxy, test/support/fault-proxy.ts, since Dovecot cannot
// be made to drop a connection mid-command on demand), a mailbox missing from
// the userdb, messages over the APPENDLIMIT. Each time: the faulty copies fail
// with their code, every other message is in the folder exactly once.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type Dovecot } from '../../../test/support/dovecot.js';
import { startFaultProxy, type FaultProxy } from '../../../test/support/fault-proxy.js';
import { openAs, readFolder } from '../../../test/support/imap-read.js';
import { testMessage, testMessages } from '../../../test/support/messages.js';
import { isDeliveryError } from '../errors.js';
import type { DeliveryOutcome, OutgoingMessage } from '../port.js';
import { createImapTarget } from './index.js';
import { commandLog } from './test-support/command-log.js';

const FAST_RETRY = { retries: 4, baseDelayMs: 20, maxDelayMs: 100 };


/** Each Message-ID in the folder exactly once, and the refs are theirs. */
async function assertExactlyOnce(dovecot: Dovecot, user: string, outcomes: DeliveryOutcome[], messages: readonly OutgoingMessage[]): Promise<void> {
  const stored = await readFolder(dovecot, user, 'INBOX.XIP');
  const ids = stored.map((m) => m.messageId);
  assert.equal(new Set(ids).size, ids.length, `duplicates in the folder: ${ids.join(' ')}`);
  assert.deepEqual([...ids].sort(), messages.map((m) => m.messageId).sort());
  const refOf = new Map(stored.map((m) => [m.messageId, m.ref]));
  for (const o of outcomes) {
    assert.ok(o.status === 'delivered', `not delivered: ${JSON.stringify(o)}`);
    assert.equal(o.ref, refOf.get(o.messageId));
  }
}

describe('IMAP target: lost connections (fault-injecting proxy)', () => {
  let dovecot: Dovecot;
  let proxy: FaultProxy;
  const url = (): string => `imap://${dovecot.masterUser}@127.0.0.1:${proxy.port}?starttls=never`;

  before(async () => {
    dovecot = await startDovecot({ users: ['ana@corp.example', 'bo@corp.example', 'cy@corp.example', 'di@corp.example', 'ed@corp.example'] });
    proxy = await startFaultProxy({ host: dovecot.host, port: dovecot.port });
  });
  after(async () => {
    await proxy?.close();
    await dovecot?.stop();
  });

  it('resumes when the connection dies after the server stored a MULTIAPPEND but before its OK arrived', async () => {
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, batchSize: 10, retry: FAST_RETRY });
    const messages = testMessages('lost-ok', 30, undefined, 2000);
    try {
      const cut = proxy.cutWhenServerSays(/OK \[APPENDUID \d+ \d+:\d+\]/);
      const cutsBefore = proxy.cuts;
      const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages);
      await cut;
      assert.equal(proxy.cuts, cutsBefore + 1, 'the OK of the first command was lost');
      await assertExactlyOnce(dovecot, 'ana@corp.example', outcomes, messages);
    } finally {
      await target.close();
    }
  });

  it('resumes when the connection dies in the middle of a MULTIAPPEND', async () => {
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, batchSize: 10, retry: FAST_RETRY });
    const messages = testMessages('mid-command', 30, undefined, 2000);
    try {
      const cut = proxy.cutAfterClientBytes(35_000); // past the login and the first command, inside the second
      const outcomes = await target.deliverBatch('bo@corp.example', 'Inbox/XIP', messages);
      await cut;
      await assertExactlyOnce(dovecot, 'bo@corp.example', outcomes, messages);
    } finally {
      await target.close();
    }
  });

  it('looks up a command lost in flight only after the settle time: a store that lands late is found, not sent twice', async () => {
    // The server gets the end of the MULTIAPPEND 600 ms after the client was
    // cut off, and stores it then. The retry's backoff is 10–100 ms: only the
    // settle time keeps the SEARCH after it.
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, batchSize: 3, retry: FAST_RETRY, settleMs: 1500 });
    const messages = testMessages('late', 3);
    try {
      const cutsBefore = proxy.cuts;
      const landed = proxy.storeLateWhenClientSends(/Hello from late-2\.\r\n\r\n/, 600);
      const started = Date.now();
      const outcomes = await target.deliverBatch('ed@corp.example', 'Inbox/XIP', messages);
      await landed;
      assert.equal(proxy.cuts, cutsBefore + 1, 'the client was cut off with its command sent whole');
      assert.ok(Date.now() - started >= 1500, 'the lookup waited for the settle time');
      await assertExactlyOnce(dovecot, 'ed@corp.example', outcomes, messages);
    } finally {
      await target.close();
    }
  });

  it('retries a server that refuses connections for a while, with backoff', async () => {
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, retry: FAST_RETRY });
    const messages = testMessages('refused-conn', 5);
    try {
      const before = proxy.connections;
      proxy.refuseNext(3);
      const outcomes = await target.deliverBatch('cy@corp.example', 'Inbox/XIP', messages);
      assert.equal(proxy.connections - before, 4, 'three refused connections, then one that worked');
      await assertExactlyOnce(dovecot, 'cy@corp.example', outcomes, messages);
    } finally {
      await target.close();
    }
  });

  it('gives up after its bounded retries with TARGET_UNAVAILABLE: the command whose OK was lost is unknown, the one never sent failed', async () => {
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, batchSize: 2, retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 20 } });
    const messages = testMessages('gives-up', 6);
    try {
      // The second command's OK is lost, and from then on nothing gets through.
      const cut = proxy.cutWhenServerSays(/OK \[APPENDUID \d+ 3:4\]/).then(() => proxy.refuseNext(1000));
      await assert.rejects(target.deliverBatch('di@corp.example', 'Inbox/XIP', messages), (e: unknown) => {
        assert.ok(isDeliveryError(e), String(e));
        assert.equal(e.code, 'TARGET_UNAVAILABLE');
        assert.match(e.message, /3 connection faults in a row/);
        assert.deepEqual(
          e.partial.map((o) => [o.messageId, o.status]),
          [
            [messages[0]!.messageId, 'delivered'],
            [messages[1]!.messageId, 'delivered'],
            [messages[2]!.messageId, 'unknown'],
            [messages[3]!.messageId, 'unknown'],
            [messages[4]!.messageId, 'failed'],
            [messages[5]!.messageId, 'failed'],
          ],
        );
        return true;
      });
      await cut;
      proxy.refuseNext(0);
      // The unknown ones were stored after all, the failed ones not: the folder, asked again and read back, says so.
      const found = await target.findExisting('di@corp.example', 'Inbox/XIP', messages.map((m) => m.messageId));
      assert.deepEqual([...found.keys()].sort(), messages.slice(0, 4).map((m) => m.messageId).sort());
      const stored = await readFolder(dovecot, 'di@corp.example', 'INBOX.XIP');
      assert.deepEqual(stored.map((m) => m.messageId).sort(), messages.slice(0, 4).map((m) => m.messageId).sort());
    } finally {
      proxy.refuseNext(0);
      await target.close();
    }
  });

  it('reports unknown, not failed, for a command cut off mid-way when the server stays away, and findExisting then says absent', async () => {
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, batchSize: 10, retry: { retries: 1, baseDelayMs: 10, maxDelayMs: 20 } });
    const messages = testMessages('cut-away', 10, undefined, 2000);
    try {
      const cut = proxy.cutAfterClientBytes(8_000).then(() => proxy.refuseNext(1000)); // inside the only APPEND
      const error = await target.deliverBatch('ana@corp.example', 'Inbox/Away', messages).then(
        () => undefined,
        (e: unknown) => e,
      );
      await cut;
      proxy.refuseNext(0);
      assert.ok(isDeliveryError(error) && error.code === 'TARGET_UNAVAILABLE', String(error));
      assert.deepEqual(
        error.partial.map((o) => o.status),
        messages.map(() => 'unknown'),
      );
      assert.equal((await target.findExisting('ana@corp.example', 'Inbox/Away', messages.map((m) => m.messageId))).size, 0);
      assert.deepEqual(await readFolder(dovecot, 'ana@corp.example', 'INBOX.Away'), [], 'the server discarded the unfinished command');
    } finally {
      proxy.refuseNext(0);
      await target.close();
    }
  });

  it('examines again a folder another session creates between the refused EXAMINE and the LIST that checks it (a concurrent run), instead of refusing the mailbox', async () => {
    // imapflow follows a refused EXAMINE with a LIST of the folder; the proxy
    // holds that LIST (not the one before the EXAMINE) while another session
    // creates the folder and stores a message in it.
    const listAfterExamine = (path: string): RegExp => new RegExp(`EXAMINE "?${path.replace('.', '\\.')}"?\\r\\n[^]*LIST "" "?${path.replace('.', '\\.')}"?`);
    const target = createImapTarget({ url: url(), password: dovecot.masterPassword, retry: FAST_RETRY });
    const createdMeanwhile = (path: string, message: ReturnType<typeof testMessage>) => async (): Promise<void> => {
      const other = await openAs(dovecot, 'di@corp.example');
      try {
        await other.mailboxCreate(path);
        await other.append(path, message.bytes);
      } finally {
        await other.logout();
      }
    };
    try {
      const listed = testMessage({ id: 'raced-list' });
      const raceList = proxy.actBeforeClientSends(listAfterExamine('INBOX.RacedList'), createdMeanwhile('INBOX.RacedList', listed));
      const all = await target.listExisting('di@corp.example', 'Inbox/RacedList');
      await raceList; // the folder really was created between the two commands
      assert.deepEqual([...all.keys()], [listed.messageId]);

      const searched = testMessage({ id: 'raced-search' });
      const raceSearch = proxy.actBeforeClientSends(listAfterExamine('INBOX.RacedSearch'), createdMeanwhile('INBOX.RacedSearch', searched));
      const found = await target.findExisting('di@corp.example', 'Inbox/RacedSearch', [searched.messageId, '<absent@xip.test>']);
      await raceSearch;
      assert.deepEqual([...found.keys()], [searched.messageId]);
    } finally {
      await target.close();
    }
  });
});

describe('IMAP target: a mailbox the server does not have', () => {
  let dovecot: Dovecot;
  before(async () => {
    dovecot = await startDovecot({ users: ['ana@corp.example', 'bo@corp.example'] });
  });
  after(async () => {
    await dovecot?.stop();
  });

  it('fails the copies for a mailbox absent from the userdb with MAILBOX_NOT_FOUND; the others are delivered', async () => {
    const target = createImapTarget({ url: `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`, password: dovecot.masterPassword });
    const messages = testMessages('missing', 3);
    try {
      const ana = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages);
      const nobody = await target.deliverBatch('nobody@corp.example', 'Inbox/XIP', messages);
      const bo = await target.deliverBatch('bo@corp.example', 'Inbox/XIP', messages);
      for (const o of nobody) {
        assert.ok(o.status === 'failed' && o.code === 'MAILBOX_NOT_FOUND', JSON.stringify(o));
        assert.match(o.reason, /nobody@corp\.example.*AUTHORIZATIONFAILED/);
      }
      await assertExactlyOnce(dovecot, 'ana@corp.example', ana, messages);
      await assertExactlyOnce(dovecot, 'bo@corp.example', bo, messages);
    } finally {
      await target.close();
    }
  });
});

describe('IMAP target: the mailbox is refused at the login after a lost connection (fault-injecting proxy)', () => {
  let dovecot: Dovecot;
  let proxy: FaultProxy;
  before(async () => {
    dovecot = await startDovecot({ users: ['ana@corp.example', 'cy@corp.example'] });
    proxy = await startFaultProxy({ host: dovecot.host, port: dovecot.port });
  });
  after(async () => {
    await proxy?.close();
    await dovecot?.stop();
  });

  it('reports the command in flight unknown (it was stored) and the messages never sent failed with MAILBOX_NOT_FOUND', async () => {
    const target = createImapTarget({ url: `imap://${dovecot.masterUser}@127.0.0.1:${proxy.port}?starttls=never`, password: dovecot.masterPassword, batchSize: 2, retry: FAST_RETRY });
    const usersFile = join(dovecot.dir, 'users');
    const users = await readFile(usersFile, 'utf8');
    const messages = testMessages('removed', 6);
    try {
      await target.deliverBatch('cy@corp.example', 'Inbox/XIP', [testMessage({ id: 'removed-first' })]); // logged in, session kept
      // cy leaves the userdb. Dovecot reads its passwd-file again when it changed, but at most once a
      // second: wait (bounded) until a login of our own for cy is refused, then go on.
      await writeFile(usersFile, users.split('\n').filter((l) => !l.startsWith('cy@')).join('\n'));
      for (let attempt = 0; ; attempt++) {
        const refused = await openAs(dovecot, 'cy@corp.example').then(
          (c) => c.logout().then(() => false),
          () => true,
        );
        if (refused) break;
        assert.ok(attempt < 30, 'Dovecot noticed the change of its passwd-file');
        await new Promise((r) => setTimeout(r, 100));
      }
      proxy.cutWhenServerSays(/OK \[APPENDUID \d+ 1:2\]/).catch(() => undefined);
      const cutsBefore = proxy.cuts;
      const outcomes = await target.deliverBatch('cy@corp.example', 'Inbox/Gone', messages);
      assert.equal(proxy.cuts, cutsBefore + 1, 'the OK of the first command was lost');
      assert.deepEqual(
        outcomes.map((o) => (o.status === 'delivered' ? 'delivered' : `${o.status} ${o.code}`)),
        ['unknown TARGET_UNAVAILABLE', 'unknown TARGET_UNAVAILABLE', 'failed MAILBOX_NOT_FOUND', 'failed MAILBOX_NOT_FOUND', 'failed MAILBOX_NOT_FOUND', 'failed MAILBOX_NOT_FOUND'],
      );
      await writeFile(usersFile, users);
      // cy is back in the userdb; as above, Dovecot notices within a second: wait (bounded) until cy can log in again.
      for (let attempt = 0; ; attempt++) {
        const back = await openAs(dovecot, 'cy@corp.example').then(
          (c) => c.logout().then(() => true),
          () => false,
        );
        if (back) break;
        assert.ok(attempt < 30, 'Dovecot noticed that cy is back in its passwd-file');
        await new Promise((r) => setTimeout(r, 100));
      }
      const stored = await readFolder(dovecot, 'cy@corp.example', 'INBOX.Gone');
      assert.deepEqual(stored.map((m) => m.messageId), messages.slice(0, 2).map((m) => m.messageId), 'the unknown ones are stored, the failed ones not');
    } finally {
      await writeFile(usersFile, users);
      await target.close();
    }
  });
});

describe('IMAP target: messages over the server limit', () => {
  const LIMIT = 4096;

  it('fails a message over the announced APPENDLIMIT up front with MESSAGE_TOO_LARGE; the others are delivered', async () => {
    const dovecot = await startDovecot({ users: ['ana@corp.example'], appendLimit: LIMIT });
    const log = commandLog();
    const target = createImapTarget({ url: `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`, password: dovecot.masterPassword, logger: log.logger });
    const small = testMessages('limit-small', 4);
    const big = testMessage({ id: 'limit-big', bodyBytes: LIMIT });
    const messages = [small[0]!, small[1]!, big, small[2]!, small[3]!];
    try {
      const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages);
      const failedOnes = outcomes.filter((o) => o.status !== 'delivered');
      assert.deepEqual(
        failedOnes.map((o) => o.messageId),
        [big.messageId],
      );
      const tooLarge = failedOnes[0]!;
      assert.ok(tooLarge.status === 'failed' && tooLarge.code === 'MESSAGE_TOO_LARGE' && /APPENDLIMIT is 4096/.test(tooLarge.reason), JSON.stringify(tooLarge));
      assert.equal(big.opens, 0, 'never sent');
      const appendLines = log.lines.filter((l) => / APPEND /.test(l));
      assert.equal(appendLines.length, 1, 'the others still in one command');
      await assertExactlyOnce(
        dovecot,
        'ana@corp.example',
        outcomes.filter((o) => o.status === 'delivered'),
        small,
      );
    } finally {
      await target.close();
      await dovecot.stop();
    }
  });

  it('splits a MULTIAPPEND the server refuses ([LIMIT], no APPENDLIMIT announced) so that only the large message fails', async () => {
    const dovecot = await startDovecot({ users: ['ana@corp.example'], appendLimit: LIMIT, advertiseAppendLimit: false });
    const target = createImapTarget({ url: `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`, password: dovecot.masterPassword });
    const small = testMessages('split-small', 9);
    const big = testMessage({ id: 'split-big', bodyBytes: LIMIT * 2 });
    const messages = [...small.slice(0, 5), big, ...small.slice(5)];
    try {
      const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages);
      const bigOutcome = outcomes[5]!;
      assert.ok(bigOutcome.status === 'failed' && bigOutcome.code === 'MESSAGE_TOO_LARGE', JSON.stringify(bigOutcome));
      assert.match(bigOutcome.reason, /\[LIMIT\]/);
      await assertExactlyOnce(
        dovecot,
        'ana@corp.example',
        outcomes.filter((o) => o.status === 'delivered'),
        small,
      );
    } finally {
      await target.close();
      await dovecot.stop();
    }
  });
});

describe('IMAP target: a message whose stream breaks its declared size (in-process fault of the message) or whose date is invalid', () => {
  it('fails that message with MESSAGE_INVALID, closes the cut-off command, and delivers the others once', async () => {
    const dovecot = await startDovecot({ users: ['ana@corp.example'] });
    const target = createImapTarget({ url: `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`, password: dovecot.masterPassword, retry: FAST_RETRY });
    const good = testMessages('short', 6);
    const real = testMessage({ id: 'liar-source' });
    const short: OutgoingMessage = { messageId: '<liar@xip.test>', size: real.size + 10, internalDate: real.internalDate, open: () => Readable.from([real.bytes]) };
    const undated: OutgoingMessage = { ...real, messageId: '<undated@xip.test>', internalDate: new Date('not a date') };
    const messages = [...good.slice(0, 3), short, ...good.slice(3), undated];
    try {
      const outcomes = await target.deliverBatch('ana@corp.example', 'Inbox/XIP', messages);
      const bad = outcomes[3]!;
      assert.ok(bad.status === 'failed' && bad.code === 'MESSAGE_INVALID', JSON.stringify(bad));
      assert.match(bad.reason, /yielded \d+ octets, \d+ were declared/);
      const badDate = outcomes[7]!;
      assert.ok(badDate.status === 'failed' && badDate.code === 'MESSAGE_INVALID' && /not a valid date/.test(badDate.reason), JSON.stringify(badDate));
      await assertExactlyOnce(
        dovecot,
        'ana@corp.example',
        outcomes.filter((o) => o.status === 'delivered'),
        good,
      );
    } finally {
      await target.close();
      await dovecot.stop();
    }
  });
});
