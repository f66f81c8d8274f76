// `xip import --to graph://TENANT` and a connector into Microsoft 365, as an
// administrator runs them (the installed command, its environment), against
// the contract double of Microsoft Graph (test/support/graph-double/; no test
// reaches Microsoft): the app signs in with a certificate given as PEM files,
// TLS to the double is trusted through NODE_EXTRA_CA_CERTS, the directory
// can come from the tenant's users, and every copy lands once — again after
// the ledger is lost (rebuilt from the folder's listing).
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { runXip } from './support/cli.js';
import { appEnv } from './support/graph-double/app-env.js';
import { startGraphDouble, type GraphDouble } from './support/graph-double/index.js';

const ANA = 'ana@contoso.example';
const BO = 'bo@contoso.example';
let dir: string;
let double: GraphDouble;
let trust: string;
let container: string;
let env: Record<string, string>;

const items = Array.from({ length: 6 }, (_, i) => ({
  id: `g-${i}`,
  type: 'chat.message',
  sentAt: `2026-11-22T14:0${i}:11Z`,
  from: { name: 'Ana', email: i % 2 ? 'a.ruiz@contoso.example' : ANA, sourceId: 'u-1' },
  participants: [{ email: BO, role: 'to' }],
  body: { text: `message ${i}` },
}));

before(async () => {
  dir = await tempDir('xip-graph-cli-');
  double = await startGraphDouble({
    mailboxes: [
      { address: ANA, displayName: 'Ana Ruiz', proxyAddresses: [`SMTP:${ANA}`, 'smtp:a.ruiz@contoso.example', 'X500:/o=ExchangeLabs/cn=ana'] },
      { address: BO, displayName: 'Bo Chen' },
      { address: 'room@contoso.example', mailboxEnabled: false },
    ],
  });
  trust = join(dir, 'ca.pem');
  writeFileSync(trust, testIdentity().issued.caCertificatePem);
  container = await buildContainer(join(dir, 'day.xip'), { data: { 'items/day.ndjson': items.map((i) => JSON.stringify(i)).join('\n') + '\n' } });
  env = appEnv(double, dir);
});

after(async () => {
  await double?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function importJson(state: string, extra: string[] = [], extraEnv: Record<string, string> = {}) {
  const r = await runXip(['import', container, '--trust', trust, '--directory', `graph://${double.tenant}`, '--to', `graph://${double.tenant}`, '--state', state, '--json', ...extra], { env: { ...env, ...extraEnv } });
  let log: Record<string, number> = {};
  try {
    log = JSON.parse(r.stdout) as Record<string, number>;
  } catch {
    assert.fail(`exit ${r.code}: ${r.stdout}\n${r.stderr}`);
  }
  return { ...r, log };
}

const ids = (mailbox: string) => double.messages(mailbox, 'Inbox/XIP').map((m) => m.internetMessageId).sort();

describe('xip import --to graph://TENANT --directory graph://TENANT', () => {
  it('delivers each copy once into Inbox/XIP, not as drafts, the directory read from the tenant (an smtp: alias maps); again: all duplicates; with the ledger lost: all found in the folder, none sent again', async () => {
    const state = join(dir, 'state.db');
    const first = await importJson(state);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.log.imported, 12, JSON.stringify(first.log));
    assert.equal(ids(ANA).length, 6);
    assert.equal(ids(BO).length, 6);
    assert.ok(double.messages(ANA, 'Inbox/XIP').every((m) => !m.isDraft));
    const again = await importJson(state);
    assert.equal(again.log.imported, 0);
    assert.equal(again.log.skippedDuplicates, 12);
    const lost = await importJson(join(dir, 'lost.db'));
    assert.equal(lost.code, 0, lost.stderr);
    assert.equal(lost.log.imported, 0, 'nothing sent again');
    assert.equal(lost.log.skippedDuplicates, 12);
    assert.equal(ids(ANA).length, 6, 'still once each');
    assert.equal(new Set(ids(ANA)).size, 6);
  });

  it('refuses --hold-only with a Graph directory (litigation hold is not in Graph), and says what is missing from the environment', async () => {
    const hold = await runXip(['import', container, '--trust', trust, '--directory', `graph://${double.tenant}`, '--to', 'maildir:' + join(dir, 'mail'), '--hold-only'], { env });
    assert.equal(hold.code, 2, hold.stdout + hold.stderr);
    assert.match(hold.stderr, /USAGE.*litigation hold/s);
    const noId = await runXip(['import', container, '--trust', trust, '--directory', join(dir, 'none.csv'), '--to', `graph://${double.tenant}`], { env: { ...env, XIP_GRAPH_CLIENT_ID: '' } });
    assert.equal(noId.code, 2);
    assert.match(noId.stderr, /XIP_GRAPH_CLIENT_ID/);
  });

  it('without the private CA the double is not trusted: TARGET_AUTH_FAILED naming the certificate, nothing sent', async () => {
    const before = double.requestLog.length;
    const r = await runXip(['import', container, '--trust', trust, '--directory', `graph://${double.tenant}`, '--to', `graph://${double.tenant}`, '--state', join(dir, 'tls.db')], { env: { ...env, NODE_EXTRA_CA_CERTS: '' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /DIRECTORY_UNAVAILABLE|TARGET_AUTH_FAILED/);
    assert.match(r.stderr, /certificate/i);
    assert.equal(double.requestLog.length, before);
  });
});

describe('xip connector with a Microsoft 365 target', () => {
  it('adds a connector that keeps the app (key sealed, never shown), runs it into Inbox/Desk, and a second run sends nothing', async () => {
    const home = join(dir, 'home');
    const source = join(dir, 'drop');
    rmSync(source, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(source));
    await import('node:fs').then((fs) => fs.copyFileSync(container, join(source, 'day.xip')));
    const homeEnv = { ...env, XIP_HOME: home };
    const add = await runXip(
      ['connector', 'add', 'm365', '--source', source, '--trust', trust, '--directory', `graph://${double.tenant}`, '--to', `graph://${double.tenant}`, '--folder', 'Inbox/Desk', '--settle-seconds', '0'],
      { env: homeEnv },
    );
    assert.equal(add.code, 0, add.stdout + add.stderr);
    const show = await runXip(['connector', 'show', 'm365', '--json'], { env: { XIP_HOME: home } });
    assert.equal(show.code, 0, show.stderr);
    assert.ok(!show.stdout.includes('PRIVATE KEY'), 'the key is not shown');
    const db = await import('better-sqlite3').then((m) => new m.default(join(home, 'xip.db'), { readonly: true }));
    const stored = String((db.prepare('select config from connectors').get() as { config: string }).config);
    db.close();
    assert.ok(!stored.includes('PRIVATE KEY'), 'the key is sealed at rest');
    // the run needs nothing from the shell's environment but the CA: the app is in the connector
    const run = await runXip(['connector', 'run', 'm365', '--json'], { env: { XIP_HOME: home, NODE_EXTRA_CA_CERTS: double.caPath } });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(double.messages(BO, 'Inbox/Desk').length, 6);
    const again = await runXip(['connector', 'run', 'm365', '--json'], { env: { XIP_HOME: home, NODE_EXTRA_CA_CERTS: double.caPath } });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(double.messages(BO, 'Inbox/Desk').length, 6, 'nothing twice');
  });
});
