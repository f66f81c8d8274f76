// Scheduled slots (ConnectorStore.claimScheduledSlot, issue 12) on each
// engine: of the workers asking for one connector's slot, one gets it —
// one after another and all at once from stores of their own; another slot
// or another connector is another claim; the winner asking again still has
// it; slots older than 30 days go when one is claimed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LedgerState } from './stores.js';
import { storeEngines } from './test-support/engines.js';

const T0 = new Date('2026-12-02T02:00:00.000Z');
const DAY = 86_400_000;

for (const engine of storeEngines()) describe(`scheduled slots (${engine.name})`, () => {
  it('the first worker to claim a slot gets it, later ones (another process) do not; the winner asking again still has it', async () => {
    const s = await engine.fresh();
    const other = await s.another();
    try {
      assert.equal(await s.connectors.claimScheduledSlot('chat', T0, 'host-a-1-aaaa'), true);
      assert.equal(await other.connectors.claimScheduledSlot('chat', T0, 'host-b-2-bbbb'), false);
      assert.equal(await s.connectors.claimScheduledSlot('chat', T0, 'host-b-2-bbbb'), false, 'whichever store asks');
      assert.equal(await other.connectors.claimScheduledSlot('chat', T0, 'host-a-1-aaaa'), true, 'a retried claim is not lost to its own first attempt');
      assert.deepEqual(await s.rows('select connector, scheduled_for, worker from scheduled_slots'), [{ connector: 'chat', scheduled_for: T0.toISOString(), worker: 'host-a-1-aaaa' }]);
    } finally {
      await other.ledger.close();
      await s.dispose();
    }
  });

  it('the next slot, and the same slot of another connector, are claims of their own', async () => {
    const s = await engine.fresh();
    try {
      assert.equal(await s.connectors.claimScheduledSlot('chat', T0, 'a'), true);
      assert.equal(await s.connectors.claimScheduledSlot('chat', new Date(T0.getTime() + DAY), 'b'), true, "tomorrow's slot");
      assert.equal(await s.connectors.claimScheduledSlot('mail', T0, 'b'), true, 'another connector');
      assert.equal(await s.connectors.claimScheduledSlot('chat', new Date(T0.getTime() + 60_000), 'b'), true, 'a minute later');
      assert.equal((await s.rows('select worker from scheduled_slots')).length, 4);
    } finally {
      await s.dispose();
    }
  });

  it('eight workers, each with its own store, claiming one slot at once: exactly one gets it', async () => {
    const s = await engine.fresh();
    const workers: LedgerState[] = [];
    for (let i = 0; i < 8; i++) workers.push(await s.another()); // opened one by one: the claims, not the openings, are what race
    try {
      for (const slot of [T0, new Date(T0.getTime() + DAY)]) {
        const won = await Promise.all(workers.map((w, i) => w.connectors.claimScheduledSlot('chat', slot, `worker-${i}`)));
        assert.equal(won.filter(Boolean).length, 1, JSON.stringify(won));
        const [row] = await s.rows<{ worker: string }>(`select worker from scheduled_slots where scheduled_for = '${slot.toISOString()}'`);
        assert.equal(row?.worker, `worker-${won.indexOf(true)}`, 'the row names the one told true');
      }
    } finally {
      await Promise.all(workers.map((w) => w.ledger.close()));
      await s.dispose();
    }
  });

  it('a won claim deletes the slots older than 30 days, of every connector, and keeps the younger ones', async () => {
    let now = new Date(T0.getTime() - 31 * DAY);
    const s = await engine.fresh({ now: () => now });
    try {
      assert.equal(await s.connectors.claimScheduledSlot('chat', now, 'a'), true);
      assert.equal(await s.connectors.claimScheduledSlot('gone', now, 'a'), true, 'a connector removed since');
      now = new Date(T0.getTime() - 29 * DAY);
      assert.equal(await s.connectors.claimScheduledSlot('chat', now, 'a'), true);
      now = T0;
      assert.equal(await s.connectors.claimScheduledSlot('chat', new Date(T0.getTime() - 29 * DAY), 'b'), false, 'a lost claim…');
      assert.equal((await s.rows('select worker from scheduled_slots')).length, 3, '… prunes nothing');
      assert.equal(await s.connectors.claimScheduledSlot('chat', T0, 'a'), true);
      const left = await s.rows<{ connector: string; scheduled_for: string }>('select connector, scheduled_for from scheduled_slots order by scheduled_for');
      assert.deepEqual(left, [
        { connector: 'chat', scheduled_for: new Date(T0.getTime() - 29 * DAY).toISOString() },
        { connector: 'chat', scheduled_for: T0.toISOString() },
      ]);
    } finally {
      await s.dispose();
    }
  });
});
