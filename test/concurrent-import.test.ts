// Exactly once when runs overlap, as an administrator would meet it: three
// `xip import` of one container started together on one ledger and one
// target, one of them killed with SIGKILL mid-way while it holds claims, then
// one more run. Every mailbox holds every message exactly once, read back
// through a real Dovecot, for Maildir and for IMAP.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { ROOT, XIP_BIN } from './support/cli.js';
import { startDovecotOnMailRoot, type Dovecot } from './support/dovecot.js';
import { listFolders, readFolder } from './support/imap-read.js';

const USERS = ['ana@corp.example', 'bo@corp.example'];
const ITEMS = 1500;

let dir: string;
let trust: string;
let directory: string;
let container: string;
let dovecot: Dovecot;
let mailRoot: string;

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly log: { imported: number; skippedDuplicates: number; inProgressElsewhere: number; failed: number } | undefined;
  readonly stderr: string;
}

function xipImport(to: string, state: string, folder: string, env: Record<string, string>): Promise<Outcome> {
  const args = [XIP_BIN, 'import', container, '--trust', trust, '--directory', directory, '--to', to, '--state', state, '--folder', folder, '--batch-size', '50', '--json'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let log: Outcome['log'];
      try {
        log = JSON.parse(Buffer.concat(out).toString('utf8'));
      } catch {
        log = undefined;
      }
      resolve({ code, signal, log, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

async function messageIds(user: string, folderPattern: RegExp): Promise<string[]> {
  const { paths } = await listFolders(dovecot, user);
  const folder = paths.find((p) => folderPattern.test(p));
  if (!folder) return [];
  return (await readFolder(dovecot, user, folder)).map((m) => m.messageId ?? '?');
}

before(async () => {
  dir = await tempDir('xip-concurrent-');
  trust = join(dir, 'ca.pem');
  writeFileSync(trust, testIdentity().issued.caCertificatePem);
  directory = join(dir, 'users.csv');
  writeFileSync(directory, ['email,name,aliases,litigationHold', ...USERS.map((u) => `${u},${u},,true`)].join('\n'));
  const lines = Array.from({ length: ITEMS }, (_, i) =>
    JSON.stringify({ id: `c-${i}`, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: USERS[0] }, participants: [{ email: USERS[1], role: 'to' }], body: { text: `message ${i}` } }),
  );
  container = await buildContainer(join(dir, 'day.xip'), { data: { 'items/day.ndjson': lines.join('\n') + '\n' } });
  ({ dovecot, mailRoot } = await startDovecotOnMailRoot(dir, USERS));
});

after(async () => {
  await dovecot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function threeAtOnceThenOneMore(to: string, state: string, folder: string, env: Record<string, string>): Promise<void> {
  // The killed run dies right after claiming its third batch: it holds claims nobody renews.
  const runs = await Promise.all([xipImport(to, state, folder, env), xipImport(to, state, folder, { ...env, XIP_TEST_CRASH: 'after-pending:3' }), xipImport(to, state, folder, env)]);
  assert.equal(runs[1]!.signal, 'SIGKILL', `the second run was killed: ${runs[1]!.stderr}`);
  for (const r of [runs[0]!, runs[2]!]) {
    assert.equal(r.code, 0, `a surviving run: ${r.stderr} ${JSON.stringify(r.log)}`);
    assert.equal(r.log!.failed, 0);
  }
  const copies = ITEMS * USERS.length;
  const delivered = runs[0]!.log!.imported + runs[2]!.log!.imported;
  assert.ok(delivered <= copies, `the surviving runs delivered ${delivered} of ${copies}`);
  const last = await xipImport(to, state, folder, env);
  assert.equal(last.code, 0, `${last.stderr} ${JSON.stringify(last.log)}`);
  assert.equal(last.log!.imported + last.log!.skippedDuplicates, copies);
  assert.equal(last.log!.inProgressElsewhere, 0);
}

function assertOnce(ids: readonly string[], label: string): void {
  assert.equal(new Set(ids).size, ids.length, `${label}: ${ids.length - new Set(ids).size} duplicate copies`);
  assert.equal(ids.length, ITEMS, `${label}: ${ids.length} messages, expected ${ITEMS}`);
}

describe('three imports at once, one killed, then one more: every copy exactly once', () => {
  it('into Maildir', async () => {
    await threeAtOnceThenOneMore(`maildir:${mailRoot}`, join(dir, 'maildir.db'), 'Inbox/XIP', {});
    await dovecot.adopt(mailRoot);
    for (const user of USERS) assertOnce(await messageIds(user, /^INBOX[./]XIP$/), `maildir ${user}`);
  });

  it('over IMAP into Dovecot', async () => {
    await threeAtOnceThenOneMore(`imap://xip-admin@127.0.0.1:${dovecot.port}`, join(dir, 'imap.db'), 'IMAP-Concurrent', { XIP_IMAP_PASSWORD: dovecot.masterPassword });
    for (const user of USERS) assertOnce(await messageIds(user, /^IMAP-Concurrent$/), `imap ${user}`);
  });
});
