// `npm run check:graph` (scripts/check-graph.ts): without a tenant's settings
// it says it was skipped, naming what is missing, and exits 0; with them, it
// runs the installed `xip import` three times into Inbox/XIP-check — here
// against the contract double of Microsoft Graph (test/support/graph-double/;
// no test reaches Microsoft), pointed at by XIP_GRAPH_URL,
// XIP_GRAPH_LOGIN_URL and NODE_EXTRA_CA_CERTS, which the script passes on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../src/xip/test-support/container.js';
import { ROOT } from './support/cli.js';
import { appEnv } from './support/graph-double/app-env.js';
import { startGraphDouble, type GraphDouble } from './support/graph-double/index.js';

const MAILBOX = 'xip-check@contoso.example';
const SCRIPT = join(ROOT, 'scripts/check-graph.ts');

/** The script as `npm run check:graph` runs it (after its build), with the environment stripped of XIP_GRAPH_* and given `env`. */
function checkGraph(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('XIP_GRAPH_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

const SKIPPED =
  'check:graph skipped: set XIP_GRAPH_TENANT, XIP_GRAPH_CLIENT_ID, XIP_GRAPH_CERT and XIP_GRAPH_KEY (or XIP_GRAPH_CLIENT_SECRET) and XIP_GRAPH_CHECK_MAILBOX to run it against your tenant (docs/microsoft-365.md)';

describe('npm run check:graph', () => {
  it('without the settings: says it was skipped, names every missing one, exits 0', async () => {
    const r = await checkGraph({});
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], SKIPPED);
    assert.equal(lines[1], 'missing: XIP_GRAPH_TENANT, XIP_GRAPH_CLIENT_ID, XIP_GRAPH_CERT and XIP_GRAPH_KEY (or XIP_GRAPH_CLIENT_SECRET), XIP_GRAPH_CHECK_MAILBOX');
    assert.doesNotMatch(r.stdout, /passed/);
  });

  it('with some of them: names only what is missing (a certificate without its key is missing the key)', async () => {
    const r = await checkGraph({ XIP_GRAPH_TENANT: 'contoso.onmicrosoft.com', XIP_GRAPH_CERT: '/nowhere/app.crt', XIP_GRAPH_CLIENT_SECRET: 's' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n')[1], 'missing: XIP_GRAPH_CLIENT_ID, XIP_GRAPH_KEY, XIP_GRAPH_CHECK_MAILBOX');
  });

  describe('against the contract double of Microsoft Graph', () => {
    let double: GraphDouble;
    let dir: string;
    let env: Record<string, string>;
    before(async () => {
      double = await startGraphDouble({ mailboxes: [MAILBOX] });
      dir = await tempDir('xip-check-graph-test-');
      env = { ...appEnv(double, dir), XIP_GRAPH_TENANT: double.tenant, XIP_GRAPH_CHECK_MAILBOX: MAILBOX };
    });
    after(async () => {
      await double?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const imports = () => double.requestLog.filter((e) => e.host === 'graph' && /\/importMime$/.test(e.path) && e.status === 201).length;

    it('imports 3 messages into Inbox/XIP-check, then finds them all again with the same ledger and with a new one; each is in the folder once, sent once; a second check imports 3 new ones', async () => {
      const r = await checkGraph(env);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`through ${double.url.replace(/[.]/g, '\\.')} `), 'the Graph root given is the one used');
      assert.match(r.stdout, /^run 1, new ledger: exit 0, 3 of 3 copies imported/m);
      assert.match(r.stdout, /^run 2, same ledger: exit 0, 3 of 3 copies skipped as duplicates/m);
      assert.match(r.stdout, /^run 3, new empty ledger: exit 0, 3 of 3 copies skipped as duplicates/m);
      assert.match(r.stdout, new RegExp(`^check:graph passed\\. .* are in Inbox/XIP-check of ${MAILBOX}`, 'm'));
      const stored = double.messages(MAILBOX, 'Inbox/XIP-check');
      assert.equal(stored.length, 3);
      assert.equal(new Set(stored.map((m) => m.internetMessageId)).size, 3, 'each message once');
      assert.ok(stored.every((m) => !m.isDraft && m.internetMessageId !== undefined));
      assert.equal(imports(), 3, 'each message sent once, by run 1');
      assert.deepEqual(double.folders(MAILBOX).filter((f) => f.path.startsWith('Inbox/XIP')).map((f) => f.path), ['Inbox/XIP-check'], 'nowhere else');

      const again = await checkGraph(env);
      assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
      const after2 = double.messages(MAILBOX, 'Inbox/XIP-check');
      assert.equal(after2.length, 6, 'a fresh run id: new items');
      assert.equal(new Set(after2.map((m) => m.internetMessageId)).size, 6);
      assert.equal(imports(), 6);
    });

    it('a step that fails (a mailbox the tenant does not have) is reported with its reason and exits 1', async () => {
      const r = await checkGraph({ ...env, XIP_GRAPH_CHECK_MAILBOX: 'nobody@contoso.example' });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /^run 1, new ledger: FAILED/m);
      assert.match(r.stdout, /MAILBOX_NOT_FOUND/);
      assert.doesNotMatch(r.stdout, /passed/);
    });
  });
});
