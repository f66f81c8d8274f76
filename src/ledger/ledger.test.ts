import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { deliveryKey, type CopyKey, type Ledger } from './port.js';
import { rows, steppingClock, tempDir, WRITERS } from './test-support/ledgers.js';

const FOLDER = 'Inbox/XIP';
const copy = (n: number, mailbox = 'ana@corp.example', folder = FOLDER): CopyKey => ({ messageId: `<${n.toString(16).padStart(32, '0')}@xip.invalid>`, mailbox, folder });

for (const [writer, open] of WRITERS) {
  describe(`Ledger on SQLite, ${writer}`, () => {
    let tmp: ReturnType<typeof tempDir>;
    let path: string;
    let ledger: Ledger;
    let runId: number;

    beforeEach(async () => {
      tmp = tempDir();
      path = join(tmp.dir, 'ledger.db');
      ledger = await open(path, steppingClock());
      runId = await ledger.startRun({ startedAt: new Date('2026-01-01T00:00:00Z'), command: 'xip import' });
    });
    afterEach(async () => {
      await ledger.close();
      tmp.remove();
    });

    describe('runs', () => {
      it('records a run from start to finish, with its JSON log', async () => {
        const second = await ledger.startRun({ startedAt: new Date('2026-01-02T00:00:00Z'), command: 'xip import b.xip' });
        assert.equal(second, runId + 1);
        await ledger.finishRun(runId, { finishedAt: new Date('2026-01-01T00:05:00Z'), ok: false, log: { ok: false, items: 3 } });
        assert.deepEqual(rows(path, 'select id, command, started_at, finished_at, ok, log from runs order by id'), [
          { id: runId, command: 'xip import', started_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:05:00.000Z', ok: 0, log: '{"ok":false,"items":3}' },
          { id: second, command: 'xip import b.xip', started_at: '2026-01-02T00:00:00.000Z', finished_at: null, ok: null, log: null },
        ]);
      });

      it('refuses to finish a run that does not exist', async () => {
        await assert.rejects(ledger.finishRun(999, { finishedAt: new Date(), ok: true, log: {} }), { code: 'LEDGER_ERROR', detail: 'finishRun: there is no run 999' });
      });
    });

    describe('containers', () => {
      it('upserts by sha256: the latest verdict replaces the previous one, first_seen and first_run_id stay', async () => {
        await ledger.recordContainer({ sha256: 'aa', file: '/in/a.xip', ok: true, signerSubject: 'CN=Src', signerSha256: 'ff', source: 'sym', itemsDeclared: 2, runId });
        const first = await ledger.getContainer('aa');
        const later = await ledger.startRun({ startedAt: new Date(), command: 'xip import' });
        await ledger.recordContainer({ sha256: 'aa', file: '/in/again/a.xip', ok: false, code: 'CERT_REVOKED', message: 'revoked', runId: later });
        assert.deepEqual(first, { sha256: 'aa', ok: true, code: null, firstSeen: new Date('2026-01-01T00:00:00Z') });
        assert.deepEqual(await ledger.getContainer('aa'), { sha256: 'aa', ok: false, code: 'CERT_REVOKED', firstSeen: new Date('2026-01-01T00:00:00Z') });
        assert.deepEqual(rows(path, 'select file, signer_subject, first_seen, last_seen, first_run_id, last_run_id from containers'), [
          { file: '/in/again/a.xip', signer_subject: null, first_seen: '2026-01-01T00:00:00.000Z', last_seen: '2026-01-01T00:00:01.000Z', first_run_id: runId, last_run_id: later },
        ]);
      });

      it('answers undefined for a container never seen', async () => {
        assert.equal(await ledger.getContainer('00'), undefined);
      });

      it('refuses a container of a run that does not exist', async () => {
        await assert.rejects(ledger.recordContainer({ sha256: 'bb', file: 'b.xip', ok: true, runId: 42 }), { code: 'LEDGER_ERROR' });
      });
    });

    describe('items', () => {
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

    describe('deliveries', () => {
      it('answers nothing for copies never attempted', async () => {
        assert.equal((await ledger.getDeliveries([copy(1)])).size, 0);
        assert.equal(await ledger.hasDeliveredTo('ana@corp.example', FOLDER), false);
        assert.deepEqual(await ledger.pendingFor('ana@corp.example', FOLDER), []);
      });

      it('moves copies from pending to delivered, keyed by deliveryKey', async () => {
        await ledger.markPending([copy(1), copy(2)], runId);
        let states = await ledger.getDeliveries([copy(1), copy(2), copy(3)]);
        assert.deepEqual([...states], [
          [deliveryKey(copy(1)), { state: 'pending', ref: null }],
          [deliveryKey(copy(2)), { state: 'pending', ref: null }],
        ]);
        assert.deepEqual(await ledger.pendingFor('ana@corp.example', FOLDER), [copy(1), copy(2)]);
        assert.equal(await ledger.hasDeliveredTo('ana@corp.example', FOLDER), false);

        await ledger.markDelivered([{ ...copy(1), ref: '7:101' }], runId);
        states = await ledger.getDeliveries([copy(1), copy(2)]);
        assert.deepEqual(states.get(deliveryKey(copy(1))), { state: 'delivered', ref: '7:101' });
        assert.deepEqual(await ledger.pendingFor('ana@corp.example', FOLDER), [copy(2)]);
        assert.equal(await ledger.hasDeliveredTo('ana@corp.example', FOLDER), true);
      });

      it('records a failure with its code and reason, and clears them when the copy is sent again', async () => {
        await ledger.markPending([copy(1)], runId);
        await ledger.markFailed([{ ...copy(1), code: 'STORAGE_FULL', reason: 'quota exceeded' }], runId);
        assert.deepEqual((await ledger.getDeliveries([copy(1)])).get(deliveryKey(copy(1))), { state: 'failed', ref: null });
        assert.deepEqual(rows(path, 'select state, code, reason, attempts from deliveries'), [{ state: 'failed', code: 'STORAGE_FULL', reason: 'quota exceeded', attempts: 1 }]);
        const retry = await ledger.startRun({ startedAt: new Date(), command: 'xip import' });
        await ledger.markPending([copy(1)], retry);
        await ledger.markDelivered([{ ...copy(1), ref: 'cur/1' }], retry);
        assert.deepEqual(rows(path, 'select state, ref, code, reason, attempts, run_id from deliveries'), [
          { state: 'delivered', ref: 'cur/1', code: null, reason: null, attempts: 2, run_id: retry },
        ]);
      });

      it('records as delivered a copy found in the target that this ledger never sent', async () => {
        await ledger.markDelivered([{ ...copy(5), ref: '9:5' }], runId);
        assert.deepEqual(rows(path, 'select state, ref, attempts from deliveries'), [{ state: 'delivered', ref: '9:5', attempts: 0 }]);
      });

      it('keeps mailboxes and folders apart, exactly as named', async () => {
        await ledger.markDelivered([{ ...copy(1, 'ana@corp.example'), ref: 'a' }], runId);
        await ledger.markPending([copy(1, 'bo@corp.example'), copy(1, 'ana@corp.example', 'Inbox/Other')], runId);
        assert.equal(await ledger.hasDeliveredTo('bo@corp.example', FOLDER), false);
        assert.equal(await ledger.hasDeliveredTo('ana@corp.example', 'Inbox/Other'), false);
        assert.equal(await ledger.hasDeliveredTo('ANA@corp.example', FOLDER), false);
        const states = await ledger.getDeliveries([copy(1, 'ana@corp.example'), copy(1, 'bo@corp.example'), copy(1, 'ana@corp.example', 'Inbox/Other')]);
        assert.deepEqual([...states.values()].map((s) => s.state), ['delivered', 'pending', 'pending']);
        assert.deepEqual(await ledger.pendingFor('bo@corp.example', FOLDER), [copy(1, 'bo@corp.example')]);
      });

      it('writes a copy listed twice in one call once, the last listing winning', async () => {
        await ledger.markDelivered([{ ...copy(1), ref: 'first' }, { ...copy(1), ref: 'second' }], runId);
        await ledger.markPending([copy(2), copy(2)], runId);
        assert.deepEqual(rows(path, 'select message_id, ref, attempts from deliveries order by message_id'), [
          { message_id: copy(1).messageId, ref: 'second', attempts: 0 },
          { message_id: copy(2).messageId, ref: null, attempts: 1 },
        ]);
      });

      it('refuses copies of a run that does not exist, saying where run ids come from', async () => {
        await assert.rejects(ledger.markPending([copy(1)], runId + 100), (e: { code?: string; detail?: string }) => e.code === 'LEDGER_ERROR' && /markPending: .*startRun/.test(e.detail ?? ''));
        assert.equal((await ledger.getDeliveries([copy(1)])).size, 0);
      });

      it('does nothing for empty lists', async () => {
        await ledger.markPending([], runId);
        await ledger.markDelivered([], runId);
        await ledger.markFailed([], runId);
        await ledger.recordItems([]);
        assert.equal((await ledger.getDeliveries([])).size, 0);
      });
    });

    describe('large batches', () => {
      it('chunks 45,000 copies (more than SQLite allows variables in a statement) in every method', async () => {
        const keys = Array.from({ length: 45_000 }, (_, i) => copy(i));
        await ledger.markPending(keys, runId);
        const pending = await ledger.getDeliveries(keys);
        assert.equal(pending.size, 45_000);
        assert.equal((await ledger.pendingFor('ana@corp.example', FOLDER)).length, 45_000);
        await ledger.markDelivered(keys.map((k, i) => ({ ...k, ref: `1:${i}` })), runId);
        const delivered = await ledger.getDeliveries(keys);
        assert.equal([...delivered.values()].filter((d) => d.state === 'delivered').length, 45_000);
        assert.deepEqual(delivered.get(deliveryKey(copy(44_999))), { state: 'delivered', ref: '1:44999' });
        await ledger.markFailed(keys.map((k) => ({ ...k, code: 'TARGET_REJECTED', reason: 'no' })), runId);
        assert.deepEqual(rows(path, 'select state, count(*) n from deliveries group by state'), [{ state: 'failed', n: 45_000 }]);
      });

      it('writes 50,000 copies in one transaction: a fault at copy 40,000 leaves none written', async () => {
        const keys = Array.from({ length: 50_000 }, (_, i) => copy(i));
        const broken = keys.map((k, i) => ({ ...k, messageId: i === 40_000 ? (null as unknown as string) : k.messageId, ref: `r${i}` }));
        await assert.rejects(ledger.markDelivered(broken, runId), { code: 'LEDGER_ERROR' });
        assert.equal((await ledger.getDeliveries(keys)).size, 0);
        const started = performance.now();
        await ledger.markPending(keys, runId);
        // One commit: per-copy commits (50,000 fsyncs) would take minutes.
        assert.ok(performance.now() - started < 10_000, 'markPending of 50,000 copies took more than 10 s');
        assert.equal((await ledger.getDeliveries(keys)).size, 50_000);
      });
    });

    it('keeps what was committed across close and reopen', async () => {
      await ledger.recordContainer({ sha256: 'aa', file: 'a.xip', ok: true, runId });
      await ledger.markPending([copy(1), copy(2)], runId);
      await ledger.markDelivered([{ ...copy(1), ref: '1:1' }], runId);
      await ledger.close();
      await ledger.close(); // a second close is harmless
      ledger = await open(path);
      assert.deepEqual([...(await ledger.getDeliveries([copy(1), copy(2)])).values()], [
        { state: 'delivered', ref: '1:1' },
        { state: 'pending', ref: null },
      ]);
      assert.deepEqual(await ledger.pendingFor('ana@corp.example', FOLDER), [copy(2)]);
      assert.equal((await ledger.getContainer('aa'))?.ok, true);
      assert.equal(await ledger.startRun({ startedAt: new Date(), command: 'again' }), runId + 1);
    });

    it('answers LEDGER_ERROR once closed', async () => {
      await ledger.close();
      await assert.rejects(ledger.hasDeliveredTo('ana@corp.example', FOLDER), { code: 'LEDGER_ERROR' });
    });
  });
}
