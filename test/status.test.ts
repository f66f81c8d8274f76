// `xip status` against the shipped `xip serve` (issue 12): a running worker
// is listed alive and idle, and its heartbeat moves; killed (SIGKILL), it
// stays listed but is no longer alive once three intervals pass; the next
// worker to start forgets a worker silent for over a day; a clean stop
// (SIGTERM) removes the worker's row. XIP_HEARTBEAT_SECONDS makes the
// interval short; every wait is a poll with a deadline.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startPostgresDatabases, type PostgresDatabases } from '../src/ledger/test-support/postgres-databases.js';
import { tempDir } from '../src/xip/test-support/container.js';
import { runXip, XIP_BIN } from './support/cli.js';

let dir: string;
before(async () => {
  dir = await tempDir('xip-status-');
});
let databases: Promise<PostgresDatabases> | undefined;
after(async () => {
  if (databases) await (await databases).stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Where the installation's database is, and how a test makes a worker look silent since `at`. */
interface Engine {
  readonly name: string;
  setup(home: string): Promise<{ env: NodeJS.ProcessEnv; silentSince(worker: string, at: Date): Promise<void> }>;
}

const ENGINES: readonly Engine[] = [
  {
    name: 'SQLite (XIP_HOME)',
    setup: async (home) => ({
      env: { XIP_HOME: home },
      async silentSince(worker, at) {
        const db = new Database(join(home, 'xip.db'));
        db.prepare('update workers set heartbeat_at = ? where id = ?').run(at.toISOString(), worker);
        db.close();
      },
    }),
  },
  {
    name: 'PostgreSQL (XIP_DATABASE_URL)',
    async setup(home) {
      const dbs = await (databases ??= startPostgresDatabases());
      const url = await dbs.empty();
      return {
        env: { XIP_HOME: home, XIP_DATABASE_URL: url },
        async silentSince(worker, at) {
          await dbs.query(url, 'update workers set heartbeat_at = $1 where id = $2', [at.toISOString(), worker]);
        },
      };
    },
  },
];

interface StatusWorker {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  heartbeatAt: string;
  heartbeatAgeSeconds: number;
  alive: boolean;
  doing: string | null;
}

async function serve(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; worker: string }> {
  const child = spawn(process.execPath, [XIP_BIN, 'serve', '--port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!/"worker":"[^"]+"/.test(logs)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`xip serve did not start: ${logs}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, worker: /"worker":"([^"]+)"/.exec(logs)![1]! };
}

async function status(env: NodeJS.ProcessEnv): Promise<StatusWorker[]> {
  const r = await runXip(['status', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { workers: StatusWorker[] }).workers;
}

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const engine of ENGINES) describe(`xip status on ${engine.name}`, () => {
  it('shows a running xip serve alive and idle with a moving heartbeat; killed, not alive once three intervals pass; forgotten after a day; gone after a clean stop', async () => {
    const home = join(dir, engine.name.split(' ')[0]!);
    const installation = await engine.setup(home);
    const env = { ...installation.env, XIP_HEARTBEAT_SECONDS: '0.3' };
    const first = await serve(env);
    let killed = false;
    try {
      const [w] = await status(env);
      assert.ok(w, 'the worker is listed');
      assert.equal(w.id, first.worker);
      assert.match(w.id, new RegExp(`^.+-${first.child.pid}-[0-9a-f]+$`));
      assert.equal(w.pid, first.child.pid);
      assert.equal(w.alive, true);
      assert.equal(w.doing, 'idle');
      await until('the heartbeat moves', () => status(env), (ws) => ws[0]!.heartbeatAt > w.heartbeatAt && ws[0]!.alive);
      const text = await runXip(['status'], { env });
      assert.equal(text.code, 0);
      assert.match(text.stdout, new RegExp(`${first.worker}  alive  .*idle`));

      first.child.kill('SIGKILL');
      killed = true;
      const dead = await until('the killed worker is no longer alive', () => status(env), (ws) => ws.length === 1 && !ws[0]!.alive);
      assert.equal(dead[0]!.id, first.worker, 'a killed worker stays listed');
      assert.match((await runXip(['status'], { env })).stdout, new RegExp(`${first.worker}  not seen for \\d+ s`));
    } finally {
      if (!killed) first.child.kill('SIGKILL');
    }

    // Silent for two days: the next worker to start forgets it.
    await installation.silentSince(first.worker, new Date(Date.now() - 48 * 3600_000));
    const second = await serve(env);
    const exited = new Promise<number | null>((r) => second.child.once('exit', (c) => r(c)));
    try {
      assert.deepEqual((await status(env)).map((w) => [w.id, w.alive]), [[second.worker, true]]);
    } finally {
      second.child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.deepEqual(await status(env), [], 'a clean stop removes the worker');
  });
});
