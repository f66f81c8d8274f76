// Every `xip connector`, `xip evidence` and `xip serve` command, through the
// installed command as an admin runs it, with state under a throwaway
// XIP_HOME, a folder source and Maildir mailboxes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { runXip, XIP_BIN } from './support/cli.js';

const ANA = 'ana@corp.example';
const BO = 'bo@corp.example';
const chat = (id: string, from = ANA, to = BO) => ({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: from, sourceId: `src-${from}` }, participants: [{ email: to, role: 'to' }], body: { text: `text of ${id}` } });
const ndjson = (items: readonly unknown[]) => items.map((i) => JSON.stringify(i)).join('\n') + '\n';

let dir: string;
let home: string;
let drop: string;
let mail: string;
let trust: string;
let users: string;
let dayOne: string;
let dayTwo: string;
const env = () => ({ XIP_HOME: home, XIP_IMAP_PASSWORD: '', XIP_SECRET_KEY: '' });
const xip = (args: string[], extra: NodeJS.ProcessEnv = {}) => runXip(args, { cwd: dir, env: { ...env(), ...extra } });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

before(async () => {
  dir = await tempDir('xip-connector-cli-');
  home = join(dir, 'var');
  drop = join(dir, 'drop');
  mail = join(dir, 'mail');
  await mkdir(drop);
  trust = join(dir, 'ca.pem');
  await writeFile(trust, testIdentity().issued.caCertificatePem);
  users = join(dir, 'users.csv');
  await writeFile(users, `email,name,aliases,litigationHold\n${ANA},Ana,,true\n${BO},Bo,,false\n`);
  dayOne = await buildContainer(join(dir, 'one.bin'), { data: { 'items/1.ndjson': ndjson([chat('a'), chat('b'), chat('=1+1', ANA, 'gus@corp.example')]) } });
  dayTwo = await buildContainer(join(dir, 'two.bin'), { data: { 'items/2.ndjson': ndjson([chat('c')]) } });
});
after(async () => rm(dir, { recursive: true, force: true }));

const addArgs = (name: string, extra: string[] = []) => ['connector', 'add', name, '--source', drop, '--trust', trust, '--directory', users, '--to', `maildir:${mail}`, '--settle-seconds', '0', ...extra];

describe('xip connector', () => {
  it('add checks the configuration once, with messages that say what to fix, and refuses a taken name', async () => {
    const added = await xip(addArgs('chat', ['--json']));
    assert.equal(added.code, 0, added.stderr);
    assert.equal((json(added.stdout).connector as { schedule: string }).schedule, '0 2 * * *', 'every day by default');
    const again = await xip(addArgs('chat'));
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^CONNECTOR_EXISTS: /);
    const badCron = await xip(addArgs('other', ['--schedule', 'every day']));
    assert.match(badCron.stderr, /^CONFIG_INVALID: .*--schedule "every day"/);
    const noTrust = await xip(['connector', 'add', 'x', '--source', drop, '--directory', users, '--to', `maildir:${mail}`]);
    assert.match(noTrust.stderr, /^CONFIG_INVALID: .*trust: give at least one --trust PEM/);
    const badName = await xip(addArgs('../etc'));
    assert.match(badName.stderr, /^CONFIG_INVALID: .*\(name "\.\.\/etc": must be 1 to 64/);
    const badHostKey = await xip(['connector', 'add', 's', '--source', 'sftp://u@127.0.0.1/x', '--trust', trust, '--directory', users, '--to', `maildir:${mail}`], { XIP_SFTP_PASSWORD: 'pw' });
    assert.match(badHostKey.stderr, /^CONFIG_INVALID: .*--host-key SHA256:… is required/);
    const badDirectory = await xip(addArgs('y', ['--directory', trust]));
    assert.match(badDirectory.stderr, /^DIRECTORY_INVALID: /);
    assert.equal(((await stat(home)).mode & 0o777).toString(8), '700');
  });

  it('stores secrets encrypted, never shows them, and keeps its key file private', async () => {
    const secret = 'S3cret-Account-Key-Value==';
    const r = await xip(['connector', 'add', 'blob', '--source', 'https://acct.blob.core.windows.net/exports', '--trust', trust, '--directory', users, '--to', `maildir:${mail}`], { XIP_AZURE_KEY: secret });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(secret));
    const show = await xip(['connector', 'show', 'blob', '--json']);
    assert.equal(show.code, 0, show.stderr);
    assert.ok(!show.stdout.includes(secret), 'show never prints a secret');
    assert.equal((json(show.stdout).config as { source: { secret: string } }).source.secret, '(set)');
    const db = await readFile(join(home, 'xip.db'));
    assert.equal(db.includes(Buffer.from(secret)), false, 'not in the database in the clear');
    assert.equal(((await stat(join(home, 'keys', 'secret.key'))).mode & 0o777).toString(8), '600');
    const wrongKey = await xip(['connector', 'show', 'blob'], { XIP_SECRET_KEY: 'ab'.repeat(32) });
    assert.match(wrongKey.stderr, /^SECRET_KEY_INVALID: /);
    assert.equal((await xip(['connector', 'remove', 'blob'])).code, 0);
  });

  it('run imports new files, log shows what Microsoft shows, the CSV downloads, and a second run is a quiet day', async () => {
    await copyFile(dayOne, join(drop, 'day-1.xip'));
    const run = await xip(['connector', 'run', 'chat', '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const log = json(run.stdout);
    assert.equal(log.imported, 5);
    const lines = run.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.some((l) => l.event === 'container' && l.file === 'day-1.xip' && l.ok === true), 'a JSON line per container (not a terminal)');
    assert.ok(lines.some((l) => l.event === 'run' && l.imported === 5 && l.itemsAvailableForImport === 5));

    const text = await xip(['connector', 'log', 'chat']);
    assert.match(text.stdout, /Items available from source\s+3\n/);
    assert.match(text.stdout, /Items available for import\s+5\nImported\s+5\nPartially imported\s+0\nSkipped as duplicates\s+0\nFailed\s+0/);
    assert.match(text.stdout, /unmapped user gus@corp\.example: 1 item/);
    const csv = await xip(['connector', 'log', 'chat', '--csv']);
    assert.match(csv.stdout, /^runId,completedAt,record,/);
    assert.ok(csv.stdout.includes('\r\n'));
    assert.match(csv.stdout, /,container,verified,3,,,,day-1\.xip,[0-9a-f]{64},,/);

    const quiet = await xip(['connector', 'run', 'chat']);
    assert.equal(quiet.code, 0);
    const runs = json((await xip(['connector', 'runs', 'chat', '--json'])).stdout).runs as { id: number; status: string }[];
    assert.equal(runs.length, 2);
    const quietLog = await xip(['connector', 'log', 'chat', '--run', String(runs[0]!.id)]);
    assert.match(quietLog.stdout, /No items ingested on \d{4}-\d{2}-\d{2}/);
    assert.match((await xip(['connector', 'log', 'chat', '--run', '999'])).stderr, /^USAGE: .*connector chat has no run 999/);
    assert.equal((await readdir(join(mail, ANA, '.INBOX.XIP', 'cur'))).length, 3);
    assert.equal((await readdir(join(mail, BO, '.INBOX.XIP', 'cur'))).length, 2);
  });

  it('pause stops runs, resume allows them; list and show tell which', async () => {
    assert.equal((await xip(['connector', 'pause', 'chat'])).code, 0);
    const paused = await xip(['connector', 'run', 'chat']);
    assert.equal(paused.code, 2);
    assert.match(paused.stderr, /^CONNECTOR_PAUSED: /m);
    const list = json((await xip(['connector', 'list', '--json'])).stdout).connectors as { name: string; paused: boolean; nextRun: string | null }[];
    assert.deepEqual(list.map((c) => [c.name, c.paused, c.nextRun]), [['chat', true, null]]);
    assert.equal((await xip(['connector', 'resume', 'chat'])).code, 0);
    const shown = json((await xip(['connector', 'show', 'chat', '--json'])).stdout);
    assert.equal(shown.paused, false);
    assert.ok(typeof shown.nextRun === 'string');
  });

  it('edit changes what its flags name and checks again', async () => {
    const r = await xip(['connector', 'edit', 'chat', '--folder', 'Archive/Chat', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((json(r.stdout).connector as { folder: string }).folder, 'Archive/Chat');
    assert.equal((json(r.stdout).connector as { directory: { file: string } }).directory.file, users, 'the rest stays');
    const bad = await xip(['connector', 'edit', 'chat', '--schedule', '61 * * * *']);
    assert.match(bad.stderr, /^CONFIG_INVALID: /);
    assert.match((await xip(['connector', 'edit', 'nope', '--folder', 'x'])).stderr, /^CONNECTOR_NOT_FOUND: /);
    const paris = await xip(['connector', 'edit', 'chat', '--timezone', 'Europe/Paris', '--json']);
    assert.equal((json(paris.stdout).connector as { timezone: string }).timezone, 'Europe/Paris');
    assert.match((await xip(['connector', 'edit', 'chat', '--timezone', 'Mars/Olympus'])).stderr, /^CONFIG_INVALID: .*timezone/);
    const local = await xip(['connector', 'edit', 'chat', '--timezone', '', '--json']);
    assert.equal((json(local.stdout).connector as { timezone?: string }).timezone, undefined, '"" goes back to the server\'s zone');
    assert.equal((await xip(['connector', 'edit', 'chat', '--folder', 'Inbox/XIP'])).code, 0);
  });

  it('evidence list, show and export take out a file exactly as received', async () => {
    const list = json((await xip(['evidence', 'list', '--json'])).stdout).files as { sha256: string; firstName: string; verdict: string }[];
    assert.equal(list.length, 1);
    assert.equal(list[0]!.verdict, 'imported');
    const sha = list[0]!.sha256;
    const show = json((await xip(['evidence', 'show', sha, '--json'])).stdout);
    assert.equal(show.intact, true);
    const out = join(dir, 'out.xip');
    assert.equal((await xip(['evidence', 'export', sha, '-o', out])).code, 0);
    assert.deepEqual(await readFile(out), await readFile(dayOne));
    const again = await xip(['evidence', 'export', sha, '-o', out]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists; nothing was overwritten/);
    assert.match((await xip(['evidence', 'show', '0'.repeat(64)])).stderr, /^EVIDENCE_NOT_FOUND: /);
    assert.match((await xip(['evidence', 'show', '../../etc/passwd'])).stderr, /^EVIDENCE_NOT_FOUND: /);
  });

  it('prune drops old logs but keeps the runs, never silently', async () => {
    const before = json((await xip(['connector', 'runs', 'chat', '--json'])).stdout).runs as unknown[];
    const none = await xip(['connector', 'prune', 'chat', '--before', '2000-01-01', '--json']);
    assert.equal(json(none.stdout).pruned, 0);
    const all = await xip(['connector', 'prune', 'chat', '--before', '2999-01-01']);
    assert.match(all.stdout, new RegExp(`^${before.length} runs of chat pruned`));
    const runs = json((await xip(['connector', 'runs', 'chat', '--json'])).stdout).runs as { pruned: boolean }[];
    assert.equal(runs.length, before.length);
    assert.ok(runs.every((r) => r.pruned));
    assert.match((await xip(['connector', 'log', 'chat'])).stdout, /Its log was pruned\./);
  });

  it('serve runs a connector on its schedule, and stops cleanly on SIGTERM', async () => {
    assert.equal((await xip(['connector', 'edit', 'chat', '--schedule', '* * * * * *'])).code, 0);
    await copyFile(dayTwo, join(drop, 'day-2.xip'));
    const serve = spawn(process.execPath, [XIP_BIN, 'serve', '--port', '0', '--reload-seconds', '1'], { cwd: dir, env: { ...process.env, ...env() }, stdio: ['ignore', 'ignore', 'pipe'] });
    let logs = '';
    serve.stderr.on('data', (d: Buffer) => (logs += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!/"event":"container","file":"day-2.xip"/.test(logs) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    serve.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => serve.once('exit', (c) => r(c)));
    assert.match(logs, /"event":"container","file":"day-2.xip"/, logs);
    assert.equal(code, 0);
    const [latest] = json((await xip(['connector', 'runs', 'chat', '--json'])).stdout).runs as { trigger: string }[];
    assert.ok(['schedule', 'resume'].includes(latest!.trigger));
    assert.match(await readFile(join(home, 'logs', 'serve.log'), 'utf8'), /"event":"scheduled","connector":"chat"/);
    assert.equal((await readdir(join(mail, BO, '.INBOX.XIP', 'cur'))).length, 3);
  });

  it('remove deletes the configuration and keeps runs and evidence', async () => {
    assert.equal((await xip(['connector', 'remove', 'chat'])).code, 0);
    assert.match((await xip(['connector', 'show', 'chat'])).stderr, /^CONNECTOR_NOT_FOUND: /);
    assert.ok((json((await xip(['connector', 'runs', 'chat', '--json'])).stdout).runs as unknown[]).length > 0);
    assert.equal((json((await xip(['evidence', 'list', '--json'])).stdout).files as unknown[]).length, 2);
  });
});
