// A connector's runs under crashes and competition, through the installed
// command: a run killed with SIGKILL at several points and resumed by `xip
// serve` at its start delivers every copy exactly once; two `xip serve` on one
// XIP_HOME never run the same connector at the same time.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { runXip, XIP_BIN } from './support/cli.js';

const ANA = 'ana@corp.example';
const BO = 'bo@corp.example';
const CY = 'cy@corp.example';
const chat = (id: string) => ({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: ANA }, participants: [{ email: BO, role: 'to' }, { email: CY, role: 'cc' }], body: { text: `text of ${id}` } });
const ndjson = (ids: readonly string[]) => ids.map((i) => JSON.stringify(chat(i))).join('\n') + '\n';

let dir: string;
let files: string[];
let trust: string;
let users: string;
const ITEMS_PER_FILE = 40;
const FILES = 3;
const COPIES = FILES * ITEMS_PER_FILE * 3;

before(async () => {
  dir = await tempDir('xip-connector-crash-');
  trust = join(dir, 'ca.pem');
  await writeFile(trust, testIdentity().issued.caCertificatePem);
  users = join(dir, 'users.csv');
  await writeFile(users, `email,name,aliases,litigationHold\n${ANA},Ana,,true\n${BO},Bo,,true\n${CY},Cy,,true\n`);
  files = [];
  for (let f = 0; f < FILES; f++) {
    const ids = Array.from({ length: ITEMS_PER_FILE }, (_, i) => `f${f}-${i}`);
    files.push(await buildContainer(join(dir, `f${f}.bin`), { data: { [`items/${f}.ndjson`]: ndjson(ids) } }));
  }
});
after(async () => rm(dir, { recursive: true, force: true }));

async function installation(name: string, schedule: string) {
  const root = join(dir, name);
  const drop = join(root, 'drop');
  const mail = join(root, 'mail');
  await mkdir(drop, { recursive: true });
  for (const [i, f] of files.entries()) await copyFile(f, join(drop, `day-${i}.xip`));
  const env = { XIP_HOME: join(root, 'var') };
  const add = await runXip(['connector', 'add', 'chat', '--source', drop, '--trust', trust, '--directory', users, '--to', `maildir:${mail}`, '--settle-seconds', '0', '--schedule', schedule, '--catch-all', ANA], { cwd: root, env });
  assert.equal(add.code, 0, add.stderr);
  return { root, mail, env };
}

/** Every message file in the three mailboxes, and whether any Message-ID is there twice. */
async function delivered(mail: string): Promise<{ total: number; duplicates: string[] }> {
  const seen = new Map<string, number>();
  for (const box of [ANA, BO, CY]) {
    const cur = join(mail, box, '.INBOX.XIP', 'cur');
    for (const f of await readdir(cur).catch(() => [] as string[])) {
      const head = (await readFile(join(cur, f), 'utf8')).slice(0, 4096);
      const id = `${box} ${/^Message-ID: (.+)$/im.exec(head)?.[1]}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  return { total: [...seen.values()].reduce((a, b) => a + b, 0), duplicates: [...seen].filter(([, n]) => n > 1).map(([k]) => k) };
}

function serve(cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; logs: () => string } {
  const child = spawn(process.execPath, [XIP_BIN, 'serve', '--port', '0', '--reload-seconds', '1'], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  return { child, logs: () => logs };
}

async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  return new Promise((r) => child.once('exit', (c) => r(c)));
}

describe('a connector run killed with SIGKILL', () => {
  for (const point of ['after-fetch:2', 'after-item:50', 'after-pending:2', 'after-deliver:3']) {
    it(`at ${point} resumes when xip serve starts, and every copy is delivered exactly once`, async () => {
      const { root, mail, env } = await installation(`crash-${point.replace(':', '-')}`, '0 2 * * *');
      const killed = await runXip(['connector', 'run', 'chat'], { cwd: root, env: { ...env, XIP_TEST_CRASH: point } });
      assert.equal(killed.code, -1, `the run was killed (${killed.stdout}${killed.stderr})`);
      assert.ok((await delivered(mail)).total < COPIES, 'the crash left work undone');
      const runs = JSON.parse((await runXip(['connector', 'runs', 'chat', '--json'], { cwd: root, env })).stdout) as { runs: { status: string }[] };
      assert.equal(runs.runs[0]!.status, 'interrupted');
      const s = serve(root, env);
      await until(() => /"event":"run","runId":\d+,"ok":true/.test(s.logs()), 60_000);
      assert.equal(await stop(s.child), 0, s.logs());
      assert.match(s.logs(), /"event":"run"/);
      const result = await delivered(mail);
      assert.deepEqual(result, { total: COPIES, duplicates: [] });
      const after = JSON.parse((await runXip(['connector', 'runs', 'chat', '--json'], { cwd: root, env })).stdout) as { runs: { trigger: string; status: string }[] };
      assert.deepEqual([after.runs[0]!.trigger, after.runs[0]!.status], ['resume', 'succeeded']);
    });
  }
});

describe('two xip serve on one XIP_HOME', () => {
  it('never run the same connector at the same time, and deliver every copy once', async () => {
    const { root, mail, env } = await installation('two-serve', '* * * * * *');
    const a = serve(root, env);
    const b = serve(root, env);
    await until(async () => (await delivered(mail)).total >= COPIES, 60_000);
    await new Promise((r) => setTimeout(r, 3000)); // a few more ticks for both
    assert.equal(await stop(a.child), 0);
    assert.equal(await stop(b.child), 0);
    assert.deepEqual(await delivered(mail), { total: COPIES, duplicates: [] });
    const runs = (JSON.parse((await runXip(['connector', 'runs', 'chat', '--json', '--limit', '1000'], { cwd: root, env })).stdout) as { runs: { id: number; startedAt: string; completedAt: string | null }[] }).runs;
    assert.ok(runs.length >= 2, 'both ticked');
    const spans = runs.map((r) => [Date.parse(r.startedAt), Date.parse(r.completedAt ?? r.startedAt)] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], `runs overlap: ${JSON.stringify(runs)}`);
  });
});
