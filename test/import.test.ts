// `xip import` end to end, as an administrator runs it, against a real
// Dovecot (installed by the test setup when missing): the Maildir target read
// back through Dovecot, the IMAP target, the mapping rules, exactly once
// (same container twice, ledger deleted, runs killed at several points), and
// the faults a mail server can be made to show.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { ROOT, runXip, XIP_BIN } from './support/cli.js';
import { startDovecot, startDovecotOnMailRoot, type Dovecot } from './support/dovecot.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { listFolders, readFolder } from './support/imap-read.js';

const USERS = ['ana@corp.example', 'bo@corp.example', 'cy@corp.example', 'archive@corp.example'];
const DIRECTORY = [
  'email,name,aliases,litigationHold',
  'ana@corp.example,Ana Ruiz,a.ruiz@corp.example;ana.ruiz@corp.example,true',
  'bo@corp.example,Bo Chen,,false',
  'cy@corp.example,"Cy, the trader",,true',
  'archive@corp.example,Archive,,true',
  'ghost@corp.example,Not on the server,,true',
].join('\n');

const item = (n: number, extra: Record<string, unknown>) => ({
  id: `it-${n}`,
  type: 'chat.message',
  sentAt: `2026-11-22T14:${String(n % 60).padStart(2, '0')}:11.120+01:00`,
  body: { text: `message ${n}` },
  ...extra,
});
const ITEMS = [
  item(1, { from: { name: 'Ana Ruiz', email: 'ANA@corp.example', sourceId: 'u-1' }, participants: [{ email: 'bo@corp.example', role: 'to' }, { email: 'desk@client.example', role: 'cc' }] }),
  item(2, { from: { name: 'Trader', sourceId: 'u-77' }, participants: [{ email: 'bo@corp.example', role: 'bcc' }] }),
  item(3, { from: { email: 'x@other.example' }, participants: [{ email: 'y@other.example', sourceId: 'ext-9' }] }),
  { id: 'it-4', sentAt: '2026-11-22T14:00:00Z', from: { email: 'ana@corp.example' } },
  item(5, { from: { email: 'desk@client.example' }, Email: ['desk@client.example', 'a.ruiz@corp.example'] }),
];

let dir: string;
let trust: string;
let directory: string;
let mapping: string;
let mixed: string;
let clean: string;
let dovecot: Dovecot;
let mailRoot: string;

function ndjson(items: readonly unknown[]): string {
  return items.map((i) => JSON.stringify(i)).join('\n') + '\n';
}

function chat(count: number, prefix: string): string {
  return ndjson(
    Array.from({ length: count }, (_, i) => item(i, { id: `${prefix}-${i}`, from: { email: 'ana@corp.example' }, participants: [{ email: 'bo@corp.example', role: 'to' }] })),
  );
}

async function xipImport(args: string[], env: Record<string, string> = {}) {
  const r = await runXip(['import', ...args, '--trust', trust, '--directory', directory, '--json'], { env });
  let log: Record<string, unknown> & { failures: { itemId: string | null; mailbox: string | null; code: string; reason: string }[] } = { failures: [] };
  try {
    log = JSON.parse(r.stdout);
  } catch {
    assert.fail(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { ...r, log };
}

/** Message-IDs in a mailbox's XIP folder, read back through Dovecot over IMAP. */
async function messageIds(user: string): Promise<string[]> {
  const { paths } = await listFolders(dovecot, user);
  const folder = paths.find((p) => /^INBOX[./]XIP$/.test(p));
  if (!folder) return [];
  return (await readFolder(dovecot, user, folder)).map((m) => m.messageId ?? '?');
}

function assertOnce(ids: readonly string[], expected: number, label: string): void {
  assert.equal(ids.length, expected, `${label}: ${ids.length} messages, expected ${expected}`);
  assert.equal(new Set(ids).size, ids.length, `${label}: a message is there twice`);
}

before(async () => {
  dir = await tempDir('xip-import-');
  trust = join(dir, 'ca.pem');
  writeFileSync(trust, testIdentity().issued.caCertificatePem);
  directory = join(dir, 'users.csv');
  writeFileSync(directory, DIRECTORY);
  mapping = join(dir, 'map.csv');
  writeFileSync(mapping, 'sourceId,mailbox\nu-77,cy@corp.example\n');
  mixed = await buildContainer(join(dir, 'mixed.xip'), { data: { 'items/day.ndjson': ndjson(ITEMS) } });
  clean = await buildContainer(join(dir, 'clean.xip'), { data: { 'items/day.ndjson': ndjson([ITEMS[0]]) } });
  ({ dovecot, mailRoot } = await startDovecotOnMailRoot(dir, USERS));
});

after(async () => {
  await dovecot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('xip import into Maildir, read back through Dovecot', () => {
  it('delivers one copy per mapped mailbox into INBOX/XIP, seen, dated sentAt, and logs every item', async () => {
    const state = join(dir, 'maildir-1.db');
    const r = await xipImport([mixed, '--to', `maildir:${mailRoot}`, '--mapping', mapping, '--state', state]);
    assert.equal(r.code, 1, 'an unmapped and an invalid item fail the run');
    const log = r.log;
    assert.deepEqual((log.containers as { ok: boolean }[]).map((c) => c.ok), [true]);
    assert.equal(log.itemsFromSource, 5);
    // it-1 → ana, bo; it-2 → cy (mapping), bo (bcc); it-5 → ana (alias); it-3 unmapped; it-4 invalid.
    assert.equal(log.itemsForImport, 5);
    assert.equal(log.imported, 5);
    assert.equal(log.skippedDuplicates, 0);
    assert.equal(log.failed, 2);
    assert.deepEqual(log.failures.map((f) => [f.itemId, f.code]).sort(), [['it-3', 'ITEM_UNMAPPED'], ['it-4', 'ITEM_INVALID']].sort());
    assert.deepEqual(log.unmapped, [
      { sourceId: null, email: 'x@other.example', items: 1 },
      { sourceId: 'ext-9', email: 'y@other.example', items: 1 },
    ]);
    await dovecot.adopt(mailRoot);
    const { paths } = await listFolders(dovecot, 'ana@corp.example');
    assert.ok(paths.some((p) => /^INBOX[./]XIP$/.test(p)), `folders: ${paths.join(', ')}`);
    const folder = paths.find((p) => /^INBOX[./]XIP$/.test(p))!;
    const ana = await readFolder(dovecot, 'ana@corp.example', folder);
    assert.equal(ana.length, 2);
    for (const m of ana) {
      assert.ok(m.flags.has('\\Seen'), `flags ${[...m.flags].join(' ')}`);
      assert.match(m.messageId ?? '', /^<[0-9a-f]{32}@xip\.invalid>$/);
    }
    const first = ana.find((m) => m.source.includes('X-XIP-Item-Id: it-1'));
    assert.ok(first, 'it-1 is in ana\'s folder');
    assert.equal(first.internalDate.toISOString(), '2026-11-22T13:01:11.000Z');
    assertOnce(await messageIds('bo@corp.example'), 2, 'bo');
    assertOnce(await messageIds('cy@corp.example'), 1, 'cy');
    // The ledger holds the container's verdict, every item with an id (the invalid one too) and every delivery.
    const db = new Database(state, { readonly: true });
    try {
      assert.deepEqual(db.prepare('SELECT ok, code FROM containers').all(), [{ ok: 1, code: null }]);
      assert.deepEqual(db.prepare('SELECT item_id, ok, code FROM items ORDER BY item_id').all().map((r) => Object.values(r as object)), [
        ['it-1', 1, null], ['it-2', 1, null], ['it-3', 1, null], ['it-4', 0, 'ITEM_INVALID'], ['it-5', 1, null],
      ]);
      assert.equal((db.prepare("SELECT count(*) AS n FROM deliveries WHERE state = 'delivered'").get() as { n: number }).n, 5);
    } finally {
      db.close();
    }
  });

  it('importing the same container again delivers nothing and counts every copy as a skipped duplicate', async () => {
    const state = join(dir, 'maildir-1.db');
    const r = await xipImport([mixed, '--to', `maildir:${mailRoot}`, '--mapping', mapping, '--state', state]);
    assert.equal(r.log.imported, 0);
    assert.equal(r.log.skippedDuplicates, 5);
    await dovecot.adopt(mailRoot);
    assertOnce(await messageIds('ana@corp.example'), 2, 'ana');
  });

  it('with the ledger lost, the Maildir itself is asked and nothing is duplicated', async () => {
    const r = await xipImport([mixed, '--to', `maildir:${mailRoot}`, '--mapping', mapping, '--state', join(dir, 'maildir-new.db')]);
    assert.equal(r.log.imported, 0);
    assert.equal(r.log.skippedDuplicates, 5);
    await dovecot.adopt(mailRoot);
    assertOnce(await messageIds('bo@corp.example'), 2, 'bo');
  });
});

describe('xip import over IMAP into Dovecot (master user)', () => {
  const imap = () => `imap://xip-admin@127.0.0.1:${dovecot.port}`;
  const env = () => ({ XIP_IMAP_PASSWORD: dovecot.masterPassword });

  it('delivers, then recognises duplicates by ledger and, with the ledger lost, by UID SEARCH', async () => {
    const c = await buildContainer(join(dir, 'imap.xip'), { data: { 'items/a.ndjson': chat(30, 'imap') } });
    const state = join(dir, 'imap.db');
    const first = await xipImport([c, '--to', imap(), '--state', state, '--folder', 'Archive/XIP-IMAP'], env());
    assert.equal(first.code, 0, JSON.stringify(first.log));
    assert.equal(first.log.imported, 60);
    const again = await xipImport([c, '--to', imap(), '--state', state, '--folder', 'Archive/XIP-IMAP'], env());
    assert.equal(again.log.imported, 0);
    assert.equal(again.log.skippedDuplicates, 60);
    const lost = await xipImport([c, '--to', imap(), '--state', join(dir, 'imap-lost.db'), '--folder', 'Archive/XIP-IMAP'], env());
    assert.equal(lost.log.imported, 0);
    assert.equal(lost.log.skippedDuplicates, 60);
    const { paths } = await listFolders(dovecot, 'bo@corp.example');
    const folder = paths.find((p) => /^Archive[./]XIP-IMAP$/.test(p));
    assert.ok(folder, paths.join(', '));
    const stored = await readFolder(dovecot, 'bo@corp.example', folder);
    assertOnce(stored.map((m) => m.messageId ?? '?'), 30, 'bo over IMAP');
    assert.ok(stored.every((m) => m.flags.has('\\Seen')), 'all seen');
  });

  it('a mailbox the server does not have fails its copies with a clear reason; the rest go on', async () => {
    const c = await buildContainer(join(dir, 'ghost.xip'), {
      data: { 'items/a.ndjson': ndjson([item(1, { from: { email: 'ghost@corp.example' }, participants: [{ email: 'cy@corp.example', role: 'to' }] })]) },
    });
    const r = await xipImport([c, '--to', imap(), '--state', join(dir, 'ghost.db'), '--folder', 'Ghost'], env());
    assert.equal(r.code, 1);
    assert.equal(r.log.imported, 1);
    assert.equal(r.log.partiallyImported, 1);
    assert.deepEqual(r.log.failures.map((f) => [f.mailbox, f.code]), [['ghost@corp.example', 'MAILBOX_NOT_FOUND']]);
  });
});

describe('mapping rules through xip import', () => {
  it('--catch-all receives items that map to nobody; --hold-only skips mailboxes not on hold', async () => {
    const root = join(dir, 'rules');
    const r = await xipImport([mixed, '--to', `maildir:${root}`, '--mapping', mapping, '--state', join(dir, 'rules.db'), '--catch-all', 'archive@corp.example', '--hold-only']);
    // Copies: it-1 → ana (bo not on hold); it-2 → cy (bo skipped); it-3 → archive (catch-all); it-5 → ana.
    assert.equal(r.log.itemsForImport, 4);
    assert.equal(r.log.imported, 4);
    assert.equal(r.log.skippedNotOnHold, 2);
    assert.deepEqual(r.log.failures.map((f) => f.code), ['ITEM_INVALID']);
    assert.equal(existsSync(join(root, 'bo@corp.example')), false);
    assert.equal(readdirSync(join(root, 'archive@corp.example', '.INBOX.XIP', 'cur')).length, 1);
  });

  it('refuses a catch-all or mapping outside the directory (exit 2)', async () => {
    const r = await runXip(['import', clean, '--trust', trust, '--directory', directory, '--to', `maildir:${join(dir, 'x')}`, '--catch-all', 'nobody@corp.example', '--state', join(dir, 'x.db')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^MAPPING_INVALID/);
  });
});

describe('exactly once across crashes', () => {
  const COUNT = 120;
  const copies = COUNT * 2;

  async function crashThenResume(label: string, crash: string | null, killWhen?: (root: string) => boolean) {
    const root = join(dir, `crash-${label}`);
    const state = join(dir, `crash-${label}.db`);
    const c = await buildContainer(join(dir, `crash-${label}.xip`), { data: { 'items/a.ndjson': chat(COUNT, label) } });
    const args = [XIP_BIN, 'import', c, '--trust', trust, '--directory', directory, '--to', `maildir:${root}`, '--state', state, '--batch-size', '50', '--json'];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...(crash ? { XIP_TEST_CRASH: crash } : {}) }, stdio: 'ignore' });
    let poll: NodeJS.Timeout | undefined;
    if (killWhen) poll = setInterval(() => killWhen(root) && child.kill('SIGKILL'), 5);
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    clearInterval(poll);
    assert.equal(signal, 'SIGKILL', `${label}: the first run was killed`);
    const before = count(root);
    assert.ok(before < copies, `${label}: the first run was cut short (${before} of ${copies})`);
    const resumed = await xipImport([c, '--to', `maildir:${root}`, '--state', state]);
    assert.equal(resumed.code, 0, JSON.stringify(resumed.log));
    assert.equal((resumed.log.imported as number) + (resumed.log.skippedDuplicates as number), copies);
    for (const user of ['ana@corp.example', 'bo@corp.example']) {
      const cur = join(root, user, '.INBOX.XIP', 'cur');
      assert.equal(readdirSync(cur).length, COUNT, `${label}: ${user} has each message once`);
    }
    const again = await xipImport([c, '--to', `maildir:${root}`, '--state', state]);
    assert.equal(again.log.imported, 0);
    assert.equal(again.log.skippedDuplicates, copies);
  }

  function count(root: string): number {
    let n = 0;
    for (const user of ['ana@corp.example', 'bo@corp.example']) {
      const cur = join(root, user, '.INBOX.XIP', 'cur');
      if (existsSync(cur)) n += readdirSync(cur).length;
    }
    return n;
  }

  it('killed between items', () => crashThenResume('between-items', 'after-item:70'));
  it('killed after a batch was marked pending, before it was sent', () => crashThenResume('after-pending', 'after-pending:2'));
  it('killed after a batch was delivered, before the ledger recorded it', () => crashThenResume('after-deliver', 'after-deliver:2'));
  it('killed from outside while a batch is being written', () =>
    // Batches are 50 copies: the first files of the first batches are on disk, the rest not yet.
    crashThenResume('inside-batch', null, (root) => count(root) >= 10));
});

describe('faults during xip import over IMAP', () => {
  const env = () => ({ XIP_IMAP_PASSWORD: dovecot.masterPassword });

  it('a connection lost in the middle of a MULTIAPPEND is retried and the run resumes: every copy once', async () => {
    const proxy = await startFaultProxy({ host: dovecot.host, port: dovecot.port });
    try {
      const c = await buildContainer(join(dir, 'lost.xip'), { data: { 'items/a.ndjson': chat(80, 'lost') } });
      // The server has stored the messages; the client never hears the tagged OK.
      void proxy.cutWhenServerSays(/OK \[APPENDUID /);
      const r = await xipImport([c, '--to', `imap://xip-admin@127.0.0.1:${proxy.port}`, '--state', join(dir, 'lost.db'), '--folder', 'Lost', '--batch-size', '40'], env());
      assert.equal(r.code, 0, JSON.stringify(r.log).slice(0, 2000));
      assert.equal(proxy.cuts, 1, 'the proxy cut one connection');
      assert.equal((r.log.imported as number) + (r.log.skippedDuplicates as number), 160);
      for (const user of ['ana@corp.example', 'bo@corp.example']) {
        const { paths } = await listFolders(dovecot, user);
        assertOnce((await readFolder(dovecot, user, paths.find((p) => p === 'Lost')!)).map((m) => m.messageId ?? '?'), 80, user);
      }
    } finally {
      await proxy.close();
    }
  });

  it('killed after a batch was appended, before the ledger recorded it: the restart asks the server (UID SEARCH) and sends only the rest', async () => {
    const c = await buildContainer(join(dir, 'imap-crash.xip'), { data: { 'items/a.ndjson': chat(60, 'imap-crash') } });
    const state = join(dir, 'imap-crash.db');
    const args = [XIP_BIN, 'import', c, '--trust', trust, '--directory', directory, '--to', `imap://xip-admin@127.0.0.1:${dovecot.port}`, '--state', state, '--folder', 'Crash', '--batch-size', '25'];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env(), XIP_TEST_CRASH: 'after-deliver:2' }, stdio: 'ignore' });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
    assert.equal(signal, 'SIGKILL');
    const r = await xipImport([c, '--to', `imap://xip-admin@127.0.0.1:${dovecot.port}`, '--state', state, '--folder', 'Crash'], env());
    assert.equal(r.code, 0, JSON.stringify(r.log).slice(0, 2000));
    assert.equal((r.log.imported as number) + (r.log.skippedDuplicates as number), 120);
    // At least the batch appended just before the kill is in the server but not in the ledger: found, not sent again.
    // (The other mailbox's batch may or may not have finished: batches for different mailboxes run concurrently.)
    assert.ok((r.log.skippedDuplicates as number) >= 25, `the batch appended before the crash was found: ${String(r.log.skippedDuplicates)}`);
    for (const user of ['ana@corp.example', 'bo@corp.example']) {
      assertOnce((await readFolder(dovecot, user, 'Crash')).map((m) => m.messageId ?? '?'), 60, user);
    }
  });

  it("a message over the server's APPENDLIMIT fails alone with MESSAGE_TOO_LARGE; the others are delivered", async () => {
    const limited = await startDovecot({ users: USERS, masterUser: 'xip-admin', appendLimit: 20_000 });
    try {
      const big = { ...item(1, { id: 'big', from: { email: 'ana@corp.example' } }), attachments: [{ path: 'attachments/big.bin' }] };
      const small = item(2, { id: 'small', from: { email: 'ana@corp.example' } });
      const c = await buildContainer(join(dir, 'limit.xip'), { data: { 'items/a.ndjson': ndjson([big, small]), 'attachments/big.bin': Buffer.alloc(40_000, 7) } });
      const r = await xipImport([c, '--to', `imap://xip-admin@127.0.0.1:${limited.port}`, '--state', join(dir, 'limit.db')], { XIP_IMAP_PASSWORD: limited.masterPassword });
      assert.equal(r.code, 1);
      assert.equal(r.log.imported, 1);
      assert.deepEqual(r.log.failures.map((f) => [f.itemId, f.mailbox, f.code]), [['big', 'ana@corp.example', 'MESSAGE_TOO_LARGE']]);
    } finally {
      await limited.stop();
    }
  });
});
