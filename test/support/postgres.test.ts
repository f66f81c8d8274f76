// The PostgreSQL harness itself: it serves on loopback only, unprivileged,
// with a password over TCP; it makes databases; it cuts a session off as
// issue 12's test cuts a worker's connection; and it leaves no process,
// port or folder behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { it } from 'node:test';
import { startPostgres, type Postgres } from './postgres.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** psql as a client would run it: the URL only, nothing of the harness's environment. */
function psqlClient(pg: Postgres, url: string, sql: string, applicationName: string) {
  const child = spawn(join('/usr/lib/postgresql', pg.version, 'bin', 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql, url], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGAPPNAME: applicationName },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

it('starts PostgreSQL unprivileged on 127.0.0.1, serves a database by URL, terminates a backend, and stops it by PID', async (t) => {
  const t0 = Date.now();
  const pg = await startPostgres();
  const startedMs = Date.now() - t0;
  let stopped = false;
  try {
    assert.ok(alive(pg.pid), 'the postmaster runs');
    const status = await readFile(`/proc/${pg.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    assert.notEqual(uid, 0, 'the postmaster does not run as root');
    assert.equal(uid, pg.runUser.uid);
    assert.match(pg.url, new RegExp(`^postgres://xip:[0-9a-f]+@127\\.0\\.0\\.1:${pg.port}/xip$`));

    const settings = await pg.psql("SELECT current_setting('listen_addresses'), current_setting('fsync'), current_setting('max_connections')");
    assert.equal(settings.stdout.trim(), '127.0.0.1|off|200');

    // A client with the URL alone: the password is checked (SCRAM), a wrong one refused.
    const url = await pg.createDatabase('ledger_test');
    assert.equal(url, pg.urlFor('ledger_test'));
    const made = await psqlClient(pg, url, 'CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 10); SELECT sum(n), current_database() FROM t', 'xip-check').done;
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout.trim(), '55|ledger_test');
    const refused = await psqlClient(pg, url.replace(`:${pg.password}@`, ':wrong@'), 'SELECT 1', 'xip-check').done;
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /password authentication failed for user "xip"/);
    const method = await readFile(join(pg.dataDir, 'pg_hba.conf'), 'utf8');
    assert.match(method, /^host\s+all\s+all\s+127\.0\.0\.1\/32\s+scram-sha-256$/m);

    // A session cut off: psql loses its connection and says why.
    const sleeper = psqlClient(pg, url, 'SELECT pg_sleep(30)', 'xip-sleeper');
    const bystander = psqlClient(pg, url, 'SELECT pg_sleep(2)', 'xip-bystander');
    const deadline = Date.now() + 5000;
    let waiting = '';
    while (Date.now() < deadline) {
      waiting = (await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('xip-sleeper', 'xip-bystander') AND state = 'active'")).stdout.trim();
      if (waiting === '2') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(waiting, '2', 'both sessions are running their query');
    const terminated = await pg.terminateBackends('xip-sleeper');
    assert.equal(terminated.length, 1);
    const cut = await sleeper.done;
    assert.equal(cut.code, 2, `psql exits 2 when the connection is lost (${cut.stderr})`);
    assert.match(cut.stderr, /terminating connection due to administrator command/);
    assert.match(await pg.log(), new RegExp(`\\[${terminated[0]}\\] xip-sleeper@ledger_test FATAL:  terminating connection due to administrator command`));
    const spared = await bystander.done;
    assert.equal(spared.code, 0, `the other session is left alone (${spared.stderr})`);

    // stop(): by PID, nothing left.
    const t1 = Date.now();
    await pg.stop();
    stopped = true;
    const stopMs = Date.now() - t1;
    assert.equal(alive(pg.pid), false, 'the postmaster is gone');
    assert.equal(await portOpen(pg.port), false, 'the port is closed');
    assert.equal(existsSync(pg.dataDir), false, 'the data folder is removed');
    t.diagnostic(`postgres ${pg.version}: started in ${startedMs} ms, stopped in ${stopMs} ms`);
  } finally {
    if (!stopped) await pg.stop();
  }
});
