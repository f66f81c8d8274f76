// npm run check:graph — the shipped `xip import … --to graph://TENANT`, end to
// end, against YOUR Microsoft 365 tenant (docs/microsoft-365.md §5): a small
// signed container of a few chat items addressed to XIP_GRAPH_CHECK_MAILBOX
// (item ids with a fresh run id, so that every check imports new messages)
// is imported three times into Inbox/XIP-check of that mailbox:
//
//   1. with a new ledger: every copy imported;
//   2. again, the same ledger: every copy skipped as a duplicate (the ledger);
//   3. again, a NEW empty ledger: every copy skipped as a duplicate (the
//      ledger rebuilt from the folder's listing), nothing sent twice.
//
// It reads what a run reads: XIP_GRAPH_TENANT, XIP_GRAPH_CLIENT_ID, the
// certificate (XIP_GRAPH_CERT and XIP_GRAPH_KEY) or a secret
// (XIP_GRAPH_CLIENT_SECRET), and XIP_GRAPH_CHECK_MAILBOX; the command gets
// this process's whole environment, so XIP_GRAPH_URL, XIP_GRAPH_LOGIN_URL,
// XIP_GRAPH_IMAP_URL, XIP_GRAPH_LIMITS and NODE_EXTRA_CA_CERTS apply as they
// do to a run (the tests point them at the contract double of Microsoft
// Graph). Without the settings it says it was skipped, names what is
// missing, and exits 0: "skipped", not "passed". Exits 1 when a step fails.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packDirectory } from '../src/xip/pack.js';
import { testIdentity } from '../src/xip/test-support/container.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/xip.js');
const FOLDER = 'Inbox/XIP-check';
const ITEMS = 3;
const SKIPPED =
  'check:graph skipped: set XIP_GRAPH_TENANT, XIP_GRAPH_CLIENT_ID, XIP_GRAPH_CERT and XIP_GRAPH_KEY (or XIP_GRAPH_CLIENT_SECRET) and XIP_GRAPH_CHECK_MAILBOX to run it against your tenant (docs/microsoft-365.md)';

type Env = Readonly<Record<string, string | undefined>>;

/** The settings not given, by name. */
function missingSettings(env: Env): string[] {
  const missing: string[] = [];
  if (!env.XIP_GRAPH_TENANT) missing.push('XIP_GRAPH_TENANT');
  if (!env.XIP_GRAPH_CLIENT_ID) missing.push('XIP_GRAPH_CLIENT_ID');
  const cert = Boolean(env.XIP_GRAPH_CERT);
  const key = Boolean(env.XIP_GRAPH_KEY);
  if (cert !== key) missing.push(cert ? 'XIP_GRAPH_KEY' : 'XIP_GRAPH_CERT'); // half a certificate is not a credential, even beside a secret: the command refuses it
  else if (!cert && !env.XIP_GRAPH_CLIENT_SECRET) missing.push('XIP_GRAPH_CERT and XIP_GRAPH_KEY (or XIP_GRAPH_CLIENT_SECRET)');
  if (!env.XIP_GRAPH_CHECK_MAILBOX) missing.push('XIP_GRAPH_CHECK_MAILBOX');
  return missing;
}

/** The node flags of the installed command's shebang, so that it runs as shipped. */
const SHIPPED_FLAGS = (readFileSync(BIN, 'utf8').split('\n')[0]!.match(/node(.*)$/)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);

interface RunLog {
  readonly runId?: number;
  readonly itemsFromSource: number;
  readonly itemsForImport: number;
  readonly imported: number;
  readonly skippedDuplicates: number;
  readonly inProgressElsewhere: number;
  readonly failed: number;
  readonly failures: readonly { readonly code: string; readonly reason: string }[];
  readonly containers: readonly { readonly ok: boolean; readonly code: string | null; readonly message?: string }[];
}

/** `xip import …` as installed, with this process's environment; its exit code and its --json log. */
function xipImport(args: readonly string[]): Promise<{ code: number; log: RunLog | undefined; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...SHIPPED_FLAGS, BIN, 'import', ...args, '--json'], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      let log: RunLog | undefined;
      try {
        log = JSON.parse(stdout) as RunLog;
      } catch {
        log = undefined;
      }
      resolve({ code: code ?? -1, log, stdout, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

function chatItem(runId: string, n: number, mailbox: string, sentAt: Date): string {
  return JSON.stringify({
    id: `xip-check-${runId}-${n}`,
    type: 'chat.message',
    sentAt: sentAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    subject: `XIP check ${runId} (${n} of ${ITEMS})`,
    from: { name: 'XIP check', email: 'xip-check-sender@example.com', sourceId: 'xip-check-sender' },
    participants: [{ name: 'Check mailbox', email: mailbox, sourceId: 'xip-check-mailbox', role: 'to' }],
    conversation: { id: `xip-check-${runId}`, title: `XIP check ${runId}` },
    body: { text: `Test message ${n} of ${ITEMS} written by npm run check:graph (run ${runId}). It may be deleted with the ${FOLDER} folder.` },
  });
}

async function check(env: Env): Promise<boolean> {
  const tenant = env.XIP_GRAPH_TENANT!;
  const mailbox = env.XIP_GRAPH_CHECK_MAILBOX!;
  const graphUrl = env.XIP_GRAPH_URL || 'https://graph.microsoft.com';
  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'xip-check-graph-'));
  try {
    console.log(`check:graph: tenant ${tenant} through ${graphUrl} (app ${env.XIP_GRAPH_CLIENT_ID}, ${env.XIP_GRAPH_CERT ? 'certificate' : 'client secret'}${env.NODE_EXTRA_CA_CERTS ? `, extra CA ${env.NODE_EXTRA_CA_CERTS}` : ''}); mailbox ${mailbox}, folder ${FOLDER}; run ${runId}`);

    // A signed container of ITEMS chat items to the mailbox, its signer's CA to trust, a directory of that one mailbox.
    const id = testIdentity('xip-check');
    const src = join(dir, 'src');
    mkdirSync(join(src, 'items'), { recursive: true });
    const now = Date.now();
    writeFileSync(join(src, 'items', 'check.ndjson'), Array.from({ length: ITEMS }, (_, i) => chatItem(runId, i + 1, mailbox, new Date(now - (ITEMS - i) * 60_000))).join('\n') + '\n');
    const container = join(dir, `xip-check-${runId}.xip`);
    await packDirectory({ dir: src, output: container, certificate: id.certificate, privateKey: id.privateKey, source: 'xip-check' });
    const trust = join(dir, 'trust.pem');
    writeFileSync(trust, id.issued.caCertificatePem);
    const directory = join(dir, 'directory.csv');
    writeFileSync(directory, `email,name,aliases,litigationHold\n${mailbox},Check mailbox,,false\n`);
    const common = [container, '--trust', trust, '--directory', directory, '--to', `graph://${tenant}`, '--folder', FOLDER];
    console.log(`container: ${ITEMS} chat items xip-check-${runId}-1…${ITEMS}, signed by a throw-away test CA; command: xip import ${common.join(' ').replaceAll(dir, '$TMP')} --state $TMP/ledger-….db --json`);

    const steps = [
      { name: 'run 1, new ledger', state: join(dir, 'ledger-1.db'), imported: ITEMS, skipped: 0, what: 'imported' },
      { name: 'run 2, same ledger', state: join(dir, 'ledger-1.db'), imported: 0, skipped: ITEMS, what: 'skipped as duplicates (the ledger knew them)' },
      { name: 'run 3, new empty ledger', state: join(dir, 'ledger-2.db'), imported: 0, skipped: ITEMS, what: "skipped as duplicates (the new ledger was rebuilt from the folder's listing; nothing sent twice)" },
    ];
    for (const step of steps) {
      const started = Date.now();
      const r = await xipImport([...common, '--state', step.state]);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const log = r.log;
      const ok = r.code === 0 && log !== undefined && log.imported === step.imported && log.skippedDuplicates === step.skipped && log.failed === 0 && log.inProgressElsewhere === 0 && log.itemsForImport === ITEMS;
      if (!ok) {
        console.log(`${step.name}: FAILED — expected exit 0, ${step.imported} imported, ${step.skipped} skipped as duplicates, none failed; got exit ${r.code}${log ? `, ${log.imported} imported, ${log.skippedDuplicates} skipped as duplicates, ${log.failed} failed, ${log.itemsForImport} copies planned` : ''} (${seconds} s)`);
        for (const f of log?.failures ?? []) console.log(`  ${f.code}: ${f.reason}`);
        for (const c of log?.containers ?? []) if (!c.ok) console.log(`  container ${c.code}: ${c.message ?? ''}`);
        const said = `${log ? '' : r.stdout}${r.stderr}`.trim();
        if (said) console.log(said.split('\n').map((l) => `  | ${l}`).join('\n'));
        return false;
      }
      console.log(`${step.name}: exit 0, ${ITEMS} of ${ITEMS} copies ${step.what} (${seconds} s)`);
    }
    console.log(`check:graph passed. The ${ITEMS} messages ("XIP check ${runId} (1 of ${ITEMS})" …) are in ${FOLDER} of ${mailbox}, once each. To remove them, delete the XIP-check folder in Outlook on the web, then empty Deleted Items (docs/microsoft-365.md §5).`);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const missing = missingSettings(process.env);
if (missing.length > 0) {
  console.log(SKIPPED);
  console.log(`missing: ${missing.join(', ')}`);
  process.exitCode = 0;
} else {
  process.exitCode = (await check(process.env)) ? 0 : 1;
}
