// npm run bench:import — chat items fanned out to two mailboxes each,
// imported by the shipped `xip import` (staging, verifying, converting,
// claiming in the ledger, delivering, recording: end to end) into Maildir and
// into Dovecot over IMAP, and, in the same run, Dovecot's own `doveadm import`
// of the same messages into the same Dovecot as the yardstick. Prints
// messages per second for each and our rates as ratios of doveadm's. Then
// the memory line: peak RSS of a Maildir import of 10,000 items and of
// 200,000 items (400,000 copies), and their ratio.
// XIP_BENCH_ITEMS (default 20,000) and XIP_BENCH_SCALE_ITEMS (default
// 200,000; 0 skips the memory line) change the counts.
import { execFile } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packDirectory } from '../src/xip/pack.js';
import { tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { startDovecot } from '../test/support/dovecot.js';
import { ROOT } from '../test/support/cli.js';

const ITEMS = Number(process.env.XIP_BENCH_ITEMS ?? 20_000);
const SCALE_ITEMS = Number(process.env.XIP_BENCH_SCALE_ITEMS ?? 200_000);
const SMALL_ITEMS = 10_000;
const COPIES = ITEMS * 2;
const USERS = ['ana@corp.example', 'bo@corp.example'];
const execFileP = promisify(execFile);

interface ChildResult {
  code: number;
  seconds: number;
  maxRssBytes: number;
  output: string;
}

/** The node flags of the installed command's shebang, so that the bench runs it as shipped. */
const SHIPPED_FLAGS = (readFileSync(join(ROOT, 'bin/xip.js'), 'utf8').split('\n')[0]!.match(/node(.*)$/)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);

async function xip(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  const { stdout } = await execFileP(process.execPath, [...SHIPPED_FLAGS, join(ROOT, 'bench/import-child.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as ChildResult;
}

function chatLine(i: number): string {
  return JSON.stringify({
    id: `bench-${i}`,
    type: 'chat.message',
    sentAt: new Date(Date.UTC(2026, 10, 22, 8) + i * 1000).toISOString().replace('Z', '+00:00'),
    from: { name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-1' },
    participants: [{ name: 'Bo Chen', email: 'bo@corp.example', sourceId: 'u-2', role: 'to' }],
    conversation: { id: 'room-42', title: 'FX desk' },
    body: { text: `Message ${i}: ${'quote EUR/CHF 5m spot, firm for 30 seconds. '.repeat(18)}` },
  });
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** A signed container of `count` chat items (written line by line: 200,000 items are not held as one string). */
async function container(count: number, name: string, id: ReturnType<typeof testIdentity>): Promise<string> {
  const src = join(dir, `src-${name}`);
  mkdirSync(join(src, 'items'), { recursive: true });
  const fd = openSync(join(src, 'items', 'chat.ndjson'), 'w');
  for (let i = 0; i < count; i += 10_000) writeSync(fd, Array.from({ length: Math.min(10_000, count - i) }, (_, k) => chatLine(i + k)).join('\n') + '\n');
  closeSync(fd);
  const file = join(dir, `${name}.xip`);
  await packDirectory({ dir: src, output: file, certificate: id.certificate, privateKey: id.privateKey, source: 'bench' });
  rmSync(src, { recursive: true, force: true });
  return file;
}

/** A Maildir import of `file` into a fresh root and ledger; its peak RSS. */
async function maildirImport(file: string, name: string, common: string[], copies: number): Promise<ChildResult> {
  const r = await xip(['import', file, ...common, '--to', `maildir:${join(dir, `maildir-${name}`)}`, '--state', join(dir, `maildir-${name}.db`)]);
  const log = JSON.parse(r.output) as { imported: number };
  if (r.code !== 0 || log.imported !== copies) throw new Error(`maildir import (${name}): exit ${r.code}, ${r.output.slice(0, 500)}`);
  return r;
}
const dir = await tempDir('xip-bench-import-');
try {
  console.log(`bench:import — ${ITEMS} chat items × 2 mailboxes = ${COPIES} copies; ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  const id = testIdentity('bench');
  const xipFile = await container(ITEMS, 'bench', id);
  const trust = join(dir, 'ca.pem');
  writeFileSync(trust, id.issued.caCertificatePem);
  const directory = join(dir, 'users.csv');
  writeFileSync(directory, 'email,name,aliases,litigationHold\nana@corp.example,Ana,,false\nbo@corp.example,Bo,,false\n');
  const common = ['--trust', trust, '--directory', directory, '--json'];

  // 1. Maildir.
  const maildirRoot = join(dir, 'maildir-bench');
  const md = await maildirImport(xipFile, 'bench', common, COPIES);

  // 2. IMAP into a fresh Dovecot; doveadm import into the same Dovecot afterwards.
  chmodSync(dir, 0o755); // Dovecot runs as its own unprivileged user
  const dovecotMail = join(dir, 'dovecot-mail');
  mkdirSync(dovecotMail);
  const dovecot = await startDovecot({ users: USERS, masterUser: 'xip-admin', mailRoot: dovecotMail, extraConfig: 'maildir_copy_with_hardlinks = no' });
  await dovecot.adopt(dovecotMail);
  try {
    const im = await xip(['import', xipFile, ...common, '--to', `imap://xip-admin@127.0.0.1:${dovecot.port}`, '--state', join(dir, 'imap.db')], { XIP_IMAP_PASSWORD: dovecot.masterPassword });
    const imLog = JSON.parse(im.output) as { imported: number };
    if (im.code !== 0 || imLog.imported !== COPIES) throw new Error(`imap import: exit ${im.code}, ${im.output.slice(0, 500)}`);

    // 3. doveadm import of the same messages (the Maildir written in step 1), both mailboxes, one after the other as our import does.
    await dovecot.adopt(maildirRoot);
    const started = process.hrtime.bigint();
    for (const user of USERS) {
      await dovecot.doveadm(['import', '-u', user, '-s', `maildir:${join(maildirRoot, user)}`, 'Doveadm', 'mailbox', 'INBOX.XIP', 'all']);
    }
    const doveadmSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    const rate = (s: number) => COPIES / s;
    console.log(`Maildir        ${rate(md.seconds).toFixed(0).padStart(6)} messages/s  (${md.seconds.toFixed(1)} s, peak RSS ${mb(md.maxRssBytes)})  ${(doveadmSeconds / md.seconds).toFixed(2)}× doveadm import (aim 2×)`);
    console.log(`IMAP (Dovecot) ${rate(im.seconds).toFixed(0).padStart(6)} messages/s  (${im.seconds.toFixed(1)} s, peak RSS ${mb(im.maxRssBytes)})  ${(doveadmSeconds / im.seconds).toFixed(2)}× doveadm import (aim 2×)`);
    console.log(`doveadm import ${rate(doveadmSeconds).toFixed(0).padStart(6)} messages/s  (${doveadmSeconds.toFixed(1)} s, same messages, same Dovecot, hard links off)`);
    console.log('(each import time includes staging and verifying the container, converting every item, and claiming and recording every copy in the ledger)');
  } finally {
    await dovecot.stop();
  }

  // 4. Memory: the peak for 10,000 items and for SCALE_ITEMS, into Maildir.
  if (SCALE_ITEMS > 0) {
    rmSync(maildirRoot, { recursive: true, force: true });
    const small = await maildirImport(await container(SMALL_ITEMS, 'small', id), 'small', common, SMALL_ITEMS * 2);
    rmSync(join(dir, 'maildir-small'), { recursive: true, force: true });
    const large = await maildirImport(await container(SCALE_ITEMS, 'large', id), 'large', common, SCALE_ITEMS * 2);
    console.log(
      `memory: ${SCALE_ITEMS} items (${SCALE_ITEMS * 2} copies) into Maildir: peak RSS ${mb(large.maxRssBytes)} (aim < 200 MiB), ${(large.maxRssBytes / small.maxRssBytes).toFixed(2)}× the ${mb(small.maxRssBytes)} of ${SMALL_ITEMS} items (aim ≤ 1.25×); ${(SCALE_ITEMS * 2 / large.seconds).toFixed(0)} messages/s`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
