// The heartbeat of `xip serve` (heartbeat.ts) over a recording WorkerRegistry
// (an in-process fake: it only keeps what it is told). What the database does
// with the beats: src/ledger/worker-registry.test.ts; through the shipped
// command: test/status.test.ts.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Worker, WorkerRegistry } from '../ports/worker-registry.js';
import { doingOf, heartbeatMs, startHeartbeat } from './heartbeat.js';

function recordingRegistry(): WorkerRegistry & { beats: Omit<Worker, 'heartbeatAt'>[]; left: string[] } {
  const beats: Omit<Worker, 'heartbeatAt'>[] = [];
  const left: string[] = [];
  return {
    beats,
    left,
    beat: async (w) => void beats.push(w),
    leave: async (id) => void left.push(id),
    listWorkers: async () => [],
    forgetSilent: async () => 0,
  };
}

describe('heartbeat', () => {
  it('says idle, or which connectors the scheduler is running', () => {
    assert.equal(doingOf([]), 'idle');
    assert.equal(doingOf(['chat']), 'running connector chat');
    assert.equal(doingOf(['chat', 'mail']), 'running connectors chat, mail');
  });

  it('reads XIP_HEARTBEAT_SECONDS (10 s by default) and refuses what is not a positive number', () => {
    assert.equal(heartbeatMs({}), 10_000);
    assert.equal(heartbeatMs({ XIP_HEARTBEAT_SECONDS: '0.5' }), 500);
    for (const bad of ['0', '-1', 'ten', '1e3', '3601']) assert.throws(() => heartbeatMs({ XIP_HEARTBEAT_SECONDS: bad }), { code: 'USAGE' }, bad);
  });

  it('beats at once and then every interval with what the worker is doing now, as HOST-PID-random, and leaves when stopped', async () => {
    const registry = recordingRegistry();
    let doing = 'idle';
    const hb = await startHeartbeat(registry, { intervalMs: 20, version: '9.9.9', doing: () => doing, logger: pino({ enabled: false }) });
    assert.match(hb.id, new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${process.pid}-[0-9a-f]{8}$`));
    assert.equal(registry.beats.length, 1, 'the first beat is written before start returns');
    doing = 'running connector chat';
    const deadline = Date.now() + 5000;
    while (!registry.beats.some((b) => b.doing === 'running connector chat')) {
      assert.ok(Date.now() < deadline, 'a later beat reports what the worker does now');
      await new Promise((r) => setTimeout(r, 10));
    }
    await hb.stop();
    const count = registry.beats.length;
    assert.deepEqual(registry.left, [hb.id]);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(registry.beats.length, count, 'no beat after stop');
    assert.ok(registry.beats.every((b) => b.id === hb.id && b.pid === process.pid && b.version === '9.9.9'));
  });
});
