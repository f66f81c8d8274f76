// GET /api/workers: every `xip serve` of the installation as `xip status
// --json` shows it, for every signed-in role: a worker that beats is alive
// with what it does; one silent for more than three intervals is listed,
// not alive, with the age of its last heartbeat; a worker that left is gone.
// The heartbeats are written through the real SQLite registry; one is made
// old by writing its row directly (the registry stamps the present).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ROLES } from '../../ports/account-store.js';
import { startHarness, type Client, type Harness } from '../test-support/harness.js';

let h: Harness;
let viewer: Client;

interface WorkerJson {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: string;
  heartbeatAt: string;
  heartbeatAgeSeconds: number;
  alive: boolean;
  doing: string | null;
}

const STARTED = new Date('2026-12-01T08:00:00Z');

describe('GET /api/workers', () => {
  before(async () => {
    h = await startHarness();
    // The registry stamps heartbeats with the real clock: the server's clock is set to it, before any session is made.
    h.clock.now = new Date();
    viewer = await h.account('viewer', 'viewer');
  });
  after(async () => h.close());

  it('lists each worker with host, pid, its last heartbeat and its age, alive or not answering, and what it does', async () => {
    await h.state.workers.beat({ id: 'web-1-101-aaaa', host: 'web-1', pid: 101, startedAt: STARTED, doing: 'running connector chat', version: '0.1.0' });
    await h.state.workers.beat({ id: 'web-2-202-bbbb', host: 'web-2', pid: 202, startedAt: STARTED, doing: 'idle', version: '0.1.0' });
    const silentSince = new Date(Date.now() - 95_000);
    const db = new Database(join(h.dir, 'var', 'xip.db'));
    db.prepare('update workers set heartbeat_at = ? where id = ?').run(silentSince.toISOString(), 'web-2-202-bbbb');
    db.close();
    h.clock.now = new Date();

    const r = await viewer.inject('GET', '/api/workers');
    assert.equal(r.statusCode, 200, r.body);
    const { workers } = r.json() as { workers: WorkerJson[] };
    assert.deepEqual(workers.map((w) => [w.id, w.host, w.pid, w.alive, w.doing]), [
      ['web-1-101-aaaa', 'web-1', 101, true, 'running connector chat'],
      ['web-2-202-bbbb', 'web-2', 202, false, 'idle'],
    ]);
    const [busy, silent] = workers as [WorkerJson, WorkerJson];
    assert.deepEqual(Object.keys(busy).sort(), ['alive', 'doing', 'heartbeatAgeSeconds', 'heartbeatAt', 'host', 'id', 'pid', 'startedAt', 'version'], 'the fields of xip status --json');
    assert.equal(busy.startedAt, STARTED.toISOString());
    assert.ok(busy.heartbeatAgeSeconds <= 2, `a fresh heartbeat: ${busy.heartbeatAgeSeconds} s`);
    assert.equal(silent.heartbeatAt, silentSince.toISOString());
    assert.ok(silent.heartbeatAgeSeconds >= 95 && silent.heartbeatAgeSeconds < 100, `silent for ${silent.heartbeatAgeSeconds} s`);

    await h.state.workers.leave('web-1-101-aaaa');
    const left = (await viewer.inject('GET', '/api/workers')).json() as { workers: WorkerJson[] };
    assert.deepEqual(left.workers.map((w) => w.id), ['web-2-202-bbbb'], 'a worker that stopped cleanly is gone');
  });

  it('is for every signed-in role, and for nobody without a session', async () => {
    for (const role of ROLES.filter((r) => r !== 'viewer')) {
      const client = await h.account(`${role}-w`, role);
      assert.equal((await client.inject('GET', '/api/workers')).statusCode, 200, role);
    }
    const anonymous = await h.app.inject({ method: 'GET', url: '/api/workers' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal((anonymous.json() as { code: string }).code, 'AUTH_REQUIRED');
  });
});
