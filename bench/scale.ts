// npm run bench:scale (issue 12) — one scheduled run of a connector, shared
// by 1, 2 and 4 `xip serve --no-console` workers on one PostgreSQL, imports
// the same container of chat items (two mailboxes each) into Dovecot over
// IMAP. Each configuration gets a fresh database, a fresh Dovecot mail root
// and its own XIP_HOME, so that every one delivers every copy. The run is
// timed from its started_at to its finished_at as the database records them
// (the wait for the schedule's minute is not counted).
//
// The peer, in the same run, is the single-process path: the shipped
// `xip import` of the same container into a fresh Dovecot, its ledger on a
// fresh database of the same PostgreSQL, timed the same way (its row in
// `runs`). N = 1 against it is the cost of the shared-run machinery (parts,
// the container verified again per part, a daemon's process); N > 1 against
// it is what the workers buy over running the command.
//
// The database's share, three ways, over the run's window:
//   - pg_stat_statements (preloaded in this PostgreSQL): the statements the
//     run issued, by table, per copy, and their execution time inside the
//     server as a share of the workers' time (wall × N);
//   - CPU seconds of the postmaster and its backends, of Dovecot, of the
//     workers (/proc, utime + stime, exited children included through their
//     parent's cutime + cstime), against the machine's (wall × cores);
//   - the machine's busy time from /proc/stat, so that other work on a
//     shared machine shows as "other".
// PostgreSQL runs with its production durability (fsync, synchronous_commit
// and full_page_writes on, unlike the test harness's defaults): a commit
// costs here what it costs a user.
//
// Also each part's import time in part order: later parts cost more, as a
// part passes over the items before its range and the mailboxes grow.
//
// Checks (a failure exits non-zero): every mailbox holds every item once
// (doveadm mailbox status), the run is ok, its log reconciles (items read,
// copies imported + found delivered = copies, nothing failed), every part done.
//
//   npm run bench:scale -- [--items 200000] [--workers 1,2,4] [--no-peer]
// XIP_PART_SIZE is passed through to the workers (default 5,000 items a part).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packDirectory } from '../src/xip/pack.js';
import { tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { ROOT, runXip, XIP_BIN } from '../test/support/cli.js';
import { startDovecot, type Dovecot } from '../test/support/dovecot.js';
import { startPostgres, type Postgres } from '../test/support/postgres.js';
import { descendants } from '../test/support/server-process.js';

const { values: opts } = parseArgs({
  options: {
    items: { type: 'string', default: '200000' },
    workers: { type: 'string', default: '1,2,4' },
    'no-peer': { type: 'boolean', default: false },
  },
});
const ITEMS = Number(opts.items);
const WORKER_COUNTS = opts.workers.split(',').map(Number);
if (!Number.isSafeInteger(ITEMS) || ITEMS < 1 || WORKER_COUNTS.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error('--items and --workers take whole numbers');
const COPIES = ITEMS * 2;
const USERS = ['ana@corp.example', 'bo@corp.example'];
const FOLDER = 'INBOX.XIP';
const CORES = cpus().length;
/** Marks the bench's own SQL, so that pg_stat_statements' figures leave it out. */
const TAG = '/* xip-bench */';
const TICK = 100; // getconf CLK_TCK on Linux/x86-64 and arm64

/** The node flags of the installed command's shebang, so that the workers run as shipped. */
const SHIPPED_FLAGS = (readFileSync(join(ROOT, 'bin/xip.js'), 'utf8').split('\n')[0]!.match(/node(.*)$/)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);

function chatLine(i: number): string {
  return JSON.stringify({
    id: `bench-${i}`,
    type: 'chat.message',
    sentAt: new Date(Date.UTC(2026, 10, 22, 8) + i * 1000).toISOString().replace('Z', '+00:00'),
    from: { name: 'Ana Ruiz', email: USERS[0], sourceId: 'u-1' },
    participants: [{ name: 'Bo Chen', email: USERS[1], sourceId: 'u-2', role: 'to' }],
    conversation: { id: 'room-42', title: 'FX desk' },
    body: { text: `Message ${i}: ${'quote EUR/CHF 5m spot, firm for 30 seconds. '.repeat(18)}` },
  });
}

/** The signed container (bench/import.ts's items), written 10,000 lines at a time. */
async function container(dir: string, id: ReturnType<typeof testIdentity>): Promise<string> {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'items'), { recursive: true });
  const fd = openSync(join(src, 'items', 'chat.ndjson'), 'w');
  for (let i = 0; i < ITEMS; i += 10_000) writeSync(fd, Array.from({ length: Math.min(10_000, ITEMS - i) }, (_, k) => chatLine(i + k)).join('\n') + '\n');
  closeSync(fd);
  const file = join(dir, 'day.xip');
  await packDirectory({ dir: src, output: file, certificate: id.certificate, privateKey: id.privateKey, source: 'bench' });
  rmSync(src, { recursive: true, force: true });
  return file;
}

async function poll<T>(what: string, ms: number, every: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function rows(postgres: Postgres, database: string, sql: string): Promise<string[][]> {
  // the tag inside the statement (after its first word): pg_stat_statements keeps no text before a statement's start
  const out = await postgres.psql(sql.replace(/^(\s*\w+)/, `$1 ${TAG}`), { database });
  return out.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

// ---- CPU accounting from /proc ----

/** utime + stime (+ cutime + cstime: children it reaped) of a process, in seconds; 0 when gone. */
async function cpuOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (stat === '') return 0;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
}

/** A server's CPU: its root process and every live descendant (the exited ones are in their parent's cutime). */
async function treeCpu(root: number): Promise<number> {
  let sum = await cpuOf(root);
  for (const pid of await descendants(root)) sum += await cpuOf(pid);
  return sum;
}

/** The machine's busy and total CPU seconds so far (/proc/stat, all cores; iowait counts as idle). */
async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number); // user nice system idle iowait irq softirq steal guest guest_nice
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0) / TICK;
  return { busy: total - (v[3]! + v[4]!) / TICK, total };
}

interface CpuSnapshot {
  at: number;
  workers: number;
  postgres: number;
  dovecot: number;
  machine: { busy: number; total: number };
}

async function cpuSnapshot(workerPids: readonly number[], postgres: Postgres, dovecot: Dovecot): Promise<CpuSnapshot> {
  const at = performance.now();
  let workers = 0;
  for (const pid of workerPids) workers += await cpuOf(pid);
  return { at, workers, postgres: await treeCpu(postgres.pid), dovecot: await treeCpu(dovecot.pid), machine: await machineCpu() };
}

// ---- pg_stat_statements ----

interface Statement {
  calls: number;
  ms: number;
  rows: number;
  query: string;
}

async function statements(postgres: Postgres, dbid: string): Promise<Map<string, Statement>> {
  // query last, whitespace folded: one statement a line, '|' in a query stays in its last column
  const out = await rows(postgres, 'xip', `SELECT queryid, toplevel, calls, total_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements WHERE dbid = ${dbid} AND query NOT LIKE '%xip-bench%'`);
  return new Map(out.map((r) => [`${r[0]}/${r[1]}`, { calls: Number(r[2]), ms: Number(r[3]), rows: Number(r[4]), query: r.slice(5).join('|') }]));
}

const TABLES = ['deliveries', 'run_parts', 'items', 'runs', 'folders', 'containers', 'run_failures', 'workers', 'scheduled_slots', 'connector_leases', 'connectors', 'evidence', 'source_files'];

/** The table a statement is about: the first ledger table its text names (the target of an INSERT, UPDATE or DELETE, the first of a SELECT's FROM); BEGIN, COMMIT and the like as 'transaction'. */
function categoryOf(query: string): string {
  if (/^\s*(begin|commit|rollback|savepoint|release|start transaction|set)\b/i.test(query)) return 'transaction';
  let best = 'other';
  let at = Infinity;
  for (const t of TABLES) {
    const m = new RegExp(`"?\\b${t}\\b"?`, 'i').exec(query);
    if (m && m.index < at) [best, at] = [t, m.index];
  }
  return best;
}

interface DbFigures {
  calls: number;
  ms: number;
  byCategory: Map<string, { calls: number; ms: number; rows: number }>;
}

function diffStatements(before: Map<string, Statement>, after: Map<string, Statement>): DbFigures {
  const byCategory = new Map<string, { calls: number; ms: number; rows: number }>();
  let calls = 0;
  let ms = 0;
  for (const [key, s] of after) {
    const b = before.get(key);
    const d = { calls: s.calls - (b?.calls ?? 0), ms: s.ms - (b?.ms ?? 0), rows: s.rows - (b?.rows ?? 0) };
    if (d.calls <= 0) continue;
    const c = categoryOf(s.query);
    const acc = byCategory.get(c) ?? { calls: 0, ms: 0, rows: 0 };
    acc.calls += d.calls;
    acc.ms += d.ms;
    acc.rows += d.rows;
    byCategory.set(c, acc);
    calls += d.calls;
    ms += d.ms;
  }
  return { calls, ms, byCategory };
}

// ---- one configuration ----

interface RunLogJson {
  itemsFromSource: number;
  itemsForImport: number;
  imported: number;
  skippedDuplicates: number;
  failed: number;
  inProgressElsewhere: number;
}

interface Result {
  label: string;
  workers: number;
  seconds: number;
  partsPerWorker: string;
  /** Seconds each part's import took, in part order (its run, runs.parent_run_id). */
  partSeconds: number[];
  db: DbFigures;
  cpu: { window: number; workers: number; postgres: number; dovecot: number; machineBusy: number };
  checks: string[];
  failures: string[];
}

const failures: string[] = [];

async function mailboxCounts(dovecot: Dovecot): Promise<number[]> {
  const counts: number[] = [];
  for (const user of USERS) {
    const { stdout } = await dovecot.doveadm(['mailbox', 'status', '-u', user, 'messages', FOLDER]);
    counts.push(Number(/messages=(\d+)/.exec(stdout)?.[1] ?? NaN));
  }
  return counts;
}

/** The checks every configuration must pass: every copy once in its mailbox, the run ok and its log reconciled. */
function check(label: string, counts: number[], ok: string | undefined, log: RunLogJson, extra: [boolean, string][] = []): { checks: string[]; failures: string[] } {
  const all: [boolean, string][] = [
    ...USERS.map((u, i): [boolean, string] => [counts[i] === ITEMS, `${u} ${FOLDER}: ${counts[i]} messages (want ${ITEMS})`]),
    [ok === 't', `run ok: ${ok}`],
    [log.itemsFromSource === ITEMS, `items read ${log.itemsFromSource} (want ${ITEMS})`],
    [log.itemsForImport === COPIES, `copies ${log.itemsForImport} (want ${COPIES})`],
    [log.imported + log.skippedDuplicates === COPIES, `imported ${log.imported} + found delivered ${log.skippedDuplicates} = ${log.imported + log.skippedDuplicates} (want ${COPIES})`],
    [log.failed === 0 && log.inProgressElsewhere === 0, `failed ${log.failed}, in progress elsewhere ${log.inProgressElsewhere}`],
    ...extra,
  ];
  const bad = all.filter(([pass]) => !pass).map(([, what]) => `${label}: ${what}`);
  failures.push(...bad);
  return { checks: all.map(([pass, what]) => `${pass ? 'ok  ' : 'FAIL'} ${what}`), failures: bad };
}

interface Setup {
  dir: string;
  file: string;
  trust: string;
  directory: string;
  postgres: Postgres;
}

async function freshTargets(s: Setup, label: string): Promise<{ dovecot: Dovecot; url: string; database: string; dbid: string }> {
  const dovecot = await startDovecot({ users: USERS, masterUser: 'xip-admin', mailRoot: join(s.dir, `mail-${label}`) });
  const database = `scale_${label}`;
  const url = await s.postgres.createDatabase(database);
  const dbid = (await rows(s.postgres, 'postgres', `SELECT oid FROM pg_database WHERE datname = '${database}'`))[0]?.[0];
  if (dbid === undefined) throw new Error(`no database ${database}`);
  return { dovecot, url, database, dbid };
}

/** Snapshots at the run's start and end: CPU and statements. */
async function snapshot(s: Setup, dbid: string, pids: () => number[], dovecot: Dovecot): Promise<{ cpu: CpuSnapshot; stmts: Map<string, Statement> }> {
  const cpu = await cpuSnapshot(pids(), s.postgres, dovecot);
  return { cpu, stmts: await statements(s.postgres, dbid) };
}

function figures(a: { cpu: CpuSnapshot; stmts: Map<string, Statement> }, b: { cpu: CpuSnapshot; stmts: Map<string, Statement> }): Pick<Result, 'db' | 'cpu'> {
  return {
    db: diffStatements(a.stmts, b.stmts),
    cpu: {
      window: (b.cpu.at - a.cpu.at) / 1000,
      workers: b.cpu.workers - a.cpu.workers,
      postgres: b.cpu.postgres - a.cpu.postgres,
      dovecot: b.cpu.dovecot - a.cpu.dovecot,
      machineBusy: b.cpu.machine.busy - a.cpu.machine.busy,
    },
  };
}

/** The peer: `xip import` alone, its ledger on PostgreSQL. */
async function peer(s: Setup): Promise<Result> {
  const { dovecot, url, database, dbid } = await freshTargets(s, 'import');
  try {
    const env = { ...process.env, XIP_DATABASE_URL: url, XIP_IMAP_PASSWORD: dovecot.masterPassword };
    const args = ['import', s.file, '--trust', s.trust, '--directory', s.directory, '--to', `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}`, '--json'];
    const child = spawn(process.execPath, [...SHIPPED_FLAGS, XIP_BIN, ...args], { cwd: s.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    let code: number | undefined;
    void exited.then((c) => (code = c));
    // the run's row appears once the ledger is open (migrations first, on a fresh database)
    const runId = await poll('xip import to start its run', 120_000, 100, async () => {
      if (code !== undefined) throw new Error(`xip import exited ${code}: ${err.slice(-2000)}`);
      const [r] = await rows(s.postgres, database, 'SELECT id FROM runs WHERE parent_run_id IS NULL ORDER BY id LIMIT 1').catch(() => []);
      return r?.[0];
    });
    // the CPU of the command: read from /proc until it exits (its last reading stands)
    const start = await snapshot(s, dbid, () => [child.pid!], dovecot);
    let last = start.cpu.workers;
    while (code === undefined) {
      last = Math.max(last, await cpuOf(child.pid!));
      await new Promise((r) => setTimeout(r, 200));
    }
    const end = await snapshot(s, dbid, () => [], dovecot);
    end.cpu.workers = last;
    if (code !== 0) throw new Error(`xip import exited ${code}: ${err.slice(-2000)}`);
    const [seconds, ok, log] = (await rows(s.postgres, database, `SELECT extract(epoch FROM (finished_at::timestamptz - started_at::timestamptz)), ok, log FROM runs WHERE id = ${runId}`))[0] ?? [];
    const printed = JSON.parse(out) as RunLogJson;
    const c = check('xip import', await mailboxCounts(dovecot), ok, JSON.parse(log!) as RunLogJson, [[printed.imported === COPIES, `printed imported ${printed.imported}`]]);
    return { label: 'xip import', workers: 1, seconds: Number(seconds), partsPerWorker: '—', partSeconds: [], ...figures(start, end), ...c };
  } finally {
    await dovecot.stop();
    rmSync(join(s.dir, 'mail-import'), { recursive: true, force: true });
  }
}

interface Worker {
  child: ChildProcess;
  id: string;
}

function serve(env: NodeJS.ProcessEnv): Promise<Worker> {
  const child = spawn(process.execPath, [...SHIPPED_FLAGS, XIP_BIN, 'serve', '--no-console', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => {
    logs += d.toString();
    if (logs.length > 1 << 20) logs = logs.slice(-(1 << 19));
  });
  return poll('xip serve to start', 60_000, 200, async () => {
    if (child.exitCode !== null) throw new Error(`xip serve exited: ${logs.slice(-2000)}`);
    const m = /"worker":"([^"]+)"/.exec(logs);
    return m ? { child, id: m[1]! } : undefined;
  });
}

async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      const gone = new Promise((r) => w.child.once('exit', r));
      w.child.kill('SIGTERM');
      const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }),
  );
}

/** N workers share one scheduled run. */
async function shared(s: Setup, n: number): Promise<Result> {
  const label = `w${n}`;
  const { dovecot, url, database, dbid } = await freshTargets(s, label);
  const workers: Worker[] = [];
  try {
    const home = join(s.dir, `home-${label}`);
    const drop = join(s.dir, `drop-${label}`);
    mkdirSync(drop);
    copyFileSync(s.file, join(drop, 'day.xip'));
    const env = { ...process.env, XIP_HOME: home, XIP_DATABASE_URL: url, XIP_SECRET_KEY: '', XIP_IMAP_PASSWORD: dovecot.masterPassword };
    const add = await runXip(
      ['connector', 'add', 'chat', '--source', drop, '--trust', s.trust, '--directory', s.directory, '--to', `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}`, '--settle-seconds', '0', '--schedule', '* * * * *', '--timezone', 'UTC'],
      { env },
    );
    if (add.code !== 0) throw new Error(`xip connector add: ${add.stdout}${add.stderr}`);
    for (let i = 0; i < n; i++) workers.push(await serve(env));
    const pids = () => workers.map((w) => w.child.pid!);

    // The schedule fires at the next minute on every worker; one claims the slot and runs.
    const runId = await poll('the scheduled run to start', 120_000, 100, async () => {
      const [r] = await rows(s.postgres, database, "SELECT id FROM runs WHERE connector = 'chat' AND parent_run_id IS NULL ORDER BY id LIMIT 1");
      return r?.[0];
    });
    const start = await snapshot(s, dbid, pids, dovecot);
    const [finished] = await poll('the run to finish', 3 * 3600_000, 250, async () => {
      for (const w of workers) if (w.child.exitCode !== null) throw new Error(`worker ${w.id} exited (${w.child.exitCode})`);
      const r = await rows(s.postgres, database, `SELECT finished_at IS NOT NULL, ok, log, extract(epoch FROM (finished_at::timestamptz - started_at::timestamptz)) FROM runs WHERE id = ${runId}`);
      return r[0]?.[0] === 't' ? r : undefined;
    });
    const end = await snapshot(s, dbid, pids, dovecot);
    const parts = await rows(s.postgres, database, `SELECT worker, state FROM run_parts WHERE run_id = ${runId}`);
    const per = workers.map((w) => parts.filter((p) => p[0] === w.id).length);
    // a part's own run is named "xip serve: part <index> of run <id>"; the last attempt of each counts
    const partRuns = await rows(s.postgres, database, `SELECT command, extract(epoch FROM (finished_at::timestamptz - started_at::timestamptz)) FROM runs WHERE parent_run_id = ${runId} AND finished_at IS NOT NULL ORDER BY id`);
    const partSeconds: number[] = [];
    for (const [command, secs] of partRuns) partSeconds[Number(/part (\d+)/.exec(command ?? '')?.[1])] = Number(secs);
    const notDone = parts.filter((p) => p[1] !== 'done').length;
    const c = check(`${n} worker${n > 1 ? 's' : ''}`, await mailboxCounts(dovecot), finished![1], JSON.parse(finished![2]!) as RunLogJson, [
      [parts.length > 0 && notDone === 0, `parts ${parts.length}, not done ${notDone}`],
      [per.reduce((a, b) => a + b, 0) === parts.length, `parts by these workers ${per.join('/')} of ${parts.length}`],
    ]);
    return { label: `${n} worker${n > 1 ? 's' : ''}`, workers: n, seconds: Number(finished![3]), partsPerWorker: per.join(' / '), partSeconds, ...figures(start, end), ...c };
  } finally {
    await stopWorkers(workers);
    await dovecot.stop();
    rmSync(join(s.dir, `mail-${label}`), { recursive: true, force: true });
    rmSync(join(s.dir, `home-${label}`), { recursive: true, force: true });
  }
}

// ---- report ----

const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const pct = (x: number) => `${(100 * x).toFixed(0)} %`;

function report(results: Result[], peerResult: Result | undefined): void {
  const base = results.find((r) => r.workers === 1) ?? results[0]!;
  const rate = (r: Result) => COPIES / r.seconds;
  console.log('\nthroughput (run started_at → finished_at, from the database)');
  console.log('| run | wall s | copies/s | speed-up over 1 worker | ratio to xip import | parts per worker |');
  console.log('|---|---|---|---|---|---|');
  for (const r of [...(peerResult ? [peerResult] : []), ...results]) {
    const vsPeer = peerResult ? `${f2(rate(r) / rate(peerResult))}×` : '—';
    const speedUp = r === peerResult ? '—' : `${f2(rate(r) / rate(base))}×`;
    console.log(`| ${r.label} | ${f1(r.seconds)} | ${f0(rate(r))} | ${speedUp} | ${vsPeer} | ${r.partsPerWorker} |`);
  }

  console.log(`\nCPU over the run (seconds; the machine has ${CORES} cores = wall × ${CORES} available)`);
  console.log('| run | window s | available | workers | PostgreSQL | Dovecot | other work on the machine | idle |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of [...(peerResult ? [peerResult] : []), ...results]) {
    const avail = r.cpu.window * CORES;
    const other = Math.max(0, r.cpu.machineBusy - r.cpu.workers - r.cpu.postgres - r.cpu.dovecot);
    const share = (x: number) => `${f1(x)} (${pct(x / avail)})`;
    console.log(`| ${r.label} | ${f1(r.cpu.window)} | ${f1(avail)} | ${share(r.cpu.workers)} | ${share(r.cpu.postgres)} | ${share(r.cpu.dovecot)} | ${share(other)} | ${share(Math.max(0, avail - r.cpu.machineBusy))} |`);
  }

  console.log('\nthe database (pg_stat_statements over the run; execution time inside the server)');
  console.log('| run | statements per copy (= round trips) | on deliveries | on items | on run_parts + runs | BEGIN/COMMIT | other | rows of deliveries per copy | exec s | exec / (wall × workers) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of [...(peerResult ? [peerResult] : []), ...results]) {
    const c = (k: string) => r.db.byCategory.get(k) ?? { calls: 0, ms: 0, rows: 0 };
    const known = ['deliveries', 'items', 'run_parts', 'runs', 'transaction'];
    const otherCalls = r.db.calls - known.reduce((a, k) => a + c(k).calls, 0);
    const perCopy = (x: number) => (x / COPIES).toFixed(3);
    console.log(
      `| ${r.label} | ${perCopy(r.db.calls)} | ${perCopy(c('deliveries').calls)} | ${perCopy(c('items').calls)} | ${perCopy(c('run_parts').calls + c('runs').calls)} | ${perCopy(c('transaction').calls)} | ${perCopy(otherCalls)} | ${perCopy(c('deliveries').rows)} | ${f1(r.db.ms / 1000)} | ${pct(r.db.ms / 1000 / (r.seconds * r.workers))} |`,
    );
  }
  console.log('(statements by table, calls / exec s:');
  for (const r of [...(peerResult ? [peerResult] : []), ...results]) {
    console.log(`  ${r.label}: ${[...r.db.byCategory].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => `${k} ${f0(v.calls)} / ${f1(v.ms / 1000)}`).join(', ')})`);
  }

  // Each part passes over the items before its range (split, not parsed) and the mailboxes grow: later parts cost more.
  console.log('\npart imports, seconds each (first quarter of the parts → last quarter, mean)');
  for (const r of results) {
    const q = Math.max(1, Math.floor(r.partSeconds.length / 4));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    if (r.partSeconds.length > 0) console.log(`  ${r.label}: ${f1(mean(r.partSeconds.slice(0, q)))} → ${f1(mean(r.partSeconds.slice(-q)))} (${r.partSeconds.map(f1).join(' ')})`);
  }

  console.log('\nchecks');
  for (const r of [...(peerResult ? [peerResult] : []), ...results]) for (const line of r.checks) console.log(`  ${r.label}: ${line}`);
}

const dir = await tempDir('xip-bench-scale-');
chmodSync(dir, 0o755); // Dovecot runs as its own unprivileged user
let postgres: Postgres | undefined;
try {
  console.log(`bench:scale — ${f0(ITEMS)} chat items × 2 mailboxes = ${f0(COPIES)} copies; workers ${WORKER_COUNTS.join(', ')}; part size ${process.env.XIP_PART_SIZE ?? '5000 (default)'}`);
  console.log(`${cpus()[0]?.model ?? 'cpu'} ×${CORES}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg().map(f1).join(' ')}, ${new Date().toISOString()}`);
  const id = testIdentity('bench');
  const file = await container(dir, id);
  const trust = join(dir, 'ca.pem');
  writeFileSync(trust, id.issued.caCertificatePem);
  const directory = join(dir, 'users.csv');
  writeFileSync(directory, 'email,name,aliases,litigationHold\nana@corp.example,Ana,,false\nbo@corp.example,Bo,,false\n');
  postgres = await startPostgres({
    settings: {
      shared_preload_libraries: "'pg_stat_statements'",
      'pg_stat_statements.max': '10000',
      'pg_stat_statements.track_utility': 'on',
      // a user's durability, not the test harness's
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
    },
  });
  await postgres.psql('CREATE EXTENSION pg_stat_statements');
  console.log(`PostgreSQL ${postgres.version} (fsync on, pg_stat_statements), Dovecot over IMAP on 127.0.0.1, all on this machine`);
  const s: Setup = { dir, file, trust, directory, postgres };

  let peerResult: Result | undefined;
  if (!opts['no-peer']) {
    peerResult = await peer(s);
    console.log(`xip import: ${f1(peerResult.seconds)} s${peerResult.failures.length ? ' — CHECKS FAILED' : ''}`);
  }
  const results: Result[] = [];
  for (const n of WORKER_COUNTS) {
    const r = await shared(s, n);
    results.push(r);
    console.log(`${r.label}: ${f1(r.seconds)} s, parts ${r.partsPerWorker}${r.failures.length ? ' — CHECKS FAILED' : ''}  (load average ${loadavg().map(f1).join(' ')})`);
  }
  report(results, peerResult);
  if (failures.length > 0) {
    console.log(`\n${failures.length} check(s) failed:\n${failures.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log('\nevery configuration delivered every copy exactly once, and every run log reconciles');
  }
} finally {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
}
