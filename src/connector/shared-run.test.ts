// A run shared by several workers (shared-run.ts) on a real SQLite state: a
// container cut into parts that three workers import, the run's log adding
// their logs up; a part left by a worker that died, taken over once its
// lease lapses; a part whose import throws, reported. The target is the
// in-memory test double (memory-target.ts), which throws on a second copy.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { openSqliteState } from '../ledger/sqlite.js';
import type { LedgerState } from '../ledger/stores.js';
import { createDirectory, mappingOptions } from '../mapping/index.js';
import { TO_THE_END, type PartClaim } from '../ports/run-parts.js';
import { fileSource } from '../sources/files.js';
import { buildContainer, tempDir, testIdentity } from '../xip/test-support/container.js';
import { runImport, type ImportOptions } from './import-run.js';
import type { RunLogJson } from './run-log.js';
import { cutIntoParts, workOnePart, type SharedRuns } from './shared-run.js';
import { InMemoryTarget } from './test-support/memory-target.js';

const FOLDER = 'INBOX/XIP';
const ANA = 'ana@corp.example';
const BO = 'bo@corp.example';
const ITEMS = 25;
const directory = createDirectory([
  { address: ANA, name: 'Ana', aliases: [], litigationHold: true },
  { address: BO, name: 'Bo', aliases: [], litigationHold: true },
]);
const chat = (i: number) => ({ id: `c-${i}`, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: ANA }, participants: [{ email: BO, role: 'to' }], body: { text: `text ${i}` } });

let dir: string;
let container: string;

before(async () => {
  dir = await tempDir('xip-shared-');
  const lines = Array.from({ length: ITEMS }, (_, i) => JSON.stringify(i === 7 ? { id: 'broken' } : chat(i)));
  container = await buildContainer(join(dir, 'day.xip'), { data: { 'items/day.ndjson': lines.join('\n') + '\n' } });
});
after(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true });
});

function base(state: LedgerState, target: InMemoryTarget): ImportOptions {
  return {
    source: fileSource([container]),
    verify: { trust: testIdentity().trust },
    mapping: mappingOptions({ directory }),
    folder: FOLDER,
    target,
    ledger: state.ledger,
    connectorName: 'chat',
    command: 'test',
    settings: { batchSize: 4 },
  };
}

function sharedFor(state: LedgerState, target: InMemoryTarget, worker: string, importPart?: (claim: PartClaim) => Promise<RunLogJson>): SharedRuns {
  return {
    parts: state.parts,
    worker,
    partSize: 10,
    leaseMs: 60_000,
    pollMs: 10,
    importPart: importPart ?? ((claim) => runImport({ ...base(state, target), command: `part ${claim.index}`, part: { range: claim, parentRunId: claim.runId } })),
  };
}

/** A worker's loop: parts of any run until told to stop. */
function worker(shared: SharedRuns): { done: Set<number>; stop: () => Promise<void> } {
  const done = new Set<number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (!(await workOnePart({ ...shared, importPart: async (claim) => (done.add(claim.index), shared.importPart(claim)) }))) await delay(5);
    }
  })();
  return { done, stop: async () => ((stopped = true), await loop) };
}

describe('a run shared by several workers', () => {
  it('cuts a container into parts by its declared count; the last runs to the end', () => {
    assert.deepEqual(cutIntoParts(25, 10), [
      { index: 0, firstSeq: 0, endSeq: 10 },
      { index: 1, firstSeq: 10, endSeq: 20 },
      { index: 2, firstSeq: 20, endSeq: TO_THE_END },
    ]);
    assert.deepEqual(cutIntoParts(undefined, 10), [{ index: 0, firstSeq: 0, endSeq: TO_THE_END }]);
    assert.deepEqual(cutIntoParts(10, 10), [{ index: 0, firstSeq: 0, endSeq: TO_THE_END }]);
    assert.throws(() => cutIntoParts(25, 0), { code: 'USAGE' });
  });

  it('three workers import the parts; the run\'s log adds them up and accounts for every item; every copy lands once', async () => {
    const state = await openSqliteState(join(dir, `three-${Date.now()}.db`));
    const target = new InMemoryTarget();
    const helpers = [worker(sharedFor(state, target, 'w-2')), worker(sharedFor(state, target, 'w-3'))];
    try {
      const log = await runImport({ ...base(state, target), connector: { name: 'chat', trigger: 'manual' }, shared: sharedFor(state, target, 'w-1') });
      assert.equal(log.itemsFromSource, ITEMS);
      assert.equal(log.itemsForImport, 2 * (ITEMS - 1));
      assert.equal(log.imported, 2 * (ITEMS - 1));
      assert.equal(log.failed, 1, 'the broken item, reported by its part');
      assert.deepEqual(log.failures.map((f) => [f.code, f.line]), [['ITEM_INVALID', 8]]);
      assert.deepEqual(log.containers.map((c) => [c.ok, c.items, c.itemsDeclared]), [[true, ITEMS, ITEMS]]);
      assert.deepEqual(target.copiesIn(ANA, FOLDER).length, ITEMS - 1);
      assert.deepEqual(target.copiesIn(BO, FOLDER).length, ITEMS - 1);
      const parts = await state.parts.partsOf(log.runId!, log.containers[0]!.sha256!);
      assert.deepEqual(parts.map((p) => [p.state, p.attempts]), [['done', 1], ['done', 1], ['done', 1]], 'each part imported once');
      assert.ok(parts.every((p) => ['w-1', 'w-2', 'w-3'].includes(p.worker ?? '')));
      assert.deepEqual((await state.ledger.getFailures(log.runId!)).map((f) => f.code), ['ITEM_INVALID'], 'the part\'s failure is the run\'s');
    } finally {
      for (const h of helpers) await h.stop();
      await state.ledger.close();
    }
  });

  it('a part left by a worker that died is taken over once its lease lapses, and nothing is lost', async () => {
    const state = await openSqliteState(join(dir, `dead-${Date.now()}.db`));
    const target = new InMemoryTarget();
    // The dead worker's claim: made, never renewed nor finished.
    const parts = state.parts;
    let deadClaim: PartClaim | undefined;
    const shared: SharedRuns = {
      ...sharedFor(state, target, 'w-1'),
      leaseMs: 300,
      parts: {
        ...parts,
        openParts: async (part, ranges) => {
          await parts.openParts(part, ranges);
          deadClaim = await parts.claimPart('w-dead', 300);
        },
        claimPart: (w, l) => parts.claimPart(w, l),
        renewPart: (c, l) => parts.renewPart(c, l),
        finishPart: (c, l) => parts.finishPart(c, l),
        releasePart: (c) => parts.releasePart(c),
        partsOf: (r, c) => parts.partsOf(r, c),
      },
    };
    try {
      const log = await runImport({ ...base(state, target), connector: { name: 'chat', trigger: 'manual' }, shared });
      assert.equal(deadClaim?.index, 0, 'the dead worker held the first part');
      assert.equal(log.itemsFromSource, ITEMS);
      assert.equal(log.imported, 2 * (ITEMS - 1));
      const [first] = await state.parts.partsOf(log.runId!, log.containers[0]!.sha256!);
      assert.deepEqual([first!.worker, first!.attempts], ['w-1', 2], 'taken over by the live worker');
    } finally {
      await state.ledger.close();
    }
  });

  it('a part whose import throws is given back and tried again; after three claims it is done with a log that says so: the run is not ok and names the part', async () => {
    const state = await openSqliteState(join(dir, `throws-${Date.now()}.db`));
    const target = new InMemoryTarget();
    const normal = sharedFor(state, target, 'w-1');
    const shared = sharedFor(state, target, 'w-1', async (claim) => {
      if (claim.index === 1) throw new Error('the configuration is gone');
      return normal.importPart(claim);
    });
    try {
      const log = await runImport({ ...base(state, target), connector: { name: 'chat', trigger: 'manual' }, shared });
      assert.equal(log.stoppedBy, 'RUN_FAILED');
      assert.equal(log.itemsFromSource, ITEMS - 10, 'the items of the part that failed were not read');
      assert.ok(log.failures.some((f) => f.code === 'RUN_FAILED' && /part 1 \(from item 10 to item 20\) was not imported: Error: the configuration is gone/.test(f.reason)), JSON.stringify(log.failures));
      const parts = await state.parts.partsOf(log.runId!, log.containers[0]!.sha256!);
      assert.deepEqual(parts.map((p) => p.attempts), [1, 3, 1], 'the failing part was claimed three times');
    } finally {
      await state.ledger.close();
    }
  });
});
