// npm run bench:convert — conversion throughput (xip-items.md §3).
//
//   1. The shipped command end to end (issue 7): `node bin/xip.js convert`
//      (the installed command, over the built dist/) of 100,000 chat items of
//      about 1 KB in one .ndjson entry, in its own process, timed from spawn to
//      exit — node start-up, staging, verification, conversion and the 100,000
//      .eml files written. Aim: 5,000 items/s. The peer, in the same run and
//      on the same disk: `unzip -p` of the same container's items entry piped
//      into GNU `split -l 1`, which writes the same 100,000 items as 100,000
//      one-line files — a native, sequential writer of as many small files
//      with no verification, no conversion and no temporary names: the cost
//      of creating that many files here. Rounds alternate the two (disk speed
//      on the shared virtual disk drifts); XIP_BENCH_ROUNDS sets how many.
//   2. In process, items -> messages streamed to a sink that discards them
//      (the conversion alone, after staging and verification): the same
//      100,000 chat items, and a few items with large attachments (base64
//      streaming).
//
// `npm run bench:convert -- command` runs case 1 only, `-- sink` case 2 only.
// Case 1 runs dist/: run `npm run build` first (the bench refuses a dist/
// older than src/cli/).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { readItems } from '../src/items/read.js';
import type { VerifiedEntries } from '../src/items/ports.js';
import { openVerifiedContainer, type OpenedContainer } from '../src/xip/container.js';
import { packDirectory } from '../src/xip/pack.js';
import { testIdentity } from '../src/xip/test-support/container.js';
import { buildMessage } from '../src/message/build.js';
import { createMessageContext } from '../src/message/context.js';
import { ROOT } from '../test/support/cli.js';

const MB = 1024 * 1024;
const CHAT_ITEMS = 100_000;
const LARGE = { items: 3, size: 128 * MB };

async function writeLines(path: string, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < count; i++) if (!out.write(`${line(i)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

async function writeRandom(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += MB) if (!out.write(randomBytes(Math.min(MB, size - written)))) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

function chatItem(i: number): string {
  const words = ['quote', 'EUR/CHF', 'spot', 'fwd', 'size', '5m', 'done', 'thanks', 'Grüße', 'ok'];
  let text = '';
  while (text.length < 620) text += `${words[(i * 7 + text.length) % words.length]} `;
  return JSON.stringify({
    id: `sym-7781-${String(i).padStart(8, '0')}`,
    type: 'chat.message',
    sentAt: `2026-11-22T14:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.120+01:00`,
    from: { name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-991' },
    participants: [
      { name: 'Bo Chen', email: 'bo@corp.example', sourceId: 'u-104', role: 'member' },
      { name: 'Client Desk', email: 'desk@client.example', role: 'member' },
    ],
    conversation: { id: 'room-42', title: 'FX desk' },
    body: { text },
    properties: { platform: 'Symphony', deskId: 'FX-3' },
  });
}

const sink = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

interface Run { items: number; failed: number; bytes: number; seconds: number; cpuSeconds: number }

async function convertAll(entries: VerifiedEntries): Promise<Run> {
  const ctx = createMessageContext(entries, 'bench');
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let items = 0;
  let failed = 0;
  let bytes = 0;
  for await (const read of readItems(entries)) {
    if (!read.ok) {
      failed++;
      continue;
    }
    const message = await buildMessage(read, ctx);
    // pipe + finished rather than stream/promises pipeline, which costs ~0.1 ms a call on Node 20 (an AbortController each).
    const out = sink();
    message.open().pipe(out);
    await finished(out);
    bytes += message.size;
    items++;
  }
  const used = process.cpuUsage(cpu);
  return { items, failed, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 };
}

function report(name: string, r: Run, inputBytes: number): void {
  console.log(
    `${name}: ${r.items} items (${r.failed} failed) in ${r.seconds.toFixed(2)} s — ` +
      `${Math.round(r.items / r.seconds)} items/s, ${(r.bytes / MB / r.seconds).toFixed(1)} MB/s of messages ` +
      `(${(inputBytes / MB / r.seconds).toFixed(1)} MB/s of entries); CPU ${r.cpuSeconds.toFixed(2)} s (${Math.round((100 * r.cpuSeconds) / r.seconds)}% of one core)`,
  );
}

/** Packs a directory into a signed container and removes the directory. */
async function pack(dir: string): Promise<string> {
  const id = testIdentity('bench');
  const file = `${dir}.xip`;
  await packDirectory({ dir, output: file, certificate: id.certificate, privateKey: id.privateKey, source: 'bench' });
  await rm(dir, { recursive: true });
  return file;
}

/** Stages and verifies a container, as `xip convert` does before converting. */
async function verified(file: string): Promise<OpenedContainer> {
  const started = process.hrtime.bigint();
  const container = await openVerifiedContainer(file, { trust: testIdentity('bench').trust });
  console.log(`  (staged and verified ${file.slice(file.lastIndexOf('/') + 1)} in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s)`);
  return container;
}

// --- 1. the shipped command, end to end, against unzip | split ---

/** The node flags of the installed command's shebang, so that it runs as shipped. */
const SHIPPED_FLAGS = (readFileSync(join(ROOT, 'bin/xip.js'), 'utf8').split('\n')[0]!.match(/node(.*)$/)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Timed { seconds: number; code: number; stdout: string; stderr: string; gnuTime?: { user: number; sys: number; maxRssKiB: number } }

/** Runs a command to its exit; the time is wall time from spawn to exit. Peak RSS through GNU time when it is there. */
async function timed(command: string, args: readonly string[]): Promise<Timed> {
  const rssFile = join(tmpdir(), `xip-bench-rss-${process.pid}`);
  const [cmd, argv] = GNU_TIME ? [GNU_TIME, ['-o', rssFile, '-f', '%U %S %M', command, ...args]] : [command, [...args]];
  const started = process.hrtime.bigint();
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const [code] = (await once(child, 'close')) as [number | null];
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result: Timed = { seconds, code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  if (GNU_TIME) {
    const [user, sys, maxRssKiB] = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    result.gnuTime = { user: user!, sys: sys!, maxRssKiB: maxRssKiB! };
    await rm(rssFile, { force: true });
  }
  return result;
}

/** Case 1 runs dist/ through bin/xip.js: refuse a build older than the command's sources. */
function assertBuilt(): void {
  for (const name of readdirSync(join(ROOT, 'src/cli')).filter((n) => /^convert.*\.ts$/.test(n) && !n.endsWith('.test.ts'))) {
    const built = join(ROOT, 'dist/cli', name.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(ROOT, 'src/cli', name)).mtimeMs) {
      throw new Error(`dist/cli/${name.replace(/\.ts$/, '.js')} is missing or older than src/cli/${name}: run npm run build first`);
    }
  }
}

const perSecond = (items: number, seconds: number): string => Math.round(items / seconds).toLocaleString('en-US');

async function commandCase(root: string): Promise<void> {
  assertBuilt();
  const chatDir = join(root, 'command-chat');
  await mkdir(join(chatDir, 'items'), { recursive: true });
  await writeLines(join(chatDir, 'items', 'chat.ndjson'), CHAT_ITEMS, chatItem);
  const file = await pack(chatDir);
  const trust = join(root, 'ca.pem');
  writeFileSync(trust, testIdentity('bench').issued.caCertificatePem);
  const rounds = Number(process.env.XIP_BENCH_ROUNDS ?? 2);
  console.log(`1. shipped command end to end: ${CHAT_ITEMS.toLocaleString('en-US')} chat items of ~1 KB (one .ndjson), files written; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const peerOut = join(root, `peer-out-${round}`);
    await mkdir(peerOut);
    const peer = await timed('sh', ['-c', 'unzip -p "$1" items/chat.ndjson | split -l 1 -a 5 - "$2/"', 'sh', file, peerOut]);
    const peerFiles = readdirSync(peerOut).length;
    if (peer.code !== 0 || peerFiles !== CHAT_ITEMS) throw new Error(`unzip | split: exit ${peer.code}, ${peerFiles} files: ${peer.stderr}`);
    await rm(peerOut, { recursive: true });

    const out = join(root, `xip-out-${round}`);
    const xip = await timed(process.execPath, [...SHIPPED_FLAGS, join(ROOT, 'bin/xip.js'), 'convert', file, '--trust', trust, '-o', out]);
    const files = readdirSync(out);
    if (xip.code !== 0 || files.length !== CHAT_ITEMS || files.some((f) => !/^[0-9a-f]{32}\.eml$/.test(f))) {
      throw new Error(`xip convert: exit ${xip.code}, ${files.length} files: ${xip.stdout.slice(0, 300)} ${xip.stderr.slice(0, 300)}`);
    }
    const bytes = files.reduce((n, f) => n + statSync(join(out, f)).size, 0);
    await rm(out, { recursive: true });

    const ratio = peer.seconds / xip.seconds;
    ratios.push(ratio);
    const rss = (t: Timed): string => (t.gnuTime ? `, CPU ${t.gnuTime.user.toFixed(1)} s user + ${t.gnuTime.sys.toFixed(1)} s system, peak RSS ${Math.round(t.gnuTime.maxRssKiB / 1024)} MiB` : '');
    console.log(`  round ${round}:`);
    console.log(`    xip convert     ${perSecond(CHAT_ITEMS, xip.seconds).padStart(7)} items/s  (${xip.seconds.toFixed(2)} s, ${(bytes / MB).toFixed(0)} MiB of .eml${rss(xip)})  aim ≥ 5,000`);
    console.log(`    unzip | split   ${perSecond(CHAT_ITEMS, peer.seconds).padStart(7)} items/s  (${peer.seconds.toFixed(2)} s, same items as one-line files${rss(peer)})`);
    console.log(`    xip / peer      ${ratio.toFixed(2)}×`);
  }
  console.log(`  xip / peer over ${rounds} rounds: ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}`);
}

// --- 2. in process, to a sink ---

async function sinkCase(root: string): Promise<void> {
  console.log('2. in process, after staging and verification, messages streamed to a sink (one core):');
  const chatDir = join(root, 'chat');
  await mkdir(join(chatDir, 'items'), { recursive: true });
  await writeLines(join(chatDir, 'items', 'chat.ndjson'), CHAT_ITEMS, chatItem);
  const chat = await verified(await pack(chatDir));
  report('chat (ndjson, ~1 KB items)', await convertAll(chat), chat.entries.reduce((n, e) => n + e.size, 0));
  await chat.close();

  const largeDir = join(root, 'large');
  await mkdir(join(largeDir, 'items'), { recursive: true });
  await mkdir(join(largeDir, 'attachments'), { recursive: true });
  for (let i = 0; i < LARGE.items; i++) await writeRandom(join(largeDir, 'attachments', `file-${i}.bin`), LARGE.size);
  await writeLines(join(largeDir, 'items', 'docs.ndjson'), LARGE.items, (i) =>
    JSON.stringify({
      id: `doc-${i}`, type: 'document', sentAt: '2026-11-22T14:03:11+01:00', from: { email: 'ana@corp.example' },
      body: { text: 'see attached' }, attachments: [{ path: `attachments/file-${i}.bin` }],
    }),
  );
  const large = await verified(await pack(largeDir));
  report(`large attachments (${LARGE.items} × ${LARGE.size / MB} MB)`, await convertAll(large), large.entries.reduce((n, e) => n + e.size, 0));
  await large.close();
  console.log(`peak RSS of the bench process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

const only = process.argv[2];
if (only !== undefined && only !== 'command' && only !== 'sink') throw new Error(`unknown case ${only}: command or sink`);
const root = await mkdtemp(join(tmpdir(), 'xip-bench-'));
try {
  if (only !== 'sink') await commandCase(root);
  if (only !== 'command') await sinkCase(root);
} finally {
  await rm(root, { recursive: true, force: true });
}
