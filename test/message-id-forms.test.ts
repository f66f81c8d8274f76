// Exactly once for .eml items whatever the form of their Message-ID header, as
// an administrator runs `xip import`: an .eml keeps its own Message-ID
// (xip-items.md §3), and old archives write it in legal but unusual forms (no
// angle brackets, RFC 5322 §4.5.4; a comment after it; folded; another case of
// field name; quoted local part; domain literal). When the ledger is lost the
// target lists the folder, after a crash it searches for the pending copies:
// either way the stored header must be read as the same id the item has, or
// the copy is delivered a second time. Read back through a real Dovecot.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { INDEX_FILE } from '../src/delivery/maildir/msgid-index.js';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { ROOT, runXip, XIP_BIN } from './support/cli.js';
import { startDovecotOnMailRoot, type Dovecot } from './support/dovecot.js';
import { listFolders, readFolder } from './support/imap-read.js';

const USERS = ['ana@corp.example', 'bo@corp.example'];

/** Each form of one Message-ID field, and a word that only its message holds (in its Subject). */
const FORMS: readonly { readonly name: string; readonly field: string }[] = [
  { name: 'modern', field: 'Message-ID: <modern.1@forms.example>' },
  { name: 'no-brackets', field: 'Message-ID: no-brackets.2.19950101@forms.example' },
  { name: 'trailing-comment', field: 'Message-ID: <trailing-comment.3@forms.example> (added by the gateway)' },
  { name: 'folded', field: 'Message-ID:\r\n <folded.4@forms.example>' },
  { name: 'lower-case-name', field: 'message-id: <lower-case-name.5@forms.example>' },
  { name: 'upper-case-name', field: 'MESSAGE-ID: <Upper-Case-Name.6@Forms.Example>' },
  { name: 'quoted-local-part', field: 'Message-ID: <"quoted-local-part.7"@forms.example>' },
  { name: 'domain-literal', field: 'Message-ID: <domain-literal.8@[192.0.2.8]>' },
];
/**
 * CFWS inside the id itself (§4.5.4 obs-id-left). Found by a folder's listing,
 * which reads every header; not by IMAP SEARCH HEADER (a substring search), so
 * it stays out of the crash case, where the IMAP target searches.
 */
const OBS_CFWS = { name: 'cfws-inside', field: 'Message-ID: < cfws-inside . 9 (c) @ forms . example >' };

function eml(form: { name: string; field: string }, to: string, n: number): string {
  return [
    'Received: from gateway.forms.example by archive.forms.example; Sun, 22 Nov 2026 14:00:00 +0100',
    form.field,
    `Date: Sun, 22 Nov 2026 14:${String(n).padStart(2, '0')}:00 +0100`,
    'From: Ana Ruiz <ana@corp.example>',
    `To: ${to}`,
    `Subject: form ${form.name}`,
    '',
    `The Message-ID of this message is written in the form "${form.name}".`,
    '',
  ].join('\r\n');
}

function emlData(forms: readonly { name: string; field: string }[], to: string): Record<string, string> {
  return Object.fromEntries(forms.map((f, i) => [`items/mail/${String(i).padStart(2, '0')}-${f.name}.eml`, eml(f, to, i)]));
}

let dir: string;
let trust: string;
let directory: string;
let dovecot: Dovecot;
let mailRoot: string;

interface RunLog {
  readonly imported: number;
  readonly skippedDuplicates: number;
  readonly failures: readonly { itemId: string | null; code: string; reason: string }[];
}

async function xipImport(args: string[], env: Record<string, string> = {}) {
  const r = await runXip(['import', ...args, '--trust', trust, '--directory', directory, '--json'], { env });
  let log: RunLog;
  try {
    log = JSON.parse(r.stdout) as RunLog;
  } catch {
    assert.fail(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  assert.equal(r.code, 0, `exit ${r.code}: ${JSON.stringify(log).slice(0, 2000)}\n${r.stderr}`);
  return log;
}

/** Kills nothing itself: the run kills itself at the crash point (XIP_TEST_CRASH, src/cli/import.ts). */
async function xipImportCrashing(args: string[], crash: string, env: Record<string, string>): Promise<void> {
  const argv = [XIP_BIN, 'import', ...args, '--trust', trust, '--directory', directory, '--json'];
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env, XIP_TEST_CRASH: crash }, stdio: 'ignore' });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  assert.equal(signal, 'SIGKILL', `the run crashed at ${crash}`);
}

function forgetLedger(state: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(state + suffix, { force: true });
}

/**
 * The Maildir target keeps the Message-IDs it wrote in a cache file beside
 * cur/ and new/ (msgid-index.ts). Without it the target reads every message's
 * header, as it must for a folder restored or moved by Dovecot's own tools, or
 * for files renamed into cur/ just before a crash: the reader under test here.
 */
function forgetMaildirIndex(t: Target, user: string, folder: string): void {
  if (t.label === 'Maildir') rmSync(join(mailRoot, user, `.${folder}`, INDEX_FILE), { force: true });
}

/**
 * The messages of a folder, read back through Dovecot, by the form their
 * Subject names: each form must be there exactly once.
 */
async function assertEachOnce(user: string, folder: string, forms: readonly { name: string }[], label: string): Promise<void> {
  await dovecot.adopt(mailRoot); // Maildir files written by this (root) process, handed to Dovecot's user
  const { paths } = await listFolders(dovecot, user);
  assert.ok(paths.includes(folder), `${label}: ${user} has the folder ${folder} (${paths.join(', ')})`);
  const stored = await readFolder(dovecot, user, folder);
  const subjects = stored.map((m) => /^Subject: form (.*)$/m.exec(m.source.toString('utf8'))?.[1]?.trim() ?? '?').sort();
  assert.deepEqual(subjects, forms.map((f) => f.name).sort(), `${label}: ${user} holds each message once`);
}

before(async () => {
  dir = await tempDir('xip-msgid-forms-');
  trust = join(dir, 'ca.pem');
  writeFileSync(trust, testIdentity().issued.caCertificatePem);
  directory = join(dir, 'users.csv');
  writeFileSync(directory, ['email,name,aliases,litigationHold', 'ana@corp.example,Ana Ruiz,,true', 'bo@corp.example,Bo Chen,,false'].join('\n'));
  ({ dovecot, mailRoot } = await startDovecotOnMailRoot(dir, USERS));
});

after(async () => {
  await dovecot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ALL = [...FORMS, OBS_CFWS];

interface Target {
  readonly label: string;
  to(): string;
  env(): Record<string, string>;
}
const TARGETS: readonly Target[] = [
  { label: 'Maildir', to: () => `maildir:${mailRoot}`, env: () => ({}) },
  { label: 'IMAP', to: () => `imap://xip-admin@127.0.0.1:${dovecot.port}`, env: () => ({ XIP_IMAP_PASSWORD: dovecot.masterPassword }) },
];

describe('.eml items with every form of Message-ID: the ledger deleted, imported again', () => {
  for (const t of TARGETS) {
    it(`${t.label}: the second run finds every copy in the mailbox and delivers none again`, async () => {
      const folder = `Lost${t.label}`;
      const container = await buildContainer(join(dir, `lost-${t.label}.xip`), { data: emlData(ALL, 'Bo Chen <bo@corp.example>') });
      const state = join(dir, `lost-${t.label}.db`);
      const args = [container, '--to', t.to(), '--state', state, '--folder', folder];
      const first = await xipImport(args, t.env());
      assert.deepEqual(first.failures, []);
      assert.equal(first.imported, ALL.length * 2, 'one copy for ana, one for bo, of each message');
      for (const user of USERS) await assertEachOnce(user, folder, ALL, `${t.label}, first run`);

      forgetLedger(state);
      for (const user of USERS) forgetMaildirIndex(t, user, folder);
      const second = await xipImport(args, t.env());
      assert.equal(second.imported, 0, `${t.label}: nothing delivered again`);
      assert.equal(second.skippedDuplicates, ALL.length * 2, `${t.label}: every copy reported as a skipped duplicate`);
      for (const user of USERS) await assertEachOnce(user, folder, ALL, `${t.label}, ledger lost`);
    });
  }
});

describe('.eml items with every form of Message-ID: a run killed after delivering, before recording', () => {
  // A first container makes the ledger know the folder, so that the resumed
  // run asks the target about its pending copies (Maildir: the folder's
  // headers; IMAP: UID SEARCH HEADER Message-ID) rather than listing a folder
  // it has never delivered into. All the forms go in one batch, the one
  // delivered just before the crash. Only ana gets copies (the To address is
  // outside the organisation), so her batches go one after the other.
  for (const t of TARGETS) {
    it(`${t.label}: the resumed run finds the copies delivered before the crash and delivers none again`, async () => {
      const folder = `Crash${t.label}`;
      const state = join(dir, `crash-${t.label}.db`);
      const opener = await buildContainer(join(dir, `crash-opener-${t.label}.xip`), {
        data: emlData([{ name: 'opener', field: `Message-ID: <opener.${t.label}@forms.example>` }], 'desk@client.example'),
      });
      const forms = await buildContainer(join(dir, `crash-forms-${t.label}.xip`), { data: emlData(FORMS, 'desk@client.example') });
      const opened = await xipImport([opener, '--to', t.to(), '--state', state, '--folder', folder], t.env());
      assert.equal(opened.imported, 1);

      const args = [forms, '--to', t.to(), '--state', state, '--folder', folder];
      await xipImportCrashing([...args, '--batch-size', String(FORMS.length)], 'after-deliver:1', t.env());
      const expected = [{ name: 'opener' }, ...FORMS];
      await assertEachOnce('ana@corp.example', folder, expected, `${t.label}, after the crash`);
      forgetMaildirIndex(t, 'ana@corp.example', folder); // as if the crash came between the renames and the index write

      const resumed = await xipImport(args, t.env());
      assert.equal(resumed.imported, 0, `${t.label}: nothing delivered again`);
      assert.equal(resumed.skippedDuplicates, FORMS.length, `${t.label}: every copy delivered before the crash reported as a skipped duplicate`);
      await assertEachOnce('ana@corp.example', folder, expected, `${t.label}, resumed`);
    });
  }
});
