// The workers of an installation (issue 12, `xip status`) on each engine:
// a beat writes the row and later ones move its heartbeat and what it is
// doing, never its start; leaving removes it; a second process sees the
// same workers; the silent ones are forgotten, the others kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeEngines } from './test-support/engines.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');

for (const engine of storeEngines()) describe(`KyselyWorkerRegistry (${engine.name})`, () => {
  it('writes a worker at its first beat, then moves its heartbeat and what it is doing; another process lists it', async () => {
    let now = T0;
    const s = await engine.fresh({ now: () => now });
    try {
      const worker = { id: 'host-a-41-0a1b2c3d', host: 'host-a', pid: 41, startedAt: T0, version: '0.1.0' };
      await s.workers.beat({ ...worker, doing: 'idle' });
      now = new Date(T0.getTime() + 10_000);
      await s.workers.beat({ ...worker, startedAt: now, doing: 'running connector chat' });
      const other = await s.another();
      try {
        assert.deepEqual(await other.workers.listWorkers(), [{ ...worker, heartbeatAt: now, doing: 'running connector chat' }]);
      } finally {
        await other.ledger.close();
      }
      const [row] = await s.rows<{ heartbeat_at: string; started_at: string }>('select started_at, heartbeat_at from workers');
      assert.equal(new Date(row!.started_at).toISOString(), T0.toISOString(), 'the start is written once');
    } finally {
      await s.dispose();
    }
  });

  it('lists the latest heartbeat first; leave removes only that worker', async () => {
    let now = T0;
    const s = await engine.fresh({ now: () => now });
    try {
      await s.workers.beat({ id: 'a-1-x', host: 'a', pid: 1, startedAt: T0, version: '0.1.0', doing: 'idle' });
      now = new Date(T0.getTime() + 5_000);
      await s.workers.beat({ id: 'b-2-y', host: 'b', pid: 2, startedAt: T0, version: '0.1.0', doing: null });
      assert.deepEqual((await s.workers.listWorkers()).map((w) => [w.id, w.doing]), [['b-2-y', null], ['a-1-x', 'idle']]);
      await s.workers.leave('b-2-y');
      await s.workers.leave('b-2-y');
      assert.deepEqual((await s.workers.listWorkers()).map((w) => w.id), ['a-1-x']);
    } finally {
      await s.dispose();
    }
  });

  it('forgets the workers silent since a time, and keeps the others', async () => {
    let now = T0;
    const s = await engine.fresh({ now: () => now });
    try {
      await s.workers.beat({ id: 'dead-1-x', host: 'dead', pid: 1, startedAt: T0, version: '0.1.0', doing: 'idle' });
      now = new Date(T0.getTime() + 25 * 3600_000);
      await s.workers.beat({ id: 'live-2-y', host: 'live', pid: 2, startedAt: now, version: '0.1.0', doing: 'idle' });
      assert.equal(await s.workers.forgetSilent(new Date(now.getTime() - 24 * 3600_000)), 1);
      assert.deepEqual((await s.workers.listWorkers()).map((w) => w.id), ['live-2-y']);
    } finally {
      await s.dispose();
    }
  });
});
