// The MailboxTarget contract (src/ports/mailbox-target.ts) as node:test cases
// that every target must pass, run against each target and server by the
// *-contract.test.ts files. What a case checks is read back from the store
// by the subject's own reader, never through the target under test:
//
// - delivered copies are in the folder once each, and findExisting and
//   listExisting find them with the refs the delivery gave;
// - a `failed` copy is never stored;
// - an `unknown` copy is resolvable: findExisting says present or absent,
//   and the store agrees;
// - the folder is created when missing, and a folder that already exists
//   (made by someone else, with mail in it) is used as it is;
// - a connection lost mid-batch (the in-process fault proxy,
//   test/support/fault-proxy.ts: a fake, for a fault no real server shows on
//   demand) ends with every message delivered exactly once.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { testMessage, testMessages, type TestMessage } from '../../../test/support/messages.js';
import { isDeliveryError } from '../errors.js';
import type { DeliveryOutcome, MailboxTarget, OutgoingMessage } from '../port.js';

export interface StoredCopy {
  /** The Message-ID as the reader found it in the stored header. */
  readonly messageId: string | undefined;
  /** The ref the target should report for it ("uidvalidity:uid", "folder/cur/name"). */
  readonly ref: string;
}

export interface ReadBack {
  readonly exists: boolean;
  readonly copies: readonly StoredCopy[];
}

/** A fault armed before a delivery, through a target made for it. */
export interface Interruption {
  readonly name: string;
  /**
   * 'recovers': the target gets past the fault by itself and every message
   * ends delivered. 'leaves-unknown': the fault outlasts the target's
   * retries, so that some copies must end `unknown`.
   */
  readonly expect: 'recovers' | 'leaves-unknown';
  /** A target that meets the fault (through the fault proxy, with a test seam…). */
  target(): MailboxTarget;
  /** Arms the fault before the delivery. */
  arm(): void;
  /** Whether the armed fault struck (a case whose fault never struck proves nothing, and fails). */
  struck(): boolean;
  /** Undoes what the fault left behind (a proxy refusing connections). */
  disarm(): void;
}

export interface ContractSubject {
  /** For the test names: "IMAP on Cyrus 3.6 (virtdomains, admin by SASL PLAIN authzid)". */
  readonly name: string;
  /** Starts what the subject needs (servers, proxies); once for all cases. */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** The mailbox the cases deliver into (one the server has). */
  mailbox(): string;
  /** A new target under test, plainly connected. */
  target(): MailboxTarget;
  /** The folder ("Inbox/Ct-1") as the store holds it, read without the target under test. */
  readBack(mailbox: string, folder: string): Promise<ReadBack>;
  /** Makes the folder without the target under test, with `message` in it (another client's mail). */
  makeFolder(mailbox: string, folder: string, message: TestMessage): Promise<void>;
  /** The faults this target can meet; a target without a connection has no 'recovers' one. */
  interruptions(): readonly Interruption[];
}

/** The outcomes of a delivery, those of a DeliveryError included: a message missing from `partial` is unknown (the port's rule). */
async function deliverAll(target: MailboxTarget, mailbox: string, folder: string, messages: readonly OutgoingMessage[]): Promise<DeliveryOutcome[]> {
  try {
    const outcomes = await target.deliverBatch(mailbox, folder, messages);
    assert.equal(outcomes.length, messages.length, 'one outcome per message');
    return outcomes;
  } catch (e) {
    if (!isDeliveryError(e)) throw e;
    const known = new Map(e.partial.map((o) => [o.messageId, o]));
    return messages.map(
      (m) => known.get(m.messageId) ?? { messageId: m.messageId, status: 'unknown', code: e.code, reason: `absent from DeliveryError.partial: ${e.message}` },
    );
  }
}

function countsOf(copies: readonly StoredCopy[]): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const c of copies) counts.set(c.messageId, (counts.get(c.messageId) ?? 0) + 1);
  return counts;
}

/** What every outcome says agrees with the store: delivered once with its ref, failed absent, nothing twice. */
function assertTruthful(outcomes: readonly DeliveryOutcome[], stored: ReadBack): void {
  const counts = countsOf(stored.copies);
  for (const [id, n] of counts) assert.equal(n, 1, `${id} is stored ${n} times`);
  const refOf = new Map(stored.copies.map((c) => [c.messageId, c.ref]));
  for (const o of outcomes) {
    if (o.status === 'delivered') assert.equal(refOf.get(o.messageId), o.ref, `${o.messageId} delivered as ${o.ref}, stored as ${refOf.get(o.messageId)}`);
    if (o.status === 'failed') assert.equal(counts.has(o.messageId), false, `${o.messageId} is reported failed (${o.code}: ${o.reason}) but is stored`);
  }
}

const summary = (outcomes: readonly DeliveryOutcome[]): string => outcomes.map((o) => (o.status === 'delivered' ? 'delivered' : `${o.status} ${o.code}`)).join(', ');

/** Defines the contract's cases for one subject (call at the top level of a test file). */
export function mailboxTargetContract(subject: ContractSubject): void {
  describe(`MailboxTarget contract: ${subject.name}`, () => {
    let folderNumber = 0;
    const newFolder = (): string => `Inbox/Ct-${++folderNumber}`;
    const withTarget = async <T>(make: () => MailboxTarget, fn: (target: MailboxTarget) => Promise<T>): Promise<T> => {
      const target = make();
      try {
        return await fn(target);
      } finally {
        await target.close();
      }
    };

    before(() => subject.setUp());
    after(() => subject.tearDown());

    it('creates the folder when missing, delivers each copy once, and findExisting and listExisting find them with the refs it gave', async () => {
      const mailbox = subject.mailbox();
      const folder = newFolder();
      assert.equal((await subject.readBack(mailbox, folder)).exists, false, 'the folder is missing before');
      const messages = testMessages(`contract-${folderNumber}`, 12, undefined, 1500);
      const outcomes = await withTarget(subject.target, (t) => t.deliverBatch(mailbox, folder, messages));
      assert.deepEqual(
        outcomes.map((o) => [o.messageId, o.status]),
        messages.map((m) => [m.messageId, 'delivered']),
        summary(outcomes),
      );
      const stored = await subject.readBack(mailbox, folder);
      assert.ok(stored.exists, 'the folder was created');
      assert.deepEqual(stored.copies.map((c) => c.messageId).sort(), messages.map((m) => m.messageId).sort());
      assertTruthful(outcomes, stored);
      const refs = new Map(outcomes.map((o) => [o.messageId, o.status === 'delivered' ? o.ref : '']));
      await withTarget(subject.target, async (t) => {
        const absent = '<contract-absent@xip.test>';
        const found = await t.findExisting(mailbox, folder, [...messages.map((m) => m.messageId), absent]);
        assert.deepEqual(new Map([...found].sort()), new Map([...refs].sort()), 'findExisting: every delivered copy, with its ref, and nothing else');
        const listed = await t.listExisting(mailbox, folder);
        assert.deepEqual(new Map([...listed].sort()), new Map([...refs].sort()), 'listExisting: the same');
        assert.equal((await t.listExisting(mailbox, 'Inbox/Ct-missing')).size, 0, 'a missing folder lists empty');
        assert.equal((await t.findExisting(mailbox, 'Inbox/Ct-missing', [messages[0]!.messageId])).size, 0, 'a missing folder holds nothing');
      });
    });

    it('uses a folder that already exists as it is: its mail stays, new copies go beside it, on every later run too', async () => {
      const mailbox = subject.mailbox();
      const folder = newFolder();
      const theirs = testMessage({ id: `contract-theirs-${folderNumber}` });
      await subject.makeFolder(mailbox, folder, theirs);
      const first = testMessages(`contract-existing-${folderNumber}`, 3);
      const second = testMessages(`contract-existing-again-${folderNumber}`, 3);
      // Two targets, as two runs: each meets the folder already there.
      const outcomes = [
        ...(await withTarget(subject.target, (t) => t.deliverBatch(mailbox, folder, first))),
        ...(await withTarget(subject.target, (t) => t.deliverBatch(mailbox, folder, second))),
      ];
      assert.ok(
        outcomes.every((o) => o.status === 'delivered'),
        summary(outcomes),
      );
      const stored = await subject.readBack(mailbox, folder);
      assert.deepEqual(stored.copies.map((c) => c.messageId).sort(), [theirs, ...first, ...second].map((m) => m.messageId).sort());
      assertTruthful(outcomes, stored);
    });

    it('never stores a failed copy (a stream shorter than declared, an invalid date), and delivers the others', async () => {
      const mailbox = subject.mailbox();
      const folder = newFolder();
      const good = testMessages(`contract-good-${folderNumber}`, 4, undefined, 1500);
      const real = testMessage({ id: `contract-short-${folderNumber}`, bodyBytes: 1500 });
      // Declares 50 octets more than its stream yields: found out only once most of it was written or sent.
      const short: OutgoingMessage = { messageId: real.messageId, size: real.size + 50, internalDate: real.internalDate, open: () => Readable.from([real.bytes]) };
      const undated: OutgoingMessage = { ...good[0]!, messageId: `<contract-undated-${folderNumber}@xip.test>`, internalDate: new Date('not a date') };
      const messages = [good[0]!, short, good[1]!, undated, good[2]!, good[3]!];
      const outcomes = await withTarget(subject.target, (t) => deliverAll(t, mailbox, folder, messages));
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['delivered', 'failed', 'delivered', 'failed', 'delivered', 'delivered'],
        summary(outcomes),
      );
      const stored = await subject.readBack(mailbox, folder);
      assert.deepEqual(stored.copies.map((c) => c.messageId).sort(), good.map((m) => m.messageId).sort());
      assertTruthful(outcomes, stored);
    });

    const interruptions = (): readonly Interruption[] => subject.interruptions();
    // The cases per interruption are known only once the subject is set up,
    // so each runs its list inside one test, one subtest per interruption.
    it('ends a batch interrupted by a lost connection with every message delivered exactly once', async (t) => {
      const recovering = interruptions().filter((i) => i.expect === 'recovers');
      if (recovering.length === 0) return t.skip('this target has no connection to lose');
      for (const interruption of recovering) {
        await t.test(interruption.name, async () => {
          const mailbox = subject.mailbox();
          const folder = newFolder();
          const messages = testMessages(`contract-lost-${folderNumber}`, 10, undefined, 2000);
          interruption.arm();
          let outcomes: DeliveryOutcome[];
          try {
            outcomes = await withTarget(interruption.target, (target) => target.deliverBatch(mailbox, folder, messages));
          } finally {
            interruption.disarm();
          }
          assert.ok(interruption.struck(), 'the fault struck');
          assert.deepEqual(
            outcomes.map((o) => o.status),
            messages.map(() => 'delivered'),
            summary(outcomes),
          );
          const stored = await subject.readBack(mailbox, folder);
          assert.deepEqual(stored.copies.map((c) => c.messageId).sort(), messages.map((m) => m.messageId).sort(), 'each message once');
          assertTruthful(outcomes, stored);
        });
      }
    });

    it('reports unknown what may be stored, and findExisting then tells truthfully whether it is', async (t) => {
      const leaving = interruptions().filter((i) => i.expect === 'leaves-unknown');
      assert.ok(leaving.length > 0, 'every target has a way to leave a copy unknown');
      for (const interruption of leaving) {
        await t.test(interruption.name, async () => {
          const mailbox = subject.mailbox();
          const folder = newFolder();
          const messages = testMessages(`contract-unknown-${folderNumber}`, 10, undefined, 2000);
          interruption.arm();
          let outcomes: DeliveryOutcome[];
          try {
            outcomes = await withTarget(interruption.target, (target) => deliverAll(target, mailbox, folder, messages));
          } finally {
            interruption.disarm();
          }
          assert.ok(interruption.struck(), 'the fault struck');
          const unknownIds = outcomes.filter((o) => o.status === 'unknown').map((o) => o.messageId);
          assert.ok(unknownIds.length > 0, `the fault left some copy unknown: ${summary(outcomes)}`);
          const stored = await subject.readBack(mailbox, folder);
          assertTruthful(outcomes, stored);
          const storedRefs = new Map(stored.copies.map((c) => [c.messageId, c.ref]));
          const found = await withTarget(subject.target, (target) => target.findExisting(mailbox, folder, unknownIds));
          for (const id of unknownIds) {
            assert.equal(found.get(id), storedRefs.get(id), `findExisting on ${id}, reported unknown: ${found.has(id) ? 'present' : 'absent'}, the store says ${storedRefs.has(id) ? 'present' : 'absent'}`);
          }
        });
      }
    });
  });
}
