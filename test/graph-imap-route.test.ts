// Messages too large for one Graph request go by the IMAP route: the IMAP
// target logging in to the same mailbox with SASL XOAUTH2 and the same app's
// token for Exchange Online. Here Graph is the contract double of Microsoft
// Graph (test/support/graph-double/), and the IMAP side a real Dovecot 2.3
// that checks each bearer token at the double's introspection endpoint (a
// double-only endpoint: Exchange checks its tokens itself), so the token the
// app obtained through MSAL from the double's identity platform is what
// Dovecot accepts or refuses.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { runXip } from './support/cli.js';
import { graphTargetOn } from '../src/delivery/graph/test-support/on-double.js';
import { createImapTarget } from '../src/delivery/imap/index.js';
import { startDovecot, type Dovecot } from './support/dovecot.js';
import { startGraphDouble, type GraphDouble } from './support/graph-double/index.js';
import { readFolder } from './support/imap-read.js';
import { testMessage } from './support/messages.js';

const ANA = 'ana@contoso.example';
const OUTLOOK_SCOPE = 'https://outlook.office365.com/.default';

describe("Graph target with the IMAP route for large messages (Dovecot checking the double's tokens)", () => {
  let double: GraphDouble;
  let dovecot: Dovecot;
  before(async () => {
    double = await startGraphDouble({ mailboxes: [ANA], maxRequestBytes: 120_000 });
    dovecot = await startDovecot({ users: [ANA], oauth2: { introspectionUrl: double.introspectionUrl, mechanisms: ['xoauth2'] } });
  });
  after(async () => {
    await dovecot?.stop();
    await double?.stop();
  });

  const target = (maxRequestBytes: number) =>
    graphTargetOn(double, {
      maxRequestBytes,
      large: (tokens) => createImapTarget({ url: `imap://${dovecot.host}:${dovecot.port}?auth=oauth2-app&starttls=never`, accessToken: () => tokens.token(OUTLOOK_SCOPE) }),
    });

  it('a message over the request limit goes by IMAP XOAUTH2 whole; the small ones by importMime; a 413 from Graph sends that one by IMAP too; look-ups find each where it went', async () => {
    const small = testMessage({ id: 'route-small', bodyBytes: 2_000 });
    const big = testMessage({ id: 'route-big', bodyBytes: 300_000 }); // over the client's limit: never sent to Graph
    const refused = testMessage({ id: 'route-413', bodyBytes: 100_000 }); // under the client's limit, over the double's: Graph answers 413
    const t = target(200_000);
    const outcomes = await t.deliverBatch(ANA, 'Inbox/XIP', [small, big, refused]);
    assert.deepEqual(outcomes.map((o) => o.status), ['delivered', 'delivered', 'delivered'], JSON.stringify(outcomes));
    const viaGraph = double.messages(ANA, 'Inbox/XIP');
    assert.deepEqual(viaGraph.map((m) => m.internetMessageId), [small.messageId], 'only the small one in Graph');
    assert.ok(double.requestLog.some((e) => e.status === 413), 'Graph refused the 100 kB one (the fault happened)');
    const viaImap = await readFolder(dovecot, ANA, 'INBOX.XIP');
    assert.deepEqual(viaImap.map((m) => m.messageId).sort(), [big.messageId, refused.messageId].sort());
    const bigStored = viaImap.find((m) => m.messageId === big.messageId)!;
    assert.ok(bigStored.source.equals(big.bytes), 'whole, byte for byte');
    const found = await t.findExisting(ANA, 'Inbox/XIP', [small.messageId, big.messageId, refused.messageId]);
    await t.close();
    assert.deepEqual(new Map([...found].sort()), new Map(outcomes.map((o) => [o.messageId, o.status === 'delivered' ? o.ref : ''] as const).sort()));
    const log = await dovecot.log();
    assert.match(log, /Login: user=<ana@contoso\.example>, method=XOAUTH2/);
    assert.ok(double.tokensIssued >= 2, 'one token for Graph, one for Exchange Online');
  });

  it('when Dovecot refuses the app token (introspection says inactive) the large message fails, never silently dropped', async () => {
    const t = graphTargetOn(double, {
      credential: { kind: 'secret', secret: double.clientSecret },
      maxRequestBytes: 50_000,
      large: () => createImapTarget({ url: `imap://${dovecot.host}:${dovecot.port}?auth=oauth2-app&starttls=never`, accessToken: async () => 'not-a-token-the-double-issued' }),
    });
    const big = testMessage({ id: 'route-refused', bodyBytes: 80_000 });
    await assert.rejects(t.deliverBatch(ANA, 'Inbox/Refused', [big]), (e: unknown) => (e as { code?: string }).code === 'TARGET_AUTH_FAILED');
    await t.close();
    assert.equal((await readFolder(dovecot, ANA, 'INBOX.Refused').catch(() => [])).length, 0);
  });

  it('xip import --to imap://… --auth oauth2-app logs in to each mailbox with the app token from XIP_GRAPH_* (tenant, client id, certificate)', async () => {
    const dir = await tempDir('xip-oauth2-cli-');
    const trust = join(dir, 'ca.pem');
    writeFileSync(trust, testIdentity().issued.caCertificatePem);
    writeFileSync(join(dir, 'users.csv'), `email,name,aliases,litigationHold\n${ANA},Ana,,false\n`);
    const item = { id: 'oauth-cli-1', type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: ANA }, body: { text: 'by IMAP with an app token' } };
    const container = await buildContainer(join(dir, 'day.xip'), { data: { 'items/day.ndjson': JSON.stringify(item) + '\n' } });
    const r = await runXip(
      ['import', container, '--trust', trust, '--directory', join(dir, 'users.csv'), '--to', `imap://${dovecot.host}:${dovecot.port}?starttls=never`, '--auth', 'oauth2-app', '--folder', 'Inbox/Cli', '--state', join(dir, 's.db'), '--json'],
      { env: { XIP_GRAPH_TENANT: double.tenant, XIP_GRAPH_CLIENT_ID: double.clientId, XIP_GRAPH_CERT: double.certificatePem, XIP_GRAPH_KEY: double.privateKeyPem!, XIP_GRAPH_LOGIN_URL: double.loginUrl, NODE_EXTRA_CA_CERTS: double.caPath } },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as { imported: number }).imported, 1);
    assert.equal((await readFolder(dovecot, ANA, 'INBOX.Cli')).length, 1);
    rmSync(dir, { recursive: true, force: true });
  });
});
