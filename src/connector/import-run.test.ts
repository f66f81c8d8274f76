// The import run's stages through in-memory adapters (test doubles, named as
// such: InMemoryTarget, InMemoryLedger), for the failures a real server or
// database cannot be made to show on demand: a claim lost to another run, a
// lease expiring, a target answering `unknown`, a run dying mid-way. The same
// cases run on the SQLite ledger too. End to end against Dovecot:
// test/import.test.ts and test/concurrent-import.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InMemoryLedger } from '../ledger/test-support/memory-ledger.js';
import { openSqliteLedger } from '../ledger/sqlite.js';
import { createDirectory, mappingOptions } from '../mapping/index.js';
import { messageIdFor } from '../message/index.js';
import type { Ledger } from '../ports/ledger.js';
import { fileSource } from '../sources/files.js';
import { buildContainer, tempDir, testIdentity } from '../xip/test-support/container.js';
import { runImport, type ImportOptions } from './import-run.js';
import type { Runner } from './lease.js';
import { InMemoryTarget } from './test-support/memory-target.js';

const FOLDER = 'INBOX/XIP';
const ANA = 'ana@corp.example';
const BO = 'bo@corp.example';
const directory = createDirectory([
  { address: ANA, name: 'Ana', aliases: [], litigationHold: true },
  { address: BO, name: 'Bo', aliases: [], litigationHold: true },
]);

const chat = (id: string) => ({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: ANA }, participants: [{ email: BO, role: 'to' }], body: { text: `text of ${id}` } });
const ndjson = (items: readonly unknown[]) => items.map((i) => JSON.stringify(i)).join('\n') + '\n';

let dir: string;
let ten: string;
/** The Message-IDs of the ten items of `ten` (source "test", the test containers' package source). */
const TEN_IDS = Array.from({ length: 10 }, (_, i) => messageIdFor('test', `c-${i}`));

/** A clock the test moves. */
function clock(start = Date.parse('2026-12-01T10:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

const alive: Runner = { host: 'test-host', pid: 1000, isAlive: () => true };

type LedgerKind = { name: string; open(now: () => Date): Promise<Ledger> };
const LEDGERS: LedgerKind[] = [
  { name: 'InMemoryLedger', open: async (now) => new InMemoryLedger({ now }) },
  { name: 'SQLite', open: (now) => openSqliteLedger(join(dir, `ledger-${Math.random().toString(36).slice(2)}.db`), { now }) },
];

function options(files: string[], target: InMemoryTarget, ledger: Ledger, extra: Partial<ImportOptions> = {}): ImportOptions {
  return {
    source: fileSource(files),
    verify: { trust: testIdentity().trust },
    mapping: mappingOptions({ directory }),
    folder: FOLDER,
    target,
    ledger,
    connectorName: 'test',
    command: 'test',
    runner: alive,
    ...extra,
  };
}

before(async () => {
  dir = await tempDir('xip-run-');
  ten = await buildContainer(join(dir, 'ten.xip'), { data: { 'items/day.ndjson': ndjson(Array.from({ length: 10 }, (_, i) => chat(`c-${i}`))) } });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const kind of LEDGERS) {
  describe(`the import run on ${kind.name}`, () => {
    it('delivers every copy once and counts it; a second run delivers nothing', async () => {
      const c = clock();
      const ledger = await kind.open(c.now);
      const target = new InMemoryTarget();
      const first = await runImport(options([ten], target, ledger, { now: c.now }));
      assert.equal(first.imported, 20);
      assert.equal(first.failed, 0);
      const second = await runImport(options([ten], target, ledger, { now: c.now }));
      assert.equal(second.imported, 0);
      assert.equal(second.skippedDuplicates, 20);
      assert.equal(target.attempts.length, 20, 'nothing was sent twice');
      await ledger.close();
    });

    it('a target answering unknown (message stored): the copy stays pending, the next run finds it and does not resend', async () => {
      const c = clock();
      const ledger = await kind.open(c.now);
      const target = new InMemoryTarget();
      target.fate = (mailbox, id) => (mailbox === BO && target.attempts.filter((a) => a.mailbox === BO && a.messageId === id).length === 1 ? 'unknown-stored' : 'store');
      const first = await runImport(options([ten], target, ledger, { now: c.now }));
      assert.equal(first.imported, 10);
      assert.equal(first.failed, 10);
      assert.ok(first.failures.every((f) => f.outcome === 'unknown' && f.mailbox === BO), JSON.stringify(first.failures[0]));
      assert.equal((await ledger.pendingFor(BO, FOLDER)).length, 10, 'unknown copies stay pending');
      const second = await runImport(options([ten], target, ledger, { now: c.now }));
      assert.equal(second.skippedDuplicates, 20);
      assert.equal(second.imported, 0);
      assert.equal(target.attempts.length, 20, 'the unknown copies were looked up, not sent again');
      assert.equal((await ledger.pendingFor(BO, FOLDER)).length, 0);
      await ledger.close();
    });

    it('a target answering unknown (message not stored): the next run looks it up, then sends it once', async () => {
      const c = clock();
      const ledger = await kind.open(c.now);
      const target = new InMemoryTarget();
      let lose = true;
      target.fate = (mailbox) => (lose && mailbox === BO ? 'unknown-lost' : 'store');
      await runImport(options([ten], target, ledger, { now: c.now }));
      lose = false;
      const second = await runImport(options([ten], target, ledger, { now: c.now }));
      assert.equal(second.imported, 10);
      assert.equal(second.skippedDuplicates, 10);
      assert.equal(target.copiesIn(BO, FOLDER).length, 10);
      await ledger.close();
    });

    it('a target failing as a whole mid-batch: what it did not answer for is unknown, and the next run delivers each copy once', async () => {
      const c = clock();
      const ledger = await kind.open(c.now);
      const target = new InMemoryTarget();
      let n = 0;
      target.fate = (mailbox) => (mailbox === BO && ++n === 4 ? 'throw' : 'store');
      const first = await runImport(options([ten], target, ledger, { now: c.now }));
      const unknowns = first.failures.filter((f) => f.outcome === 'unknown');
      assert.equal(unknowns.length, 7, 'the 7 copies of the batch the target did not answer for');
      const second = await runImport(options([ten], target, ledger, { now: c.now }));
      assert.equal(second.imported + second.skippedDuplicates, 20);
      assert.equal(target.copiesIn(BO, FOLDER).length, 10);
      await ledger.close();
    });

    it('a claim held by another live run: those copies are left to it, not sent', async () => {
      const c = clock();
      const ledger = await kind.open(c.now);
      const target = new InMemoryTarget();
      const other = await ledger.startRun({ startedAt: c.now(), command: 'other', host: 'elsewhere', pid: 7, leaseMs: 60_000 });
      // The other run claims ana's copies (it is sending them).
      await ledger.claim(ANA, FOLDER, TEN_IDS, other);
      const log = await runImport(options([ten], target, ledger, { now: c.now }));
      assert.equal(log.inProgressElsewhere, 10);
      assert.equal(log.imported, 10);
      assert.deepEqual(target.copiesIn(ANA, FOLDER), [], 'nothing sent where the other run holds the claims');
      await ledger.close();
    });

    it('a lease that expired: its copies are taken over, looked up first, and sent once', async () => {
      const c = clock();
      const ledger = await kind.open(c.now);
      const target = new InMemoryTarget();
      const anaIds = TEN_IDS;
      const crashed = await ledger.startRun({ startedAt: c.now(), command: 'crashed', host: 'elsewhere', pid: 7, leaseMs: 60_000 });
      await ledger.claim(ANA, FOLDER, anaIds, crashed);
      // The crashed run had stored three of them before it died.
      for (const id of anaIds.slice(0, 3)) target.folder(ANA, FOLDER).set(id, 'by-the-crashed-run');
      c.advance(61_000);
      const log = await runImport(options([ten], target, ledger, { now: c.now }));
      assert.equal(log.inProgressElsewhere, 0);
      assert.equal(log.skippedDuplicates, 3, 'found in the target');
      assert.equal(log.imported, 17);
      assert.equal(target.attempts.filter((a) => a.mailbox === ANA).length, 7);
      await ledger.close();
    });

    it('a run of this host whose process is gone: its claims are taken over at once, without waiting for the lease', async () => {
      const c = clock();
      const ledger = await kind.open(c.now);
      const target = new InMemoryTarget();
      const dead = await ledger.startRun({ startedAt: c.now(), command: 'killed', host: 'test-host', pid: 4242, leaseMs: 60_000 });
      await ledger.claim(ANA, FOLDER, TEN_IDS, dead);
      const log = await runImport(options([ten], target, ledger, { now: c.now, runner: { ...alive, isAlive: (pid) => pid !== 4242 } }));
      assert.equal(log.inProgressElsewhere, 0);
      assert.equal(log.imported, 20);
      await ledger.close();
    });

    it('a dead run whose last batch is still landing in the store: its copies are looked up only once the target\'s settle time has passed, and found', async () => {
      // Real time: the settle wait is real. The dead run's MULTIAPPEND was
      // received whole by the server, which stores it 200 ms later.
      const ledger = await kind.open(() => new Date());
      const target = new InMemoryTarget();
      target.settleMs = 400;
      const dead = await ledger.startRun({ startedAt: new Date(), command: 'killed', host: 'test-host', pid: 4242, leaseMs: 60_000 });
      await ledger.claim(ANA, FOLDER, TEN_IDS, dead);
      const landing = new Promise<void>((resolve) =>
        setTimeout(() => {
          for (const id of TEN_IDS) target.folder(ANA, FOLDER).set(id, 'by-the-dead-run');
          resolve();
        }, 200),
      );
      const started = Date.now();
      const log = await runImport(options([ten], target, ledger, { runner: { ...alive, isAlive: (pid) => pid !== 4242 } }));
      await landing;
      assert.deepEqual(
        target.attempts.filter((a) => a.mailbox === ANA),
        [],
        'nothing of ana was sent again: the lookup came after the late store',
      );
      assert.ok(Date.now() - started >= 400, 'the run waited for the settle time');
      assert.equal(log.skippedDuplicates, 10, 'found in the target');
      assert.equal(log.imported, 10, "bo's copies");
      assert.equal(log.inProgressElsewhere, 0);
      assert.deepEqual([...new Set(target.folder(ANA, FOLDER).values())], ['by-the-dead-run']);
      await ledger.close();
    });

    it('a run whose lease lapsed stops sending (LEASE_LOST) and records itself failed with that code', async () => {
      const c = clock();
      const ledger = await kind.open(c.now);
      const target = new InMemoryTarget();
      // The clock jumps past the lease before the first batch: the process was paused too long.
      target.beforeBatch = async () => c.advance(120_000);
      let runId: number | undefined;
      const startRun = ledger.startRun.bind(ledger);
      ledger.startRun = async (info) => (runId = await startRun(info));
      await assert.rejects(runImport(options([ten], target, ledger, { now: c.now, settings: { batchSize: 5 } })), (e: { code?: string }) => e.code === 'LEASE_LOST');
      assert.ok(target.attempts.length <= 5, `at most the batch in flight was sent (${target.attempts.length})`);
      assert.equal((await ledger.liveRuns()).some((r) => r.id === runId), false, 'the run is finished');
      await ledger.close();
    });
  });
}

describe('the import run, one stage at a time', () => {
  it('a concurrency of 0 is a usage error before anything is touched', async () => {
    const ledger = new InMemoryLedger();
    await assert.rejects(runImport(options([ten], new InMemoryTarget(), ledger, { settings: { concurrency: 0 } })), (e: { code?: string }) => e.code === 'USAGE');
    assert.deepEqual(await ledger.liveRuns(), []);
  });

  it('a thrown fault ends the run record as failed with its code', async () => {
    const ledger = new InMemoryLedger();
    const target = new InMemoryTarget();
    target.beforeBatch = async () => {
      throw new Error('a defect in the target');
    };
    const finished: { ok: boolean; code?: string | undefined }[] = [];
    const finishRun = ledger.finishRun.bind(ledger);
    ledger.finishRun = async (runId, info) => {
      finished.push(info);
      await finishRun(runId, info);
    };
    await assert.rejects(runImport(options([ten], target, ledger)), /a defect in the target/);
    assert.deepEqual(finished.map((f) => [f.ok, f.code]), [[false, 'RUN_FAILED']]);
    assert.deepEqual(await ledger.liveRuns(), [], 'its lease ended with it');
  });

  it('a second item with an id already read from the container is ITEM_DUPLICATE_ID; the first is delivered', async () => {
    const file = await buildContainer(join(dir, 'dup.xip'), { data: { 'items/day.ndjson': ndjson([chat('same'), { ...chat('same'), body: { text: 'another item, same id' } }, chat('other')]) } });
    const target = new InMemoryTarget();
    const log = await runImport(options([file], target, new InMemoryLedger()));
    assert.equal(log.itemsFromSource, 3);
    assert.equal(log.imported, 4);
    assert.deepEqual(
      log.failures.map((f) => [f.itemId, f.code, f.line]),
      [['same', 'ITEM_DUPLICATE_ID', 2]],
    );
    const [stored] = [...target.folder(ANA, FOLDER).keys()];
    assert.ok(stored);
  });

  it('with a filter so small that every Message-ID may have been seen, the ledger settles it: no item is taken for a duplicate, the real one still is', async () => {
    const file = await buildContainer(join(dir, 'dup-small.xip'), { data: { 'items/day.ndjson': ndjson([chat('same'), chat('x'), chat('same'), chat('y')]) } });
    const ledger = new InMemoryLedger();
    let lookups = 0;
    const getItem = ledger.getItem.bind(ledger);
    ledger.getItem = (id) => (lookups++, getItem(id));
    for (const run of [1, 2]) {
      const log = await runImport(options([file], new InMemoryTarget(), ledger, { settings: { seenIdsBits: 5 } }));
      assert.deepEqual(log.failures.map((f) => [f.itemId, f.code, f.line]), [['same', 'ITEM_DUPLICATE_ID', 3]], `run ${run}`);
      assert.equal(log.itemsForImport, 6, `run ${run}: same, x and y, two copies each`);
    }
    assert.ok(lookups >= 2, `the ledger was asked (${lookups} times)`);
  });

  it('the item count a container declares is compared with the items read (ITEM_COUNT_MISMATCH); the items read are imported', async () => {
    const file = await buildContainer(join(dir, 'short.xip'), {
      data: { 'items/day.ndjson': ndjson([chat('a'), chat('b')]) },
      package: { version: '1', source: 'short-source', created: '2026-11-22T00:00:00Z', items: 3 },
    });
    const log = await runImport(options([file], new InMemoryTarget(), new InMemoryLedger()));
    assert.equal(log.imported, 4);
    assert.deepEqual(log.failures.map((f) => [f.code, f.file]), [['ITEM_COUNT_MISMATCH', file]]);
    assert.match(log.failures[0]!.reason, /declares 3 items, 2 were read/);
    assert.equal(log.containers[0]!.itemsDeclared, 3);
  });

  it('a bad xip.json fails its container, not the run', async () => {
    const bad = await buildContainer(join(dir, 'bad-json.xip'), { package: null, data: { 'xip.json': '{"source": 42}', 'items/day.ndjson': ndjson([chat('x')]) } });
    const target = new InMemoryTarget();
    const log = await runImport(options([bad, ten], target, new InMemoryLedger()));
    assert.deepEqual(log.containers.map((c) => [c.ok, c.code]), [[false, 'XIP_JSON_INVALID'], [true, null]]);
    assert.equal(log.imported, 20);
  });

  it("records the signing certificate's subject on each container whose signature verified, none on one rejected before", async () => {
    const stranger = await buildContainer(join(dir, 'stranger.xip'), { data: { 'items/day.ndjson': ndjson([chat('s')]) }, identity: testIdentity('stranger') });
    const bad = await buildContainer(join(dir, 'bad-json-signed.xip'), { package: null, data: { 'xip.json': '{"source": 42}', 'items/day.ndjson': ndjson([chat('y')]) } });
    const log = await runImport(options([stranger, bad, ten], new InMemoryTarget(), new InMemoryLedger()));
    assert.deepEqual(log.containers.map((c) => [c.code, c.signer]), [
      ['CERT_UNTRUSTED', undefined],
      ['XIP_JSON_INVALID', 'CN=Test signer default, O=xip tests'],
      [null, 'CN=Test signer default, O=xip tests'],
    ]);
  });

  it('a FIFO named as a container is refused at once (IO_ERROR), and the next container is imported', async () => {
    const fifo = join(dir, 'pipe.xip');
    execFileSync('mkfifo', [fifo]);
    const target = new InMemoryTarget();
    const log = await runImport(options([fifo, ten], target, new InMemoryLedger()));
    assert.deepEqual(log.containers.map((c) => [c.file, c.ok, c.code]), [[fifo, false, 'IO_ERROR'], [ten, true, null]]);
    assert.match(log.containers[0]!.message ?? '', /FIFO/);
    assert.equal(log.imported, 20);
  });

  it('every failure is in the ledger, while the log keeps a capped list', async () => {
    const ledger = new InMemoryLedger();
    const target = new InMemoryTarget();
    target.fate = () => 'fail';
    const log = await runImport(options([ten], target, ledger, { settings: { maxFailuresInLog: 3 } }));
    assert.equal(log.failed, 20);
    assert.equal(log.failures.length, 3);
    assert.equal(log.failuresOmitted, 17);
    assert.equal((await ledger.getFailures(log.runId!)).length, 20);
  });

  it('two runs at the same time on one ledger and one target: every copy once', async () => {
    const c = clock();
    const ledger = new InMemoryLedger({ now: c.now });
    const target = new InMemoryTarget();
    // Each batch yields to the event loop, so that the two runs interleave batch by batch.
    target.beforeBatch = () => new Promise((resolve) => setTimeout(resolve, 1));
    const settings = { batchSize: 2 };
    const logs = await Promise.all([
      runImport(options([ten], target, ledger, { now: c.now, settings, runner: { ...alive, pid: 1 } })),
      runImport(options([ten], target, ledger, { now: c.now, settings, runner: { ...alive, pid: 2 } })),
    ]);
    assert.equal(target.attempts.length, 20, 'no copy was sent twice');
    assert.equal(target.copiesIn(ANA, FOLDER).length + target.copiesIn(BO, FOLDER).length, 20);
    for (const log of logs) assert.equal(log.imported + log.skippedDuplicates + log.inProgressElsewhere, 20, JSON.stringify(log));
  });
});
