// The delivery window holds at most its count and bytes of copies, whatever
// the number of items; one message larger than the window still goes, alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryWindow } from './window.js';

interface C {
  readonly n: number;
  readonly size: number;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('the delivery window', () => {
  it('never holds more than its copies and bytes, and sends every copy once', async () => {
    const limits = { batchSize: 7, windowCopies: 20, windowBytes: 10_000, concurrency: 3 };
    const sent: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const window: DeliveryWindow<C> = new DeliveryWindow<C>(limits, async (_mailbox, copies) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      assert.ok(window.held.copies <= limits.windowCopies && window.held.bytes <= limits.windowBytes, JSON.stringify(window.held));
      await tick();
      sent.push(...copies.map((c) => c.n));
      inFlight--;
    });
    let maxHeld = { copies: 0, bytes: 0 };
    for (let n = 0; n < 1000; n++) {
      await window.add(`mailbox-${n % 5}`, { n, size: 100 + (n % 7) * 300 });
      maxHeld = { copies: Math.max(maxHeld.copies, window.held.copies), bytes: Math.max(maxHeld.bytes, window.held.bytes) };
    }
    await window.drain();
    assert.deepEqual([...sent].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
    assert.ok(maxHeld.copies <= 20, `held ${maxHeld.copies} copies`);
    assert.ok(maxHeld.bytes <= 10_000, `held ${maxHeld.bytes} bytes`);
    assert.ok(maxHeld.copies >= 10, 'the window was used, not sent one by one');
    assert.ok(maxInFlight <= 3 && maxInFlight >= 2, `batches in flight at once: ${maxInFlight}`);
    assert.deepEqual(window.held, { copies: 0, bytes: 0 });
  });

  it('sends a copy larger than the window alone', async () => {
    const batches: number[][] = [];
    const window = new DeliveryWindow<C>({ batchSize: 10, windowCopies: 10, windowBytes: 1000, concurrency: 2 }, async (_m, copies) => {
      batches.push(copies.map((c) => c.n));
    });
    await window.add('a', { n: 1, size: 10 });
    await window.add('a', { n: 2, size: 5000 });
    await window.add('a', { n: 3, size: 10 });
    await window.drain();
    assert.deepEqual(batches, [[1], [2], [3]]);
  });

  it('rethrows the first error of a batch at the next add or at drain', async () => {
    const window = new DeliveryWindow<C>({ batchSize: 1, windowCopies: 5, windowBytes: 1e6, concurrency: 1 }, async (_m, copies) => {
      if (copies[0]!.n === 2) throw new Error('batch 2 failed');
    });
    await window.add('a', { n: 1, size: 1 });
    await window.add('a', { n: 2, size: 1 });
    await assert.rejects(
      (async () => {
        for (let n = 3; n < 10; n++) await window.add('a', { n, size: 1 });
        await window.drain();
      })(),
      /batch 2 failed/,
    );
  });
});
