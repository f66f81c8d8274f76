import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gates, MailboxGate } from './throttle.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The most entries of `times` within any interval of `windowMs`. */
function densest(times: readonly number[], windowMs: number, weights?: readonly number[]): number {
  let best = 0;
  for (let i = 0; i < times.length; i++) {
    let sum = 0;
    for (let j = i; j < times.length && times[j]! < times[i]! + windowMs; j++) sum += weights?.[j] ?? 1;
    best = Math.max(best, sum);
  }
  return best;
}

describe('MailboxGate: the Outlook limits per mailbox, kept by the client', () => {
  it('never more than `concurrent` requests in flight', async () => {
    const gate = new MailboxGate({ concurrent: 4, requests: 1000, windowMs: 60_000, uploadBytes: 1e9, uploadWindowMs: 60_000 });
    let inFlight = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const ticket = await gate.acquire();
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(2 + (i % 3));
        inFlight--;
        ticket.done();
      }),
    );
    assert.equal(most, 4);
  });

  it('never more than `requests` in any window, and the next ones go as soon as the window lets them', async () => {
    const windowMs = 300;
    const gate = new MailboxGate({ concurrent: 100, requests: 5, windowMs, uploadBytes: 1e9, uploadWindowMs: windowMs, slackMs: 20 });
    const times: number[] = [];
    const start = Date.now();
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const ticket = await gate.acquire();
        times.push(Date.now());
        ticket.done();
      }),
    );
    times.sort((a, b) => a - b);
    assert.ok(densest(times, windowMs) <= 5, `at most 5 in any ${windowMs} ms: ${times.map((t) => t - start).join(',')}`);
    // 12 requests at 5 per window: the last leaves in the third window, not later
    assert.ok(times.at(-1)! - start >= 2 * windowMs, 'the limit held the later requests back');
    assert.ok(times.at(-1)! - start < 4 * windowMs, `the gate did not wait a window more than needed (${times.at(-1)! - start} ms)`);
  });

  it('paces requests through the window: a small burst, then the average rate, not the whole budget at once', async () => {
    const gate = new MailboxGate({ concurrent: 4, requests: 40, windowMs: 400, uploadBytes: 1e9, uploadWindowMs: 400, slackMs: 0 });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        const ticket = await gate.acquire();
        times.push(Date.now());
        ticket.done();
      }),
    );
    times.sort((a, b) => a - b);
    // burst 4 (the concurrency), then one per 10 ms: at most 4 + 10 + 1 in any 100 ms, where the budget alone would allow all 24 at once
    assert.ok(densest(times, 100) <= 15, `paced: ${densest(times, 100)} in the densest 100 ms`);
    assert.ok(times.at(-1)! - times[0]! >= 150, `spread over the window (${times.at(-1)! - times[0]!} ms)`);
  });

  it('keeps the upload budget: bytes in any window stay within it', async () => {
    const windowMs = 250;
    const gate = new MailboxGate({ concurrent: 100, requests: 1000, windowMs, uploadBytes: 1000, uploadWindowMs: windowMs, slackMs: 20 });
    const times: number[] = [];
    const sizes: number[] = [];
    await Promise.all(
      [400, 400, 400, 300, 300, 500].map(async (bytes) => {
        const ticket = await gate.acquire(bytes);
        times.push(Date.now());
        sizes.push(bytes);
        ticket.done();
      }),
    );
    const order = times.map((t, i) => [t, sizes[i]!] as const).sort((a, b) => a[0] - b[0]);
    assert.ok(densest(order.map((o) => o[0]), windowMs, order.map((o) => o[1])) <= 1000);
  });

  it('a request counts from when it was written: one held back by its connection delays the window as the service sees it', async () => {
    const windowMs = 300;
    const gate = new MailboxGate({ concurrent: 100, requests: 2, windowMs, uploadBytes: 1e9, uploadWindowMs: windowMs, slackMs: 0 });
    const start = Date.now();
    const first = await Promise.all([gate.acquire(), gate.acquire()]);
    await sleep(200); // the handshake: written only now
    for (const t of first) {
      t.sent();
      t.done();
    }
    const third = await gate.acquire();
    third.done();
    assert.ok(Date.now() - start >= 200 + windowMs - 5, `the third waited for the window counted from the writes (${Date.now() - start} ms)`);
  });

  it('Retry-After closes one mailbox, not the others', async () => {
    const gates = new Gates({ concurrent: 4, requests: 1000, windowMs: 60_000, uploadBytes: 1e9, uploadWindowMs: 60_000 });
    gates.for('a@x').pause(300);
    const start = Date.now();
    let bDone = 0;
    const a = gates.run('A@x', 0, async () => Date.now() - start);
    const b = gates.run('b@x', 0, async () => (bDone = Date.now() - start));
    assert.ok((await b) < 100, 'the other mailbox was not held');
    assert.ok((await a) >= 290, 'the paused mailbox waited (compared case-insensitively)');
    assert.ok(bDone < 100);
  });
});
