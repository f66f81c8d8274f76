// npm run bench:import — 50,000 chat items fanned out to two mailboxes each
// (100,000 copies), imported by `xip import` into Maildir and into Dovecot
// over IMAP, and, in the same run, Dovecot's own `doveadm import` of the same
// messages as the yardstick. Prints messages per second for each, our IMAP
// rate as a ratio of doveadm's, and the import process's peak memory.
// XIP_BENCH_ITEMS changes the item count.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packDirectory } from '../src/xip/pack.js';
import { tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { startDovecot } from '../test/support/dovecot.js';
import { ROOT } from '../test/support/cli.js';

const ITEMS = Number(process.env.XIP_BENCH_ITEMS ?? 50_000);
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
const dir = await tempDir('xip-bench-import-');
try {
  console.log(`bench:import — ${ITEMS} chat items × 2 mailboxes = ${COPIES} copies; ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  const id = testIdentity('bench');
  const src = join(dir, 'src');
  mkdirSync(join(src, 'items'), { recursive: true });
  writeFileSync(join(src, 'items', 'chat.ndjson'), Array.from({ length: ITEMS }, (_, i) => chatLine(i)).join('\n') + '\n');
  const xipFile = join(dir, 'bench.xip');
  await packDirectory({ dir: src, output: xipFile, certificate: id.certificate, privateKey: id.privateKey, source: 'bench' });
  const trust = join(dir, 'ca.pem');
  writeFileSync(trust, id.issued.caCertificatePem);
  const directory = join(dir, 'users.csv');
  writeFileSync(directory, 'email,name,aliases,litigationHold\nana@corp.example,Ana,,false\nbo@corp.example,Bo,,false\n');
  const common = ['--trust', trust, '--directory', directory, '--json'];

  // 1. Maildir.
  const maildirRoot = join(dir, 'maildir');
  const md = await xip(['import', xipFile, ...common, '--to', `maildir:${maildirRoot}`, '--state', join(dir, 'maildir.db')]);
  const mdLog = JSON.parse(md.output) as { imported: number };
  if (md.code !== 0 || mdLog.imported !== COPIES) throw new Error(`maildir import: exit ${md.code}, ${md.output.slice(0, 500)}`);

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
    console.log(`Maildir        ${rate(md.seconds).toFixed(0).padStart(6)} messages/s  (${md.seconds.toFixed(1)} s, peak RSS ${mb(md.maxRssBytes)}; aim ≥ 3000/s)`);
    console.log(`IMAP (Dovecot) ${rate(im.seconds).toFixed(0).padStart(6)} messages/s  (${im.seconds.toFixed(1)} s, peak RSS ${mb(im.maxRssBytes)})`);
    console.log(`doveadm import ${rate(doveadmSeconds).toFixed(0).padStart(6)} messages/s  (${doveadmSeconds.toFixed(1)} s, same messages, same Dovecot, hard links off)`);
    console.log(`IMAP / doveadm import: ${(doveadmSeconds / im.seconds).toFixed(2)}× (aim ≥ 0.7×); peak memory ${mb(Math.max(md.maxRssBytes, im.maxRssBytes))} (aim < 200 MiB)`);
    console.log('(each import time includes staging and verifying the container and converting every item)');
  } finally {
    await dovecot.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
