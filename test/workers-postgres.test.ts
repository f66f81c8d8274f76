// Several workers, one installation (issue 12): three `xip serve
// --no-console` on one PostgreSQL and one Dovecot. The connector's schedule
// fires on every worker; one of them claims the slot and runs it, cutting
// the day's container of 20,000 items (two mailboxes each: 40,000 copies)
// into parts that all three import. Mid-run one worker (not the run's) is
// killed with SIGKILL while it holds a part, and another's database
// connections are terminated (pg_terminate_backend). Every copy lands in
// its mailbox exactly once, and the run's log accounts for every item.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { runXip, XIP_BIN } from './support/cli.js';
import { startDovecot, type Dovecot } from './support/dovecot.js';
import { readFolder } from './support/imap-read.js';
import { startPostgres, type Postgres } from './support/postgres.js';

const USERS = ['ana@corp.example', 'bo@corp.example'];
const ITEMS = 20_000;
const PART_SIZE = 1_000;

let dir: string;
let postgres: Postgres;
let dovecot: Dovecot;
let url: string;
const workers: { child: ChildProcess; id: string; logs: () => string }[] = [];

async function poll<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function rows(sql: string): Promise<string[][]> {
  const out = await postgres.psql(sql, { database: 'workers' });
  return out.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

function serve(env: NodeJS.ProcessEnv): Promise<(typeof workers)[number]> {
  const child = spawn(process.execPath, [XIP_BIN, 'serve', '--no-console', '--port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  return poll('xip serve to start', 30_000, async () => {
    if (child.exitCode !== null) throw new Error(`xip serve exited: ${logs}`);
    const m = /"worker":"([^"]+)"/.exec(logs);
    return m ? { child, id: m[1]!, logs: () => logs } : undefined;
  });
}

before(async () => {
  dir = await tempDir('xip-workers-');
  [postgres, dovecot] = await Promise.all([startPostgres(), startDovecot({ users: USERS })]);
  url = await postgres.createDatabase('workers');
});

after(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await dovecot?.stop();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('three workers on one PostgreSQL share a scheduled run', () => {
  it('one worker killed and another cut off from the database mid-run: every copy exactly once, and the run log reconciles', { timeout: 600_000 }, async (t) => {
    const home = join(dir, 'home');
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    const trust = join(dir, 'ca.pem');
    writeFileSync(trust, testIdentity().issued.caCertificatePem);
    const users = join(dir, 'users.csv');
    writeFileSync(users, ['email,name,aliases,litigationHold', ...USERS.map((u) => `${u},${u},,true`)].join('\n'));
    const lines = Array.from({ length: ITEMS }, (_, i) =>
      JSON.stringify({ id: `w-${i}`, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: USERS[0] }, participants: [{ email: USERS[1], role: 'to' }], body: { text: `message ${i}` } }),
    );
    await buildContainer(join(drop, 'day.xip'), { data: { 'items/day.ndjson': lines.join('\n') + '\n' } });

    const env = {
      XIP_HOME: home,
      XIP_DATABASE_URL: url,
      XIP_SECRET_KEY: '',
      XIP_IMAP_PASSWORD: dovecot.masterPassword,
      XIP_PART_SIZE: String(PART_SIZE),
      XIP_PART_LEASE_SECONDS: '6',
      XIP_HEARTBEAT_SECONDS: '1',
    };
    const add = await runXip(
      ['connector', 'add', 'chat', '--source', drop, '--trust', trust, '--directory', users, '--to', `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}`, '--settle-seconds', '0', '--schedule', '* * * * *', '--timezone', 'UTC'],
      { env },
    );
    assert.equal(add.code, 0, add.stdout + add.stderr);
    for (let i = 0; i < 3; i++) workers.push(await serve(env));
    const pids = workers.map((w) => w.child.pid!);

    // The schedule fires at the next minute on all three; one claims the slot and runs.
    const [runId, ownerPid] = await poll('the scheduled run to start', 90_000, async () => {
      const [r] = await rows("select id, pid from runs where connector = 'chat' order by id limit 1");
      return r ? [Number(r[0]), Number(r[1])] : undefined;
    });
    assert.ok(pids.includes(ownerPid), 'the run is one of the workers\'');
    assert.deepEqual((await rows("select count(*) from scheduled_slots where connector = 'chat'"))[0], ['1'], 'one slot claimed');

    // SIGKILL a worker that is not the run's, while it holds a part.
    const others = workers.filter((w) => w.child.pid !== ownerPid);
    const victim = await poll('a part held by a worker that is not the run\'s', 120_000, async () => {
      const held = await rows(`select worker from run_parts where run_id = ${runId} and state = 'working'`);
      return others.find((w) => held.some(([id]) => id === w.id));
    });
    victim.child.kill('SIGKILL');
    const cut = others.find((w) => w !== victim)!;
    const terminated = await postgres.terminateBackends(`xip-worker-${hostname()}-${cut.child.pid}`);
    assert.ok(terminated.length > 0, 'the third worker had database connections to lose');

    const finished = await poll('the run to finish', 400_000, async () => {
      const [r] = await rows(`select finished_at is not null, ok, log from runs where id = ${runId}`);
      return r && r[0] === 't' ? r : undefined;
    });
    const log = JSON.parse(finished[2]!) as { itemsFromSource: number; itemsForImport: number; imported: number; skippedDuplicates: number; failed: number; inProgressElsewhere: number };
    const parts = await rows(`select idx, state, worker, attempts from run_parts where run_id = ${runId} order by idx`);
    assert.equal(parts.length, ITEMS / PART_SIZE);
    assert.ok(parts.every((p) => p[1] === 'done'), JSON.stringify(parts));
    assert.ok(new Set(parts.map((p) => p[2])).size >= 2, `the parts were spread over the workers: ${JSON.stringify(parts)}`);
    assert.ok(parts.some((p) => Number(p[3]) >= 2), 'the killed worker\'s part was taken over');
    const byWorker = new Map<string, number>();
    for (const p of parts) byWorker.set(p[2]!, (byWorker.get(p[2]!) ?? 0) + 1);
    t.diagnostic(`parts done per worker: ${[...byWorker].map(([w, n]) => `${w === victim.id ? 'killed' : w === cut.id ? 'cut off' : 'other'} ${n}`).join(', ')}; taken again: ${parts.filter((p) => Number(p[3]) >= 2).length}; imported ${log.imported}, found delivered ${log.skippedDuplicates}`);

    assert.equal(log.itemsFromSource, ITEMS);
    assert.equal(log.itemsForImport, 2 * ITEMS);
    assert.equal(log.failed, 0, JSON.stringify(log).slice(0, 2000));
    assert.equal(log.inProgressElsewhere, 0);
    assert.equal(log.imported + log.skippedDuplicates, 2 * ITEMS, 'every copy accounted for: delivered by this run, or found delivered');
    assert.equal(finished[1], 't', 'the run is ok');

    for (const user of USERS) {
      const ids = (await readFolder(dovecot, user, 'INBOX.XIP')).map((m) => m.messageId);
      assert.equal(new Set(ids).size, ids.length, `${user}: ${ids.length - new Set(ids).size} duplicate copies`);
      assert.equal(ids.length, ITEMS, `${user}: ${ids.length} messages`);
    }
  });
});
