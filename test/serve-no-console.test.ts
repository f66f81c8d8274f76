// `xip serve --no-console` as an operator starts a second worker on an
// installation: it listens, answers /healthz and /metrics (the load
// balancer, Prometheus), serves neither the console nor the API (404
// NOT_FOUND), prints no setup token even on a new installation, and shows
// in `xip status` as an alive, idle worker until SIGTERM stops it.
// --no-console with single sign-on flags is refused before anything starts.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../src/xip/test-support/container.js';
import { runXip, XIP_BIN } from './support/cli.js';

let dir: string;
before(async () => {
  dir = await tempDir('xip-serve-no-console-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Serving {
  readonly child: ChildProcess;
  readonly address: string;
  readonly worker: string;
  logs(): string;
}

/** The shipped xip serve with these flags; resolves once it listens and has registered as a worker. */
async function serve(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<Serving> {
  const child = spawn(process.execPath, [XIP_BIN, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!/"event":"serve".*"address":"[^"]+"/.test(logs)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`xip serve did not start: ${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, address: /"address":"([^"]+)"/.exec(logs)![1]!, worker: /"worker":"([^"]+)"/.exec(logs)![1]!, logs: () => logs };
}

async function stop(s: Serving): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((r) => s.child.once('exit', (c) => r(c)));
  s.child.kill('SIGTERM');
  return exited;
}

describe('xip serve --no-console', () => {
  it('answers /healthz and /metrics, serves neither the console nor the API, prints no setup token, and is an alive worker in xip status', async () => {
    const env = { XIP_HOME: join(dir, 'home') };
    const s = await serve(env, ['--no-console']);
    try {
      assert.match(s.address, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await fetch(`${s.address}/healthz`)).status, 200);
      const metrics = await fetch(`${s.address}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /xip_connector_runs_total/);
      for (const [path, headers] of [
        ['/', { accept: 'text/html' }],
        ['/connectors', { accept: 'text/html' }],
        ['/api/connectors', {}],
        ['/api/workers', {}],
        ['/openapi.json', {}],
        ['/docs', { accept: 'text/html' }],
      ] as const) {
        const r = await fetch(`${s.address}${path}`, { headers });
        assert.equal(r.status, 404, path);
        assert.equal(((await r.json()) as { code: string }).code, 'NOT_FOUND', path);
      }
      const setup = await fetch(`${s.address}/api/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'x', name: 'admin', password: 'a long enough passphrase' }) });
      assert.equal(setup.status, 404, 'no first account through this worker');
      assert.doesNotMatch(s.logs(), /No account yet|"token":/, 'no setup token printed on a new installation');

      const status = await runXip(['status', '--json'], { env });
      assert.equal(status.code, 0, status.stderr);
      const { workers } = JSON.parse(status.stdout) as { workers: { id: string; pid: number; alive: boolean; doing: string }[] };
      assert.deepEqual(workers.map((w) => [w.id, w.pid, w.alive, w.doing]), [[s.worker, s.child.pid, true, 'idle']]);
    } finally {
      assert.equal(await stop(s), 0, 'SIGTERM stops it cleanly');
    }
    const status = await runXip(['status', '--json'], { env });
    assert.deepEqual((JSON.parse(status.stdout) as { workers: unknown[] }).workers, [], 'a clean stop removes the worker');
  });

  it('refuses the single sign-on flags: a worker without the console has nothing to sign in to', async () => {
    const r = await runXip(['serve', '--port', '0', '--no-console', '--oidc-issuer', 'https://login.example'], { env: { XIP_HOME: join(dir, 'sso') } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--no-console .*--oidc-/);
  });
});
