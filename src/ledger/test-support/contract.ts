// The Ledger contract: what every implementation of src/ports/ledger.ts must
// do, as node:test cases over the port alone. ledger-contract.test.ts runs it
// against SQLite through both delivery writers, a real PostgreSQL, and
// InMemoryLedger.
//
// Leases are driven by the ledger's injected clock (a manual clock that only
// moves when a test advances it), never by waiting.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { deliveryKey, type Claim, type CopyKey, type Ledger } from '../port.js';

export interface ContractSubject {
  readonly ledger: Ledger;
  /** How many times the copy was claimed, from the adapter's storage (the port does not say). */
  attempts(key: CopyKey): number | undefined | Promise<number | undefined>;
  /** Removes what the factory made (files); the contract has closed the ledger. */
  dispose?(): void;
}

export type LedgerFactory = (now: () => Date) => Promise<ContractSubject>;

export const LEASE_MS = 60_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const MAILBOX = 'ana@corp.example';
const FOLDER = 'Inbox/XIP';

export const copy = (n: number, mailbox = MAILBOX, folder = FOLDER): CopyKey => ({ messageId: `<${n.toString(16).padStart(32, '0')}@xip.invalid>`, mailbox, folder });
const id = (n: number) => copy(n).messageId;

/** A clock that stands still until advanced. */
export function manualClock(start = T0): { now: () => Date; advance(ms: number): void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export function ledgerContract(name: string, factory: LedgerFactory): void {
  describe(`Ledger contract: ${name}`, () => {
    let clock: ReturnType<typeof manualClock>;
    let subject: ContractSubject;
    let ledger: Ledger;
    /** A live run, started at T0 with a lease of LEASE_MS. */
    let first: number;

    const start = (pid = 4242) => ledger.startRun({ startedAt: clock.now(), command: 'xip import', host: 'host-a', pid, leaseMs: LEASE_MS });
    const claim = (runId: number, ...ns: number[]) => ledger.claim(MAILBOX, FOLDER, ns.map(id), runId);
    const verdict = async (runId: number, n: number): Promise<Claim | undefined> => (await claim(runId, n)).get(id(n));
    const state = async (n: number) => (await ledger.getDeliveries([copy(n)])).get(deliveryKey(copy(n)));
    const finish = (runId: number) => ledger.finishRun(runId, { finishedAt: clock.now(), ok: true, log: {} });

    beforeEach(async () => {
      clock = manualClock();
      subject = await factory(clock.now);
      ledger = subject.ledger;
      first = await start();
    });
    afterEach(async () => {
      await ledger.close();
      subject.dispose?.();
    });

    describe('runs and leases', () => {
      it('starts live runs with distinct ids, each leased from the ledger clock', async () => {
        clock.advance(1000);
        const second = await start(77);
        assert.ok(second > first, `run ids should grow: ${first} then ${second}`);
        assert.deepEqual(await ledger.liveRuns(), [
          { id: first, host: 'host-a', pid: 4242, leaseUntil: new Date(T0 + LEASE_MS) },
          { id: second, host: 'host-a', pid: 77, leaseUntil: new Date(T0 + 1000 + LEASE_MS) },
        ]);
      });

      it('renewLease extends the lease to now + leaseMs while it holds', async () => {
        clock.advance(LEASE_MS - 1);
        assert.equal(await ledger.renewLease(first, LEASE_MS), true);
        clock.advance(LEASE_MS - 1); // past the first lease, within the renewed one
        assert.deepEqual(await ledger.liveRuns(), [{ id: first, host: 'host-a', pid: 4242, leaseUntil: new Date(T0 + 2 * LEASE_MS - 1) }]);
        const other = await start();
        await claim(first, 1);
        assert.deepEqual(await verdict(other, 1), { verdict: 'busy', owner: first });
      });

      it('lets a lease lapse at lease_until: not live, and renewLease answers false and extends nothing', async () => {
        clock.advance(LEASE_MS - 1);
        assert.equal((await ledger.liveRuns()).length, 1, 'live 1 ms before its lease ends');
        clock.advance(1);
        assert.deepEqual(await ledger.liveRuns(), []);
        assert.equal(await ledger.renewLease(first, LEASE_MS), false);
        assert.deepEqual(await ledger.liveRuns(), [], 'a refused renewal must not revive the lease');
      });

      it('answers renewLease false for a finished run and for an expired one, and lists neither as live', async () => {
        const second = await start();
        await finish(first);
        await ledger.expireRun(second);
        assert.equal(await ledger.renewLease(first, LEASE_MS), false);
        assert.equal(await ledger.renewLease(second, LEASE_MS), false);
        assert.deepEqual(await ledger.liveRuns(), []);
      });

      it('refuses to renew, expire or finish a run that does not exist', async () => {
        await assert.rejects(ledger.renewLease(first + 100, LEASE_MS), { code: 'LEDGER_ERROR' });
        await assert.rejects(ledger.expireRun(first + 100), { code: 'LEDGER_ERROR' });
        await assert.rejects(finish(first + 100), { code: 'LEDGER_ERROR' });
      });
    });

    describe('claims', () => {
      it('claims a copy never attempted: send; it is then pending, held by the run, one attempt', async () => {
        assert.deepEqual([...(await claim(first, 1, 2))], [
          [id(1), { verdict: 'send' }],
          [id(2), { verdict: 'send' }],
        ]);
        assert.deepEqual(await state(1), { state: 'pending', ref: null, runId: first });
        assert.deepEqual(await ledger.pendingFor(MAILBOX, FOLDER), [copy(1), copy(2)]);
        assert.equal(await subject.attempts(copy(1)), 1);
      });

      it('answers once per distinct Message-ID, in the order asked, counting one attempt', async () => {
        const answers = await claim(first, 2, 1, 2);
        assert.deepEqual([...answers.keys()], [id(2), id(1)]);
        assert.equal(await subject.attempts(copy(2)), 1);
      });

      it('answers busy, naming the owner, for a copy a live run holds, and leaves it to that run', async () => {
        await claim(first, 1);
        const second = await start();
        assert.deepEqual(await verdict(second, 1), { verdict: 'busy', owner: first });
        assert.deepEqual(await state(1), { state: 'pending', ref: null, runId: first });
        assert.equal(await subject.attempts(copy(1)), 1);
      });

      it('answers recheck to the run that already holds the copy (its attempt may have stored it)', async () => {
        await claim(first, 1);
        assert.deepEqual(await verdict(first, 1), { verdict: 'recheck' });
        assert.equal(await subject.attempts(copy(1)), 2);
      });

      it('keeps a copy busy until its owner\'s lease lapses, then another run takes it over: recheck', async () => {
        await claim(first, 1);
        const second = await start();
        clock.advance(LEASE_MS - 1);
        assert.deepEqual(await verdict(second, 1), { verdict: 'busy', owner: first });
        clock.advance(1);
        assert.deepEqual(await verdict(second, 1), { verdict: 'recheck' });
        assert.deepEqual(await state(1), { state: 'pending', ref: null, runId: second });
        assert.equal(await subject.attempts(copy(1)), 2);
      });

      it('lets another run take over the claims of an expired run at once: recheck', async () => {
        await claim(first, 1, 2);
        const second = await start();
        await ledger.expireRun(first);
        assert.deepEqual([...(await claim(second, 1, 2)).values()], [{ verdict: 'recheck' }, { verdict: 'recheck' }]);
        assert.deepEqual(await ledger.liveRuns(), [{ id: second, host: 'host-a', pid: 4242, leaseUntil: new Date(T0 + LEASE_MS) }]);
      });

      it('ends the claims of a finished run: its copies left pending are rechecked by the next run', async () => {
        await claim(first, 1);
        await finish(first);
        const second = await start();
        assert.deepEqual(await verdict(second, 1), { verdict: 'recheck' });
      });

      describe('a stopped run settles for the settleMs asked before its copies are taken over', () => {
        const SETTLE = 5000;
        const settled = (runId: number, n: number) => ledger.claim(MAILBOX, FOLDER, [id(n)], runId, SETTLE).then((m) => m.get(id(n)));

        it('after its lease lapses: busy with the time it settles, then recheck', async () => {
          await claim(first, 1);
          clock.advance(LEASE_MS);
          const second = await start();
          assert.deepEqual(await settled(second, 1), { verdict: 'busy', owner: first, settlesAt: new Date(T0 + LEASE_MS + SETTLE) });
          clock.advance(SETTLE - 1);
          assert.deepEqual(await settled(second, 1), { verdict: 'busy', owner: first, settlesAt: new Date(T0 + LEASE_MS + SETTLE) });
          assert.deepEqual(await state(1), { state: 'pending', ref: null, runId: first }, 'a busy answer took nothing');
          clock.advance(1);
          assert.deepEqual(await settled(second, 1), { verdict: 'recheck' });
          assert.deepEqual(await state(1), { state: 'pending', ref: null, runId: second });
        });

        it('after it is expired: settles from the expiry', async () => {
          await claim(first, 1);
          clock.advance(1000);
          await ledger.expireRun(first);
          const second = await start();
          assert.deepEqual(await settled(second, 1), { verdict: 'busy', owner: first, settlesAt: new Date(T0 + 1000 + SETTLE) });
          clock.advance(SETTLE);
          assert.deepEqual(await settled(second, 1), { verdict: 'recheck' });
        });

        it('after it finished: settles from the finish', async () => {
          await claim(first, 1);
          clock.advance(2000);
          await finish(first);
          const second = await start();
          assert.deepEqual(await settled(second, 1), { verdict: 'busy', owner: first, settlesAt: new Date(T0 + 2000 + SETTLE) });
          clock.advance(SETTLE);
          assert.deepEqual(await settled(second, 1), { verdict: 'recheck' });
        });

        it('a live owner is busy without a settle time, and the owner itself rechecks at once', async () => {
          await claim(first, 1);
          const second = await start();
          assert.deepEqual(await settled(second, 1), { verdict: 'busy', owner: first });
          assert.deepEqual(await settled(first, 1), { verdict: 'recheck' });
        });
      });

      it('answers delivered, with the ref, to every run, and never claims a delivered copy again', async () => {
        await claim(first, 1);
        await ledger.markDelivered([{ ...copy(1), ref: '7:101' }], first);
        const second = await start();
        assert.deepEqual(await verdict(first, 1), { verdict: 'delivered', ref: '7:101' });
        assert.deepEqual(await verdict(second, 1), { verdict: 'delivered', ref: '7:101' });
        assert.deepEqual(await state(1), { state: 'delivered', ref: '7:101', runId: first });
        assert.equal(await subject.attempts(copy(1)), 1);
      });

      it('sends a failed copy again, whichever run failed it, counting each attempt', async () => {
        await claim(first, 1);
        await ledger.markFailed([{ ...copy(1), code: 'STORAGE_FULL', reason: 'quota exceeded' }], first);
        const second = await start();
        assert.deepEqual(await verdict(second, 1), { verdict: 'send' }, 'a failed copy is released, even while the run that failed it lives');
        assert.deepEqual(await state(1), { state: 'pending', ref: null, runId: second });
        assert.equal(await subject.attempts(copy(1)), 2);
      });

      it('keeps mailboxes and folders apart, exactly as named', async () => {
        await ledger.markDelivered([{ ...copy(1), ref: 'a' }], first);
        const answers = [
          await ledger.claim('bo@corp.example', FOLDER, [id(1)], first),
          await ledger.claim(MAILBOX, 'Inbox/Other', [id(1)], first),
          await ledger.claim('ANA@corp.example', FOLDER, [id(1)], first),
        ];
        assert.deepEqual(answers.map((a) => a.get(id(1))?.verdict), ['send', 'send', 'send']);
        assert.equal(await ledger.hasDeliveredTo('bo@corp.example', FOLDER), false);
        assert.equal(await ledger.hasDeliveredTo(MAILBOX, 'Inbox/Other'), false);
        assert.equal(await ledger.hasDeliveredTo(MAILBOX, FOLDER), true);
        assert.deepEqual(await ledger.pendingFor('bo@corp.example', FOLDER), [copy(1, 'bo@corp.example')]);
        assert.deepEqual(await ledger.pendingFor(MAILBOX, FOLDER), []);
      });

      it('refuses a claim of a run that does not exist, saying where run ids come from, and records nothing', async () => {
        await assert.rejects(claim(first + 100, 1), (e: { code?: string; detail?: string }) => e.code === 'LEDGER_ERROR' && /startRun/.test(e.detail ?? ''));
        assert.equal(await state(1), undefined);
        await assert.rejects(ledger.markDelivered([{ ...copy(2), ref: 'r' }], first + 100), { code: 'LEDGER_ERROR' });
        assert.equal(await state(2), undefined);
      });
    });

    describe('outcomes', () => {
      it('markDelivered always wins: over a live run\'s claim, over a failure, and for a copy never claimed', async () => {
        const second = await start();
        await claim(first, 1, 2);
        await ledger.markFailed([{ ...copy(2), code: 'TARGET_REJECTED', reason: 'no' }], first);
        await ledger.markDelivered([{ ...copy(1), ref: 'r1' }, { ...copy(2), ref: 'r2' }, { ...copy(3), ref: 'r3' }], second);
        const states = await ledger.getDeliveries([copy(1), copy(2), copy(3)]);
        assert.deepEqual([...states.values()], [
          { state: 'delivered', ref: 'r1', runId: second },
          { state: 'delivered', ref: 'r2', runId: second },
          { state: 'delivered', ref: 'r3', runId: second },
        ]);
        assert.equal(await subject.attempts(copy(3)), 0, 'found in the target, never sent by this ledger');
        assert.deepEqual(await ledger.pendingFor(MAILBOX, FOLDER), []);
      });

      it('markFailed releases the run\'s own pending claim', async () => {
        await claim(first, 1);
        await ledger.markFailed([{ ...copy(1), code: 'STORAGE_FULL', reason: 'quota exceeded' }], first);
        assert.deepEqual(await state(1), { state: 'failed', ref: null, runId: first });
        assert.deepEqual(await ledger.pendingFor(MAILBOX, FOLDER), []);
      });

      it('markFailed never downgrades a delivered copy', async () => {
        await claim(first, 1);
        await ledger.markDelivered([{ ...copy(1), ref: 'r1' }], first);
        await ledger.markFailed([{ ...copy(1), code: 'TARGET_UNAVAILABLE', reason: 'late' }], first);
        assert.deepEqual(await state(1), { state: 'delivered', ref: 'r1', runId: first });
      });

      it('markFailed leaves alone a copy another run took over, and a copy never claimed', async () => {
        await claim(first, 1);
        clock.advance(LEASE_MS);
        const second = await start();
        assert.deepEqual(await verdict(second, 1), { verdict: 'recheck' });
        await ledger.markFailed([{ ...copy(1), code: 'TARGET_UNAVAILABLE', reason: 'late' }, { ...copy(2), code: 'TARGET_UNAVAILABLE', reason: 'late' }], first);
        assert.deepEqual(await state(1), { state: 'pending', ref: null, runId: second });
        assert.equal(await state(2), undefined);
        assert.deepEqual(await verdict(first + 1, 1), { verdict: 'recheck' }, 'still the second run\'s claim');
      });

      it('does nothing for empty lists', async () => {
        assert.equal((await ledger.claim(MAILBOX, FOLDER, [], first)).size, 0);
        await ledger.markDelivered([], first);
        await ledger.markFailed([], first);
        await ledger.recordItems([]);
        await ledger.recordFailures(first, []);
        assert.equal((await ledger.getDeliveries([])).size, 0);
        assert.equal(await ledger.hasDeliveredTo(MAILBOX, FOLDER), false);
      });
    });

    describe('failures', () => {
      it('keeps every failure of a run in the order recorded, across calls, apart from other runs', async () => {
        const second = await start();
        const f = (n: number) => ({ itemId: `i-${n}`, sourceUserId: `u-${n}`, mailbox: MAILBOX, code: 'ITEM_INVALID', reason: `reason ${n}` });
        await ledger.recordFailures(first, [f(1), { ...f(2), entry: 'items/a.ndjson', line: 7, file: '/in/a.xip' }]);
        await ledger.recordFailures(second, [f(9)]);
        await ledger.recordFailures(first, [{ itemId: null, sourceUserId: null, mailbox: null, code: 'CMS_SIGNATURE_INVALID', reason: 'bad signature', file: '/in/b.xip' }, f(3)]);
        assert.deepEqual(await ledger.getFailures(first), [
          f(1),
          { ...f(2), entry: 'items/a.ndjson', line: 7, file: '/in/a.xip' },
          { itemId: null, sourceUserId: null, mailbox: null, code: 'CMS_SIGNATURE_INVALID', reason: 'bad signature', file: '/in/b.xip' },
          f(3),
        ]);
        assert.deepEqual(await ledger.getFailures(second), [f(9)]);
        assert.deepEqual(await ledger.getFailures(second + 1), []);
      });

      it('keeps the order of failures recorded by calls in flight together', async () => {
        const f = (n: number) => ({ itemId: `i-${n}`, sourceUserId: null, mailbox: null, code: 'ITEM_INVALID', reason: `r${n}` });
        await Promise.all([ledger.recordFailures(first, [f(1), f(2)]), ledger.recordFailures(first, [f(3)])]);
        assert.deepEqual((await ledger.getFailures(first)).map((x) => x.itemId), ['i-1', 'i-2', 'i-3']);
      });

      it('refuses failures of a run that does not exist', async () => {
        await assert.rejects(ledger.recordFailures(first + 100, [{ itemId: null, sourceUserId: null, mailbox: null, code: 'X', reason: 'y' }]), { code: 'LEDGER_ERROR' });
      });
    });

    describe('containers and items', () => {
      it('upserts containers by sha256: the latest verdict wins, the first time seen stays', async () => {
        await ledger.recordContainer({ sha256: 'aa', file: '/in/a.xip', ok: true, runId: first });
        clock.advance(5000);
        await ledger.recordContainer({ sha256: 'aa', file: '/in/again/a.xip', ok: false, code: 'CERT_REVOKED', runId: first });
        assert.deepEqual(await ledger.getContainer('aa'), { sha256: 'aa', ok: false, code: 'CERT_REVOKED', firstSeen: new Date(T0) });
        assert.equal(await ledger.getContainer('bb'), undefined);
        await assert.rejects(ledger.recordContainer({ sha256: 'cc', file: 'c.xip', ok: true, runId: first + 100 }), { code: 'LEDGER_ERROR' });
      });

      it('reads an item back by its Message-ID: the latest record wins', async () => {
        await ledger.recordContainer({ sha256: 'aa', file: 'a.xip', ok: true, runId: first });
        await ledger.recordItems([{ messageId: '<1@xip.invalid>', source: 's', itemId: '1', containerSha256: 'aa', entry: 'items/a.ndjson', line: 3, ok: true }]);
        assert.deepEqual(await ledger.getItem('<1@xip.invalid>'), { messageId: '<1@xip.invalid>', source: 's', itemId: '1', containerSha256: 'aa', entry: 'items/a.ndjson', line: 3, ok: true });
        await ledger.recordItems([{ messageId: '<1@xip.invalid>', source: 's', itemId: '1', containerSha256: 'aa', entry: 'items/b.json', ok: false, code: 'ITEM_INVALID', message: 'why' }]);
        assert.deepEqual(await ledger.getItem('<1@xip.invalid>'), { messageId: '<1@xip.invalid>', source: 's', itemId: '1', containerSha256: 'aa', entry: 'items/b.json', ok: false, code: 'ITEM_INVALID', message: 'why' });
        assert.equal(await ledger.getItem('<2@xip.invalid>'), undefined);
      });

      it('refuses items whose container was not recorded', async () => {
        await ledger.recordContainer({ sha256: 'aa', file: 'a.xip', ok: true, runId: first });
        await ledger.recordItems([{ messageId: '<1@xip.invalid>', source: 's', itemId: '1', containerSha256: 'aa', entry: 'e', ok: true }]);
        await assert.rejects(ledger.recordItems([{ messageId: '<2@xip.invalid>', source: 's', itemId: '2', containerSha256: 'cc', entry: 'e', ok: true }]), { code: 'LEDGER_ERROR' });
      });
    });

    it('answers LEDGER_ERROR once closed, and a second close is harmless', async () => {
      await ledger.close();
      await ledger.close();
      await assert.rejects(ledger.hasDeliveredTo(MAILBOX, FOLDER), { code: 'LEDGER_ERROR' });
      await assert.rejects(claim(first, 1), { code: 'LEDGER_ERROR' });
    });
  });
}
