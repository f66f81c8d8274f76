// npm run bench:graph — the shipped `xip import … --to graph://TENANT`, end to
// end (staging, verifying, converting, claiming in the ledger, delivering by
// importMime, recording), into MAILBOXES mailboxes of the contract double of
// Microsoft Graph (test/support/graph-double/, in a child process of its
// own), with the Outlook limits per app and mailbox (4 concurrent requests,
// 10,000 requests per 10 minutes, 150 MB uploaded per 5 minutes) scaled down
// so that the ceiling they allow is within one machine running both the
// importer and the double:
//
//   time     ÷ TIME_FACTOR   (10 minutes → 6 s, 5 minutes → 3 s with the default ÷100)
//   budgets  ÷ BUDGET_FACTOR (10,000 requests → 30; 150,000,000 bytes → 450,000)
//
// The double enforces the scaled limits and the command keeps the same ones
// (XIP_GRAPH_LIMITS). Prints the messages per second reached as a fraction of
// the ceiling the limits allow (MAILBOXES × requests per window, one
// importMime per message) and the double's count of requests that arrived over
// a limit, per mailbox; exits 1 if any mailbox was throttled, went over a
// limit or had more than 4 requests in flight, or if any copy was not
// imported.
//
// Settings (environment):
//   XIP_BENCH_GRAPH_MAILBOXES   mailboxes (default 100)
//   XIP_BENCH_GRAPH_MESSAGES    chat items, each addressed to ONE mailbox, round-robin (default 20,000)
//   XIP_BENCH_GRAPH_REQUESTS    requests per scaled window and mailbox (default 30)
//   XIP_BENCH_GRAPH_WINDOW      the scaled 10-minute window, seconds (default 6; the upload window is half)
//   XIP_BENCH_GRAPH_LATENCY_MS  the double's service time per mail request (default 25)
//   XIP_BENCH_GRAPH_ARGS        extra arguments for `xip import` (e.g. "--concurrency 128"), for diagnosis
//
// Timing comes from the double's control API, polled every POLL_MS (its log
// gives counts, not each request's time): the first
// importMime is the first poll at which a mailbox has uploaded more than a
// folder's creation (GET /_double/stats counts a request's body when it
// arrives); the last answer is the first poll at which the count of 201
// answers (folders made and importMime, GET /_double/log) reached its final
// value. Each is placed midway between two polls (±POLL_MS/2).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { packDirectory } from '../src/xip/pack.js';
import { tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { ROOT } from '../test/support/cli.js';
import type { MailboxStats } from '../test/support/graph-double/index.js';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!(v > 0)) throw new Error(`${name} must be a positive number`);
  return v;
};
const MAILBOXES = num('XIP_BENCH_GRAPH_MAILBOXES', 100);
const MESSAGES = num('XIP_BENCH_GRAPH_MESSAGES', 20_000);
const REQUESTS = num('XIP_BENCH_GRAPH_REQUESTS', 30);
const WINDOW_S = num('XIP_BENCH_GRAPH_WINDOW', 6);
const LATENCY_MS = num('XIP_BENCH_GRAPH_LATENCY_MS', 25);
if (!Number.isInteger(MESSAGES / MAILBOXES)) throw new Error('XIP_BENCH_GRAPH_MESSAGES must be a multiple of XIP_BENCH_GRAPH_MAILBOXES: each mailbox gets the same number');
const EXTRA_ARGS = (process.env.XIP_BENCH_GRAPH_ARGS ?? '').split(/\s+/).filter(Boolean);
const POLL_MS = 20;

// Microsoft's limits (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits) and their scaling.
const MS = { concurrent: 4, requests: 10_000, windowS: 600, uploadBytes: 150_000_000, uploadWindowS: 300 };
const TIME_FACTOR = MS.windowS / WINDOW_S;
const BUDGET_FACTOR = MS.requests / REQUESTS;
const LIMITS = {
  concurrent: MS.concurrent,
  requests: REQUESTS,
  windowMs: Math.round(WINDOW_S * 1000),
  uploadBytes: Math.round(MS.uploadBytes / BUDGET_FACTOR),
  uploadWindowMs: Math.round((MS.uploadWindowS / TIME_FACTOR) * 1000),
};
const LIMITS_ENV = `concurrent=${LIMITS.concurrent},requests=${LIMITS.requests}/${LIMITS.windowMs}ms,upload=${LIMITS.uploadBytes}/${LIMITS.uploadWindowMs}ms`;
const CEILING = (MAILBOXES * LIMITS.requests) / (LIMITS.windowMs / 1000); // importMime per second the limits allow, all mailboxes
const DOMAIN = 'contoso.example';
const mailbox = (i: number) => `mb${String(i).padStart(4, '0')}@${DOMAIN}`;
/** A folder's creation uploads {"displayName":"XIP"}; anything more in a mailbox is an importMime. */
const FOLDER_BODY_MAX = 64;

/** The node flags of the installed command's shebang, so that the bench runs it as shipped. */
const SHIPPED_FLAGS = (readFileSync(join(ROOT, 'bin/xip.js'), 'utf8').split('\n')[0]!.match(/node(.*)$/)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);

interface ChildResult {
  code: number;
  seconds: number;
  maxRssBytes: number;
  output: string;
}

interface DoubleInfo {
  url: string;
  loginUrl: string;
  controlUrl: string;
  caPath: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
}

function chatLine(i: number): string {
  return JSON.stringify({
    id: `bench-graph-${i}`,
    type: 'chat.message',
    sentAt: new Date(Date.UTC(2026, 10, 22, 8) + i * 1000).toISOString().replace('Z', '+00:00'),
    from: { name: `Trader ${i % MAILBOXES}`, email: mailbox(i % MAILBOXES), sourceId: `u-${i % MAILBOXES}` },
    participants: [{ name: 'Client desk', email: 'desk@partner.example', sourceId: 'ext-1', role: 'to' }],
    conversation: { id: `room-${i % MAILBOXES}`, title: 'FX desk' },
    body: { text: `Message ${i}: ${'quote EUR/CHF 5m spot, firm for 30 seconds. '.repeat(18)}` },
  });
}

async function container(dir: string, id: ReturnType<typeof testIdentity>): Promise<string> {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'items'), { recursive: true });
  const fd = openSync(join(src, 'items', 'chat.ndjson'), 'w');
  for (let i = 0; i < MESSAGES; i += 10_000) writeSync(fd, Array.from({ length: Math.min(10_000, MESSAGES - i) }, (_, k) => chatLine(i + k)).join('\n') + '\n');
  closeSync(fd);
  const file = join(dir, 'bench-graph.xip');
  await packDirectory({ dir: src, output: file, certificate: id.certificate, privateKey: id.privateKey, source: 'bench' });
  rmSync(src, { recursive: true, force: true });
  return file;
}

/** The double in a child process (main.ts); resolves with what it prints once it listens. */
async function startDouble(): Promise<{ info: DoubleInfo; child: ChildProcessByStdio<Writable, Readable, null> }> {
  const options = {
    tenant: 'contoso.onmicrosoft.com',
    mailboxes: Array.from({ length: MAILBOXES }, (_, i) => mailbox(i)),
    limits: LIMITS,
    latencyMs: LATENCY_MS,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/graph-double/main.ts'), JSON.stringify(options)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the graph double exited (${code}) before it listened`)));
  });
  return { info: JSON.parse(first) as DoubleInfo, child };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

interface Sample {
  /** ms since the command started, when the answer to the poll came. */
  t: number;
  /** Requests the mailboxes admitted, i.e. that used their budget (stats: requests less 429s). */
  admitted: number;
  /** Mailboxes into which an importMime has arrived. */
  importing: number;
  /** 201 answers sent (log): folders made and messages imported. */
  created: number;
}

/** Polls the double's control API until `done` says stop. */
async function poll(controlUrl: string, t0: bigint, done: () => boolean): Promise<Sample[]> {
  const samples: Sample[] = [];
  while (!done()) {
    const [stats, log] = await Promise.all([getJson<Record<string, MailboxStats>>(`${controlUrl}/stats`), getJson<{ byStatus: Record<string, number> }>(`${controlUrl}/log`)]);
    const t = Number(process.hrtime.bigint() - t0) / 1e6;
    let admitted = 0;
    let importing = 0;
    for (const s of Object.values(stats)) {
      admitted += s.requests - s.throttled;
      if (s.uploadBytes > FOLDER_BODY_MAX) importing++;
    }
    samples.push({ t, admitted, importing, created: log.byStatus['201'] ?? 0 });
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return samples;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); 0 where there is none. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** Runs the built command as installed (its shebang's node flags) in a child; its exit code, wall time and peak RSS. */
function xip(args: string[], env: Record<string, string>, cpu: { seconds: number }): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...SHIPPED_FLAGS, join(ROOT, 'bench/import-child.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const sampler = setInterval(() => (cpu.seconds = Math.max(cpu.seconds, cpuSeconds(child.pid))), 100);
    child.once('exit', () => clearInterval(sampler));
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('error', reject);
    child.on('close', () => {
      const lines = Buffer.concat(out).toString('utf8').trim().split('\n');
      try {
        resolve(JSON.parse(lines[lines.length - 1]!) as ChildResult);
      } catch {
        reject(new Error(`xip import printed no result: ${lines.join('\n').slice(0, 2000)}`));
      }
    });
  });
}

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (n: number) => `${(n / CEILING).toFixed(2)}×`;

const dir = await tempDir('xip-bench-graph-');
const { info, child } = await startDouble();
let failed = false;
try {
  const perMailbox = MESSAGES / MAILBOXES;
  console.log(`bench:graph — ${f0(MESSAGES)} chat items, each to one of ${MAILBOXES} mailboxes (${perMailbox} each), shipped \`xip import --to graph://${info.tenant}\` against the contract double of Microsoft Graph (child process, service time ${LATENCY_MS} ms per mail request)`);
  console.log(`machine: ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  console.log(
    `limits per mailbox, Microsoft's ÷ scaling: time ÷${TIME_FACTOR.toFixed(0)} (10 min → ${LIMITS.windowMs / 1000} s, 5 min → ${LIMITS.uploadWindowMs / 1000} s), budgets ÷${BUDGET_FACTOR.toFixed(1)} ` +
      `(10,000 requests → ${LIMITS.requests}, 150,000,000 upload bytes → ${f0(LIMITS.uploadBytes)}), concurrency 4 unscaled; XIP_GRAPH_LIMITS=${LIMITS_ENV}`,
  );
  console.log(`ceiling: ${MAILBOXES} mailboxes × ${LIMITS.requests} requests / ${LIMITS.windowMs / 1000} s = ${f0(CEILING)} messages/s (one importMime each); unscaled: ${MAILBOXES} × 10,000 / 600 s = ${f0((MAILBOXES * MS.requests) / MS.windowS)} messages/s, i.e. ÷${((MAILBOXES * MS.requests) / MS.windowS / CEILING).toFixed(2)}`);

  const id = testIdentity('bench-graph');
  const file = await container(dir, id);
  const trust = join(dir, 'ca.pem');
  writeFileSync(trust, id.issued.caCertificatePem);
  const directory = join(dir, 'users.csv');
  writeFileSync(directory, `email,name,aliases,litigationHold\n${Array.from({ length: MAILBOXES }, (_, i) => `${mailbox(i)},Trader ${i},,false`).join('\n')}\n`);
  const env = {
    XIP_GRAPH_CLIENT_ID: info.clientId,
    XIP_GRAPH_CLIENT_SECRET: info.clientSecret,
    XIP_GRAPH_URL: info.url,
    XIP_GRAPH_LOGIN_URL: info.loginUrl,
    XIP_GRAPH_IMAP_URL: 'none',
    XIP_GRAPH_LIMITS: LIMITS_ENV,
    NODE_EXTRA_CA_CERTS: info.caPath,
  };
  const args = ['import', file, '--trust', trust, '--directory', directory, '--to', `graph://${info.tenant}`, '--state', join(dir, 'ledger.db'), '--json', ...EXTRA_ARGS];
  console.log(`command: ${['node', ...SHIPPED_FLAGS, 'bin/xip.js', ...args].join(' ').replaceAll(dir, '$TMP')}`);

  const t0 = process.hrtime.bigint();
  let running = true;
  const polling = poll(info.controlUrl, t0, () => !running);
  const doubleCpu0 = cpuSeconds(child.pid);
  const commandCpu = { seconds: 0 };
  const run = await xip(args, env, commandCpu).finally(() => (running = false));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9; // node's start and module loading included
  const samples = await polling;
  const doubleCpu = cpuSeconds(child.pid) - doubleCpu0;
  const final = await getJson<{ byStatus: Record<string, number>; requests: number }>(`${info.controlUrl}/log`);
  const stats = await getJson<Record<string, MailboxStats>>(`${info.controlUrl}/stats`);
  const log = JSON.parse(run.output) as { imported: number; failed: number; failures: unknown[] };
  if (run.code !== 0 || log.imported !== MESSAGES) {
    failed = true;
    console.log(`xip import: exit ${run.code}, imported ${log.imported} of ${MESSAGES}, failed ${log.failed}: ${JSON.stringify(log.failures.slice(0, 3))}`);
  }

  // The interval: the first importMime's arrival to the last 201's answer, each midway between two polls.
  const midway = (i: number) => (i <= 0 ? samples[0]!.t : (samples[i - 1]!.t + samples[i]!.t) / 2);
  const firstIdx = samples.findIndex((s) => s.importing > 0);
  const finalCreated = final.byStatus['201'] ?? 0;
  const lastIdx = samples.findIndex((s) => s.created >= finalCreated);
  const tFirst = midway(firstIdx);
  const tLast = lastIdx < 0 ? wall * 1000 : midway(lastIdx);
  const seconds = (tLast - tFirst) / 1000;
  const reached = MESSAGES / seconds;

  // Whole windows after the first: every mailbox's budget starts full, so the first window may burst. Any span of one
  // window's length holds at most `requests` admitted requests a mailbox, so k whole windows hold at most k × the
  // budget of all mailboxes: the requests admitted in them over that is the share of the budget used, burst-free.
  const sampleAt = (t: number) => samples.find((s) => s.t >= t);
  const windows = Math.floor((tLast - tFirst - LIMITS.windowMs) / LIMITS.windowMs);
  const from = sampleAt(tFirst + LIMITS.windowMs);
  const to = sampleAt(tFirst + LIMITS.windowMs + windows * LIMITS.windowMs);
  const steady = windows >= 1 && from && to && to.t > from.t ? (to.admitted - from.admitted) / ((to.t - from.t) / 1000) : NaN;

  // Requests per mailbox: one importMime per message, the rest found, made or listed the folder.
  const rows = Object.entries(stats);
  const totalRequests = rows.reduce((n, [, s]) => n + s.requests - s.throttled, 0);
  // A 429 uses no budget (the double counts only admitted requests), so it is left out here and counted apart.
  const other = rows.map(([, s]) => s.requests - s.throttled - perMailbox);
  const otherTotal = other.reduce((a, b) => a + b, 0);
  const allRate = totalRequests / seconds;
  const over = rows.filter(([, s]) => s.overLimit > 0 || s.throttled > 0 || s.maxInFlight > LIMITS.concurrent);
  const maxInFlight = Math.max(...rows.map(([, s]) => s.maxInFlight));
  const uploadMax = Math.max(...rows.map(([, s]) => s.uploadBytes));
  const n = Math.ceil(perMailbox + Math.max(...other));
  const bestSeconds = Math.floor((n - 1) / LIMITS.requests) * (LIMITS.windowMs / 1000) + LATENCY_MS / 1000;

  console.log('');
  console.log('| figure | value | ratio to the ceiling |');
  console.log('|---|---|---|');
  console.log(`| ceiling the limits allow (${MAILBOXES} × ${LIMITS.requests} / ${LIMITS.windowMs / 1000} s) | ${f0(CEILING)} messages/s | 1.00× |`);
  console.log(`| **reached**: ${f0(MESSAGES)} messages / ${seconds.toFixed(1)} s, first importMime to last answer (aim ≥ 0.90×) | **${f0(reached)} messages/s** | **${ratio(reached)}** |`);
  console.log(`| steady: requests admitted in the ${windows} whole windows after the first (no start burst), per second | ${Number.isNaN(steady) ? 'n/a' : `${f0(steady)} requests/s`} | ${Number.isNaN(steady) ? 'n/a' : ratio(steady)} |`);
  console.log(`| all requests against the budget (${f0(totalRequests)} = ${f0(MESSAGES)} importMime + ${f0(otherTotal)} others; 429s use none), same interval | ${f0(allRate)} requests/s | ${ratio(allRate)} |`);
  console.log(`| best the limits allow for this run: ${n} requests a mailbox, first window's burst included (${bestSeconds.toFixed(1)} s) | ${f0(MESSAGES / bestSeconds)} messages/s | ${ratio(MESSAGES / bestSeconds)} |`);
  console.log(`| whole command, wall time ${wall.toFixed(1)} s (node's start, staging, verifying, converting, ledger, token, folders) | ${f0(MESSAGES / wall)} messages/s | ${ratio(MESSAGES / wall)} |`);
  console.log(`| peak RSS of the command | ${(run.maxRssBytes / 2 ** 20).toFixed(0)} MiB | |`);
  console.log('');
  console.log(`CPU: the command ${commandCpu.seconds.toFixed(1)} s (${((commandCpu.seconds / wall) * 100).toFixed(0)} % of one core over its wall time; sampled every 0.1 s, so the last 0.1 s may be missing), the double ${doubleCpu.toFixed(1)} s (${((doubleCpu / wall) * 100).toFixed(0)} %); load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`non-import requests per mailbox (folder look-ups and creation, listing): ${Math.min(...other)}–${Math.max(...other)}, ${f0(otherTotal)} in all (${((otherTotal / totalRequests) * 100).toFixed(1)} % of the requests)`);
  console.log(`first importMime ${(tFirst / 1000).toFixed(2)} s after the command was started; last answer at ${(tLast / 1000).toFixed(2)} s; the command ended at ${wall.toFixed(2)} s (${run.seconds.toFixed(2)} s in its main())`);
  console.log(`limits kept: ${over.length === 0 ? 'yes' : `NO, ${over.length} mailboxes`} — overLimit ${rows.reduce((a, [, s]) => a + s.overLimit, 0)}, throttled (429) ${rows.reduce((a, [, s]) => a + s.throttled, 0)}, highest in flight ${maxInFlight} (limit ${LIMITS.concurrent}), most uploaded by one mailbox ${f0(uploadMax)} bytes in the whole run (budget ${f0(LIMITS.uploadBytes)} per ${LIMITS.uploadWindowMs / 1000} s); graph requests by status ${JSON.stringify(final.byStatus)} (control polls included in 200)`);
  if (over.length > 0) {
    failed = true;
    for (const [name, s] of over.slice(0, 5)) console.log(`  ${name}: ${JSON.stringify(s)}`);
    console.log(`bench:graph FAILED: ${over.length} of ${MAILBOXES} mailboxes were throttled or went over a limit at the double (the control API does not say which limit)`);
  }
} finally {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin.end();
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
