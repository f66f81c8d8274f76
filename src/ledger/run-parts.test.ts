// The parts of shared runs (issue 12, ports/run-parts.ts) on each engine:
// opened once, claimed in order and never twice — by 8 processes at once
// too —, renewed and finished only by the worker that holds them, taken over
// once a lease lapses; and a part's failures are its parent run's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TO_THE_END, type PartRange } from '../ports/run-parts.js';
import type { LedgerState } from './stores.js';
import { storeEngines } from './test-support/engines.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const LEASE = 60_000;
const SHA = 'ab'.repeat(32);
const RANGES: PartRange[] = [
  { index: 0, firstSeq: 0, endSeq: 100 },
  { index: 1, firstSeq: 100, endSeq: 200 },
  { index: 2, firstSeq: 200, endSeq: TO_THE_END },
];

/** A connector's run, live for `leaseMs` from the store's clock (its worker renews it in life). */
async function aRun(s: LedgerState, leaseMs = LEASE): Promise<number> {
  return s.ledger.startRun({ startedAt: T0, command: 'xip connector run chat', host: 'h', pid: 1, leaseMs, connector: 'chat', trigger: 'schedule' });
}

for (const engine of storeEngines()) describe(`KyselyRunParts (${engine.name})`, () => {
  it('opens a container\'s parts once; claims them in order, each once, with a lease; none is left to claim after', async () => {
    const now = T0;
    const s = await engine.fresh({ now: () => now });
    try {
      const runId = await aRun(s);
      const part = { runId, connector: 'chat', container: SHA, file: 'day.xip' };
      await s.parts.openParts(part, RANGES);
      await s.parts.openParts(part, [{ index: 0, firstSeq: 0, endSeq: 5 }]); // a resumed run: nothing changes
      const a = await s.parts.claimPart('worker-a', LEASE);
      const b = await s.parts.claimPart('worker-b', LEASE);
      const c = await s.parts.claimPart('worker-a', LEASE);
      assert.deepEqual(a, { ...part, ...RANGES[0], worker: 'worker-a', attempt: 1 });
      assert.deepEqual([b?.index, b?.worker, c?.index, c?.endSeq], [1, 'worker-b', 2, TO_THE_END]);
      assert.equal(await s.parts.claimPart('worker-c', LEASE), undefined);
      const parts = await s.parts.partsOf(runId, SHA);
      assert.deepEqual(parts.map((p) => [p.index, p.state, p.worker, p.attempts, p.leaseUntil?.toISOString()]), [
        [0, 'working', 'worker-a', 1, new Date(T0.getTime() + LEASE).toISOString()],
        [1, 'working', 'worker-b', 1, new Date(T0.getTime() + LEASE).toISOString()],
        [2, 'working', 'worker-a', 1, new Date(T0.getTime() + LEASE).toISOString()],
      ]);
      assert.equal(parts[0]!.firstSeq + parts[0]!.endSeq, 100);
    } finally {
      await s.dispose();
    }
  });

  it('takes a part over once its lease lapses; the first worker can then neither renew nor finish it', async () => {
    let now = T0;
    const s = await engine.fresh({ now: () => now });
    try {
      const runId = await aRun(s, 100 * LEASE);
      await s.parts.openParts({ runId, connector: 'chat', container: SHA, file: 'day.xip' }, RANGES.slice(0, 1));
      const first = (await s.parts.claimPart('worker-a', LEASE))!;
      now = new Date(T0.getTime() + LEASE / 2);
      assert.equal(await s.parts.renewPart(first, LEASE), true);
      now = new Date(T0.getTime() + LEASE / 2 + LEASE - 1);
      assert.equal(await s.parts.claimPart('worker-b', LEASE), undefined, 'renewed: still worker-a\'s');
      now = new Date(T0.getTime() + LEASE / 2 + LEASE);
      const second = (await s.parts.claimPart('worker-b', LEASE))!;
      assert.deepEqual([second.worker, second.attempt], ['worker-b', 2]);
      assert.equal(await s.parts.renewPart(first, LEASE), false);
      assert.equal(await s.parts.finishPart(first, { imported: 1 }), false);
      assert.equal(await s.parts.finishPart(second, { imported: 2 }), true);
      const [done] = await s.parts.partsOf(runId, SHA);
      assert.deepEqual([done!.state, done!.worker, done!.log, done!.leaseUntil], ['done', 'worker-b', { imported: 2 }, null]);
      now = new Date(T0.getTime() + 10 * LEASE);
      assert.equal(await s.parts.claimPart('worker-c', LEASE), undefined, 'a done part is never claimed again');
    } finally {
      await s.dispose();
    }
  });

  it('leaves the parts of a run that finished, or whose lease lapsed (its worker died): nobody would add them up', async () => {
    let now = T0;
    const s = await engine.fresh({ now: () => now });
    try {
      const finished = await aRun(s);
      const lapsed = await aRun(s, LEASE / 2);
      const live = await aRun(s, 10 * LEASE);
      for (const runId of [finished, lapsed, live]) await s.parts.openParts({ runId, connector: 'chat', container: SHA, file: 'day.xip' }, RANGES.slice(0, 1));
      await s.ledger.finishRun(finished, { finishedAt: T0, ok: false, log: {} });
      now = new Date(T0.getTime() + LEASE / 2);
      const claim = await s.parts.claimPart('worker-a', LEASE);
      assert.equal(claim?.runId, live);
      assert.equal(await s.parts.claimPart('worker-a', LEASE), undefined);
    } finally {
      await s.dispose();
    }
  });

  it('a part given back is claimable at once, by the holder only', async () => {
    const s = await engine.fresh({ now: () => T0 });
    try {
      const runId = await aRun(s);
      await s.parts.openParts({ runId, connector: 'chat', container: SHA, file: 'day.xip' }, RANGES.slice(0, 1));
      const first = (await s.parts.claimPart('worker-a', LEASE))!;
      assert.equal(await s.parts.releasePart({ ...first, worker: 'worker-b' }), false, 'not the holder');
      assert.equal(await s.parts.releasePart(first), true);
      const [open] = await s.parts.partsOf(runId, SHA);
      assert.deepEqual([open!.state, open!.worker, open!.leaseUntil], ['open', null, null]);
      const again = (await s.parts.claimPart('worker-b', LEASE))!;
      assert.deepEqual([again.worker, again.attempt], ['worker-b', 2]);
      assert.equal(await s.parts.releasePart(first), false, 'taken again since');
    } finally {
      await s.dispose();
    }
  });

  it('gives each of 40 parts to exactly one of 8 connections claiming at once (as 8 processes would)', async () => {
    const s = await engine.fresh();
    const others: LedgerState[] = [];
    try {
      const runId = await aRun(s);
      const ranges = Array.from({ length: 40 }, (_, i) => ({ index: i, firstSeq: i * 10, endSeq: i * 10 + 10 }));
      await s.parts.openParts({ runId, connector: 'chat', container: SHA, file: 'day.xip' }, ranges);
      for (let i = 0; i < 8; i++) others.push(await s.another());
      const taken = await Promise.all(
        others.map(async (o, w) => {
          const mine: number[] = [];
          for (let claim = await o.parts.claimPart(`worker-${w}`, LEASE); claim; claim = await o.parts.claimPart(`worker-${w}`, LEASE)) mine.push(claim.index);
          return mine;
        }),
      );
      const all = taken.flat().sort((x, y) => x - y);
      assert.deepEqual(all, ranges.map((r) => r.index), `each part once: ${JSON.stringify(taken)}`);
      assert.ok(taken.filter((t) => t.length > 0).length > 1, 'the parts were spread over several connections');
    } finally {
      for (const o of others) await o.ledger.close();
      await s.dispose();
    }
  });

  it('pruning a connector\'s runs prunes their parts too: the parts\' failures, logs and rows', async () => {
    const s = await engine.fresh();
    try {
      const parent = await aRun(s);
      await s.parts.openParts({ runId: parent, connector: 'chat', container: SHA, file: 'day.xip' }, RANGES.slice(0, 1));
      const claim = (await s.parts.claimPart('worker-a', LEASE))!;
      const part = await s.ledger.startRun({ startedAt: T0, command: 'part 0', host: 'h', pid: 2, leaseMs: LEASE, parentRunId: parent });
      await s.ledger.recordFailures(part, [{ itemId: null, sourceUserId: null, mailbox: null, code: 'FROM_PART', reason: 'x' }]);
      await s.ledger.finishRun(part, { finishedAt: T0, ok: false, log: { failed: 1 } });
      await s.parts.finishPart(claim, { failed: 1 });
      await s.ledger.finishRun(parent, { finishedAt: T0, ok: false, log: { failed: 1 } });
      assert.equal(await s.connectors.pruneRuns('chat', new Date('2999-01-01T00:00:00Z')), 1);
      assert.deepEqual(await s.ledger.getFailures(parent), []);
      assert.deepEqual(await s.rows('select log from runs where log is not null'), []);
      assert.deepEqual(await s.parts.partsOf(parent, SHA), []);
    } finally {
      await s.dispose();
    }
  });

  it('lists a part run\'s failures with its parent run\'s, the parent\'s first', async () => {
    const s = await engine.fresh();
    try {
      const parent = await aRun(s);
      const part = await s.ledger.startRun({ startedAt: T0, command: 'part 0', host: 'h', pid: 2, leaseMs: LEASE, parentRunId: parent });
      const other = await aRun(s);
      const f = (code: string) => ({ itemId: null, sourceUserId: null, mailbox: null, code, reason: code });
      await s.ledger.recordFailures(part, [f('FROM_PART')]);
      await s.ledger.recordFailures(parent, [f('FROM_PARENT')]);
      await s.ledger.recordFailures(other, [f('ELSEWHERE')]);
      assert.deepEqual((await s.ledger.getFailures(parent)).map((x) => x.code), ['FROM_PARENT', 'FROM_PART']);
      assert.deepEqual((await s.ledger.getFailures(part)).map((x) => x.code), ['FROM_PART']);
    } finally {
      await s.dispose();
    }
  });
});
