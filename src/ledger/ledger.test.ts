// The SQLite ledger's rows, batches and transactions, through both delivery
// writers. What every Ledger must do is the contract suite's
// (ledger-contract.test.ts); this file checks what the port does not show:
// the stored rows, chunking past SQLite's bound-value limit, all-or-nothing
// writes, and what survives a reopen.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { deliveryKey, type CopyKey, type Ledger } from './port.js';
import { rows, steppingClock, tempDir, WRITERS } from './test-support/ledgers.js';

const FOLDER = 'Inbox/XIP';
const MAILBOX = 'ana@corp.example';
const copy = (n: number): CopyKey => ({ messageId: `<${n.toString(16).padStart(32, '0')}@xip.invalid>`, mailbox: MAILBOX, folder: FOLDER });
const LEASE = { host: 'host-a', pid: 4242, leaseMs: 60_000 };

for (const [writer, open] of WRITERS) {
  describe(`Ledger on SQLite, ${writer}`, () => {
    let tmp: ReturnType<typeof tempDir>;
    let path: string;
    let ledger: Ledger;
    let runId: number;
    const claim = (keys: readonly CopyKey[], run = runId) =>
      ledger.claim(MAILBOX, FOLDER, keys.map((k) => k.messageId), run);

    beforeEach(async () => {
      tmp = tempDir();
      path = join(tmp.dir, 'ledger.db');
      ledger = await open(path, steppingClock());
      runId = await ledger.startRun({ startedAt: new Date('2026-01-01T00:00:00Z'), command: 'xip import', ...LEASE });
    });
    afterEach(async () => {
      await ledger.close();
      tmp.remove();
    });

    describe('runs', () => {
      it('records a run from start to finish: where it ran, its lease, its code and JSON log', async () => {
        const second = await ledger.startRun({ startedAt: new Date('2026-01-02T00:00:00Z'), command: 'xip import b.xip', host: 'host-b', pid: 7, leaseMs: 30_000 });
        assert.equal(second, runId + 1);
        await ledger.finishRun(runId, { finishedAt: new Date('2026-01-01T00:05:00Z'), ok: false, code: 'LEDGER_ERROR', log: { ok: false, items: 3 } });
        // The stepping clock read 00:00:00 for the first lease, 00:00:01 for the second, 00:00:02 at the finish, which ends the first lease.
        assert.deepEqual(rows(path, 'select id, command, host, pid, started_at, lease_until, finished_at, ok, code, log from runs order by id'), [
          { id: runId, command: 'xip import', host: 'host-a', pid: 4242, started_at: '2026-01-01T00:00:00.000Z', lease_until: '2026-01-01T00:00:02.000Z', finished_at: '2026-01-01T00:05:00.000Z', ok: 0, code: 'LEDGER_ERROR', log: '{"ok":false,"items":3}' },
          { id: second, command: 'xip import b.xip', host: 'host-b', pid: 7, started_at: '2026-01-02T00:00:00.000Z', lease_until: '2026-01-01T00:00:31.000Z', finished_at: null, ok: null, code: null, log: null },
        ]);
      });

      it('ends a lease at the time of finish or expiry on the ledger clock, and leaves a finished run as it was', async () => {
        const second = await ledger.startRun({ startedAt: new Date(), command: 'xip import', ...LEASE }); // clock 00:00:01
        await ledger.finishRun(runId, { finishedAt: new Date('2026-01-01T00:00:30Z'), ok: true, log: {} }); // clock 00:00:02
        await ledger.expireRun(runId); // clock 00:00:03: finished already, nothing to end
        await ledger.expireRun(second); // clock 00:00:04
        await ledger.finishRun(second, { finishedAt: new Date('2026-01-01T00:00:40Z'), ok: true, log: {} }); // clock 00:00:05: ended already
        assert.deepEqual(rows(path, 'select id, lease_until from runs order by id'), [
          { id: runId, lease_until: '2026-01-01T00:00:02.000Z' },
          { id: second, lease_until: '2026-01-01T00:00:04.000Z' },
        ]);
      });
    });

    describe('containers and items', () => {
      it('upserts containers by sha256: the latest verdict replaces the previous one, first_seen and first_run_id stay', async () => {
        await ledger.recordContainer({ sha256: 'aa', file: '/in/a.xip', ok: true, signerSubject: 'CN=Src', signerSha256: 'ff', source: 'sym', itemsDeclared: 2, runId });
        const later = await ledger.startRun({ startedAt: new Date(), command: 'xip import', ...LEASE });
        await ledger.recordContainer({ sha256: 'aa', file: '/in/again/a.xip', ok: false, code: 'CERT_REVOKED', message: 'revoked', runId: later });
        assert.deepEqual(rows(path, 'select file, ok, code, message, signer_subject, first_seen, last_seen, first_run_id, last_run_id from containers'), [
          { file: '/in/again/a.xip', ok: 0, code: 'CERT_REVOKED', message: 'revoked', signer_subject: null, first_seen: '2026-01-01T00:00:01.000Z', last_seen: '2026-01-01T00:00:03.000Z', first_run_id: runId, last_run_id: later },
        ]);
      });

      it('upserts items by Message-ID, the latest record winning', async () => {
        await ledger.recordContainer({ sha256: 'aa', file: 'a.xip', ok: true, runId });
        await ledger.recordContainer({ sha256: 'bb', file: 'b.xip', ok: true, runId });
        await ledger.recordItems([
          { messageId: '<1@xip.invalid>', source: 'sym', itemId: 'i-1', containerSha256: 'aa', entry: 'items/a.ndjson', line: 1, ok: true },
          { messageId: '<2@xip.invalid>', source: 'sym', itemId: 'i-2', containerSha256: 'aa', entry: 'items/2.json', ok: false, code: 'ITEM_INVALID', message: 'id: is required' },
        ]);
        await ledger.recordItems([{ messageId: '<1@xip.invalid>', source: 'sym', itemId: 'i-1', containerSha256: 'bb', entry: 'items/b.ndjson', line: 7, ok: true }]);
        assert.deepEqual(rows(path, 'select message_id, item_id, container_sha256, entry, line, ok, code, message from items order by message_id'), [
          { message_id: '<1@xip.invalid>', item_id: 'i-1', container_sha256: 'bb', entry: 'items/b.ndjson', line: 7, ok: 1, code: null, message: null },
          { message_id: '<2@xip.invalid>', item_id: 'i-2', container_sha256: 'aa', entry: 'items/2.json', line: null, ok: 0, code: 'ITEM_INVALID', message: 'id: is required' },
        ]);
      });

      it('refuses, whole, items whose container was not recorded, saying what to do', async () => {
        await ledger.recordContainer({ sha256: 'aa', file: 'a.xip', ok: true, runId });
        await assert.rejects(
          ledger.recordItems([
            { messageId: '<1@xip.invalid>', source: 's', itemId: '1', containerSha256: 'aa', entry: 'e', ok: true },
            { messageId: '<2@xip.invalid>', source: 's', itemId: '2', containerSha256: 'cc', entry: 'e', ok: true },
          ]),
          (e: { code?: string; detail?: string }) => e.code === 'LEDGER_ERROR' && /recordItems: SQLITE_CONSTRAINT_FOREIGNKEY: .*recordContainer/.test(e.detail ?? ''),
        );
        assert.deepEqual(rows(path, 'select count(*) n from items'), [{ n: 0 }]);
      });
    });

    describe('failures', () => {
      it('stores every failure with its run and sequence number', async () => {
        await ledger.recordFailures(runId, [{ itemId: 'i-1', sourceUserId: 'u-1', mailbox: null, code: 'MAPPING_NO_MAILBOX', reason: 'no mailbox for u-1', entry: 'items/a.ndjson', line: 3, file: '/in/a.xip' }]);
        await ledger.recordFailures(runId, [{ itemId: null, sourceUserId: null, mailbox: MAILBOX, code: 'STORAGE_FULL', reason: 'quota' }]);
        assert.deepEqual(rows(path, 'select run_id, seq, item_id, source_user_id, mailbox, code, reason, entry, line, file from run_failures order by seq'), [
          { run_id: runId, seq: 1, item_id: 'i-1', source_user_id: 'u-1', mailbox: null, code: 'MAPPING_NO_MAILBOX', reason: 'no mailbox for u-1', entry: 'items/a.ndjson', line: 3, file: '/in/a.xip' },
          { run_id: runId, seq: 2, item_id: null, source_user_id: null, mailbox: MAILBOX, code: 'STORAGE_FULL', reason: 'quota', entry: null, line: null, file: null },
        ]);
      });

      it('continues a run\'s sequence after a reopen', async () => {
        const f = { itemId: null, sourceUserId: null, mailbox: null, code: 'X', reason: 'y' };
        await ledger.recordFailures(runId, [f, f]);
        await ledger.close();
        ledger = await open(path);
        await ledger.recordFailures(runId, [f]);
        assert.deepEqual(rows(path, 'select seq from run_failures order by seq'), [{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
      });
    });

    describe('deliveries', () => {
      it('stores a claim as pending with its run, what it was claimed from, and the attempts; a failure with code and reason', async () => {
        await claim([copy(1)]);
        await ledger.markFailed([{ ...copy(1), code: 'STORAGE_FULL', reason: 'quota exceeded' }], runId);
        const query = 'select state, ref, code, reason, run_id, attempts, claimed_from from deliveries';
        assert.deepEqual(rows(path, query), [{ state: 'failed', ref: null, code: 'STORAGE_FULL', reason: 'quota exceeded', run_id: runId, attempts: 1, claimed_from: null }]);
        const retry = await ledger.startRun({ startedAt: new Date(), command: 'xip import', ...LEASE });
        await claim([copy(1)], retry);
        assert.deepEqual(rows(path, query), [{ state: 'pending', ref: null, code: null, reason: null, run_id: retry, attempts: 2, claimed_from: 'failed' }]);
        await ledger.finishRun(retry, { finishedAt: new Date(), ok: false, log: {} });
        const third = await ledger.startRun({ startedAt: new Date(), command: 'xip import', ...LEASE });
        await claim([copy(1)], third);
        await ledger.markDelivered([{ ...copy(1), ref: 'cur/1' }], third);
        assert.deepEqual(rows(path, query), [{ state: 'delivered', ref: 'cur/1', code: null, reason: null, run_id: third, attempts: 3, claimed_from: 'pending' }]);
      });

      it('writes a copy listed twice in one markDelivered once, the last listing winning', async () => {
        await ledger.markDelivered([{ ...copy(1), ref: 'first' }, { ...copy(1), ref: 'second' }], runId);
        assert.deepEqual(rows(path, 'select message_id, ref, attempts from deliveries'), [{ message_id: copy(1).messageId, ref: 'second', attempts: 0 }]);
      });

      it('refuses deliveries of a run that does not exist, saying where run ids come from', async () => {
        await assert.rejects(ledger.markDelivered([{ ...copy(1), ref: 'r' }], runId + 100), (e: { code?: string; detail?: string }) => e.code === 'LEDGER_ERROR' && /markDelivered: .*startRun/.test(e.detail ?? ''));
        assert.deepEqual(rows(path, 'select count(*) n from deliveries'), [{ n: 0 }]);
      });
    });

    describe('large batches', () => {
      it('chunks 45,000 copies (more than SQLite allows variables in a statement) in every method', async () => {
        const keys = Array.from({ length: 45_000 }, (_, i) => copy(i));
        const other = await ledger.startRun({ startedAt: new Date(), command: 'xip import', ...LEASE });
        await claim(keys.slice(0, 10_000), other);
        await ledger.markDelivered(keys.slice(10_000, 20_000).map((k) => ({ ...k, ref: 'earlier' })), other);
        const answers = await claim(keys);
        assert.equal(answers.size, 45_000);
        const count = (v: string) => [...answers.values()].filter((a) => a.verdict === v).length;
        assert.deepEqual([count('busy'), count('delivered'), count('send')], [10_000, 10_000, 25_000]);
        assert.deepEqual(answers.get(copy(9_999).messageId), { verdict: 'busy', owner: other });
        assert.deepEqual(answers.get(copy(19_999).messageId), { verdict: 'delivered', ref: 'earlier' });
        assert.equal((await ledger.pendingFor(MAILBOX, FOLDER)).length, 35_000);
        await ledger.markDelivered(keys.map((k, i) => ({ ...k, ref: `1:${i}` })), runId);
        const delivered = await ledger.getDeliveries(keys);
        assert.equal([...delivered.values()].filter((d) => d.state === 'delivered').length, 45_000);
        assert.deepEqual(delivered.get(deliveryKey(copy(44_999))), { state: 'delivered', ref: '1:44999', runId });
        const failing = Array.from({ length: 45_000 }, (_, i) => copy(100_000 + i));
        await claim(failing);
        await ledger.markFailed(failing.map((k) => ({ ...k, code: 'TARGET_REJECTED', reason: 'no' })), runId);
        assert.deepEqual(rows(path, 'select state, count(*) n from deliveries group by state order by state'), [
          { state: 'delivered', n: 45_000 },
          { state: 'failed', n: 45_000 },
        ]);
      });

      it('claims in one transaction: a fault at copy 40,000 of 50,000 leaves none claimed', async () => {
        const ids = Array.from({ length: 50_000 }, (_, i) => (i === 40_000 ? (null as unknown as string) : copy(i).messageId));
        await assert.rejects(ledger.claim(MAILBOX, FOLDER, ids, runId), { code: 'LEDGER_ERROR' });
        assert.deepEqual(rows(path, 'select count(*) n from deliveries'), [{ n: 0 }]);
      });

      it('marks delivered in one transaction: a fault at copy 40,000 of 50,000 leaves none written', async () => {
        const broken = Array.from({ length: 50_000 }, (_, i) => ({ ...copy(i), messageId: i === 40_000 ? (null as unknown as string) : copy(i).messageId, ref: `r${i}` }));
        await assert.rejects(ledger.markDelivered(broken, runId), { code: 'LEDGER_ERROR' });
        assert.deepEqual(rows(path, 'select count(*) n from deliveries'), [{ n: 0 }]);
      });
    });

    it('keeps what was committed across close and reopen, claims included', async () => {
      await ledger.recordContainer({ sha256: 'aa', file: 'a.xip', ok: true, runId });
      await claim([copy(1), copy(2)]);
      await ledger.markDelivered([{ ...copy(1), ref: '1:1' }], runId);
      await ledger.close();
      ledger = await open(path, steppingClock());
      assert.deepEqual([...(await ledger.getDeliveries([copy(1), copy(2)])).values()], [
        { state: 'delivered', ref: '1:1', runId },
        { state: 'pending', ref: null, runId },
      ]);
      assert.equal((await ledger.getContainer('aa'))?.ok, true);
      const next = await ledger.startRun({ startedAt: new Date(), command: 'again', ...LEASE });
      assert.equal(next, runId + 1);
      assert.deepEqual([...(await claim([copy(2)], next)).values()], [{ verdict: 'busy', owner: runId }], 'the claim outlives the process that took it');
    });
  });
}
