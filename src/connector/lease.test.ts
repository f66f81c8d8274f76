// The run's lease keeper (lease.ts): a run whose renewals fail stops starting
// work once half its lease has passed, well before the lease lapses and its
// copies can be taken over; renewals that succeed keep it going.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryLedger } from '../ledger/test-support/memory-ledger.js';
import { LeaseKeeper } from './lease.js';

const LEASE = 60_000;

async function keeperWith(renewals: 'work' | 'fail') {
  let t = Date.parse('2026-12-01T10:00:00Z');
  const now = () => t;
  const ledger = new InMemoryLedger({ now: () => new Date(t) });
  const runId = await ledger.startRun({ startedAt: new Date(t), command: 'test', host: 'h', pid: 1, leaseMs: LEASE });
  if (renewals === 'fail') ledger.renewLease = () => Promise.reject(new Error('the database is unreachable'));
  // Renewed by hand: the timer's period is longer than the test.
  const keeper = new LeaseKeeper(ledger, runId, { leaseMs: LEASE, renewEveryMs: 3_600_000, startedAt: t, now });
  return { keeper, advance: (ms: number) => void (t += ms) };
}

describe('the run\'s lease keeper', () => {
  it('with renewals failing, starts nothing more once half the lease has passed (LEASE_LOST), and stays lost', async () => {
    const { keeper, advance } = await keeperWith('fail');
    try {
      advance(LEASE / 4);
      await keeper.renew();
      advance(LEASE / 4 - 1);
      await keeper.renew();
      assert.doesNotThrow(() => keeper.assertHeld());
      advance(1);
      assert.throws(() => keeper.assertHeld(), (e: { code?: string; message?: string }) => e.code === 'LEASE_LOST' && /half/.test(e.message ?? ''));
      assert.throws(() => keeper.assertHeld(), { code: 'LEASE_LOST' });
    } finally {
      await keeper.stop();
    }
  });

  it('with renewals working, holds the lease however long the run takes', async () => {
    const { keeper, advance } = await keeperWith('work');
    try {
      for (let i = 0; i < 20; i++) {
        advance(LEASE / 4);
        await keeper.renew();
        keeper.assertHeld();
      }
    } finally {
      await keeper.stop();
    }
  });
});
