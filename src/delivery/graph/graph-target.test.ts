// The Microsoft 365 target's own behaviour, against the contract double of
// Microsoft Graph (test/support/graph-double/; no test reaches Microsoft):
// certificate credentials and tokens renewed before they expire, non-draft
// messages with their MIME kept, the Outlook limits kept per mailbox,
// Retry-After on one mailbox only, missing mailboxes, size limits, TLS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGraphDouble, type GraphDouble } from '../../../test/support/graph-double/index.js';
import { testMessage, testMessages } from '../../../test/support/messages.js';
import { isDeliveryError } from '../errors.js';
import { graphTargetOn } from './test-support/on-double.js';
import type { TokenSource } from './token.js';

const ANA = 'ana@contoso.example';
const BO = 'bo@contoso.example';
const CY = 'cy@contoso.example';
const NOMAIL = 'room@contoso.example';

const targetOn = graphTargetOn;

describe('Graph target on the contract double of Microsoft Graph', () => {
  let double: GraphDouble;
  before(async () => {
    double = await startGraphDouble({
      mailboxes: [ANA, BO, CY, { address: NOMAIL, mailboxEnabled: false }],
      tokenLifetimeSeconds: 3,
      maxMessageBytes: 200_000,
      limits: { concurrent: 4, requests: 10_000, windowMs: 600_000 },
      latencyMs: 15,
    });
  });
  after(() => double.stop());

  it('imports with importMime: not a draft, the MIME kept byte for byte, into Inbox/XIP created under the inbox; the ref is the Graph id', async () => {
    const t = targetOn(double);
    const messages = testMessages('mime', 3, undefined, 3000);
    const outcomes = await t.deliverBatch(ANA, 'Inbox/XIP', messages);
    await t.close();
    const stored = double.messages(ANA, 'Inbox/XIP');
    assert.equal(stored.length, 3);
    for (const m of messages) {
      const s = stored.find((x) => x.internetMessageId === m.messageId);
      assert.ok(s, `${m.messageId} stored`);
      assert.equal(s.isDraft, false);
      assert.ok(s.mime.equals(m.bytes), 'byte for byte');
      assert.deepEqual(outcomes.find((o) => o.messageId === m.messageId), { messageId: m.messageId, status: 'delivered', ref: s.id });
    }
    const xip = double.folders(ANA).find((f) => f.path === 'Inbox/XIP')!;
    assert.equal(xip.parentFolderId, double.folders(ANA).find((f) => f.wellKnownName === 'inbox')!.id);
    assert.ok(double.requestLog.some((e) => e.host === 'graph' && /\/beta\/users\/.*\/importMime$/.test(e.path)), 'by the beta importMime action');
  });

  it('signs in with the certificate and renews the token before it expires, mid-run: no request is refused as expired', async () => {
    const issued = double.tokensIssued;
    const t = targetOn(double);
    for (let round = 0; round < 4; round++) {
      await t.deliverBatch(BO, 'Inbox/Renew', testMessages(`renew-${round}`, 2));
      await new Promise((r) => setTimeout(r, 1200)); // the double's tokens live 3 s
    }
    await t.close();
    assert.ok(double.tokensIssued - issued >= 2, `tokens were renewed (${double.tokensIssued - issued} issued)`);
    assert.ok(t.tokens.obtained >= 2);
    assert.equal(double.requestLog.filter((e) => e.host === 'graph' && e.status === 401).length, 0, 'no request went with an expired token');
    assert.equal(double.messages(BO, 'Inbox/Renew').length, 8);
  });

  it('a token refused (401) is dropped and a new one asked for, once, and the message goes', async () => {
    let calls = 0;
    const stale = double.issueToken(double.url, 1);
    const tokens: TokenSource = {
      obtained: 0,
      // the first token given has expired by the time it is used (as after a suspend): the double refuses it
      token: async () => (++calls === 1 ? stale : double.issueToken(double.url, 60)),
      invalidate: () => undefined,
    };
    await new Promise((r) => setTimeout(r, 1100));
    const t = targetOn(double, { tokens });
    const before = double.requestLog.length;
    const [outcome] = await t.deliverBatch(CY, 'Inbox/XIP', [testMessage({ id: 'after-401' })]);
    await t.close();
    assert.equal(outcome!.status, 'delivered');
    assert.equal(double.requestLog.slice(before).filter((e) => e.status === 401).length, 1, 'the expired token was refused once');
    assert.ok(calls >= 2, 'the token source was asked again');
  });

  it('keeps 4 requests in flight per mailbox at most, whatever the batches sent at once', async () => {
    const t = targetOn(double);
    const before = double.stats().get(ANA)!;
    await Promise.all([
      t.deliverBatch(ANA, 'Inbox/Many', testMessages('many-a', 20)),
      t.deliverBatch(ANA, 'Inbox/Many', testMessages('many-b', 20)),
      t.deliverBatch(BO, 'Inbox/Many', testMessages('many-c', 20)),
    ]);
    await t.close();
    const after = double.stats().get(ANA)!;
    assert.equal(after.overLimit - before.overLimit, 0, 'never over a limit');
    assert.equal(after.throttled - before.throttled, 0, 'never throttled');
    assert.ok(after.maxInFlight <= 4 && after.maxInFlight >= 3, `in flight at most 4, and the 4 used (${after.maxInFlight})`);
    assert.equal(double.messages(ANA, 'Inbox/Many').length, 40);
  });

  it('Retry-After on one mailbox holds that mailbox only; the message is sent again after it, once', async () => {
    double.fail({ mailbox: CY, path: /importMime/, status: 429, retryAfterSeconds: 1 });
    const t = targetOn(double);
    const start = Date.now();
    let boDone = 0;
    let cyDone = 0;
    await Promise.all([
      t.deliverBatch(CY, 'Inbox/Wait', testMessages('wait-cy', 3)).then(() => (cyDone = Date.now() - start)),
      t.deliverBatch(BO, 'Inbox/Wait', testMessages('wait-bo', 3)).then(() => (boDone = Date.now() - start)),
    ]);
    await t.close();
    assert.ok(double.requestLog.some((e) => e.status === 429 && e.mailbox === CY), 'the 429 was answered');
    assert.ok(cyDone >= 1000, `cy waited the Retry-After (${cyDone} ms)`);
    assert.ok(boDone < cyDone, `bo was not held (${boDone} ms vs ${cyDone} ms)`);
    assert.equal(double.messages(CY, 'Inbox/Wait').length, 3);
  });

  it('a missing mailbox and one without a mailbox fail MAILBOX_NOT_FOUND, and the others are delivered', async () => {
    const t = targetOn(double);
    const [gone] = await t.deliverBatch('nobody@contoso.example', 'Inbox/XIP', [testMessage({ id: 'to-nobody' })]);
    const [room] = await t.deliverBatch(NOMAIL, 'Inbox/XIP', [testMessage({ id: 'to-room' })]);
    const [ok] = await t.deliverBatch(ANA, 'Inbox/XIP', [testMessage({ id: 'to-ana' })]);
    assert.deepEqual(await t.listExisting('nobody@contoso.example', 'Inbox/XIP'), new Map(), 'nothing to list there');
    await t.close();
    assert.ok(gone!.status === 'failed' && gone!.code === 'MAILBOX_NOT_FOUND' && /ErrorInvalidUser/.test(gone!.reason), JSON.stringify(gone));
    assert.ok(room!.status === 'failed' && room!.code === 'MAILBOX_NOT_FOUND' && /MailboxNotEnabledForRESTAPI/.test(room!.reason), JSON.stringify(room));
    assert.equal(ok!.status, 'delivered');
  });

  it('a message over what one request carries fails MESSAGE_TOO_LARGE with its size when no IMAP route is set; one over the mailbox limit too', async () => {
    const t = targetOn(double, { maxRequestBytes: 100_000 });
    const big = testMessage({ id: 'big', bodyBytes: 90_000 }); // 120,000 in base64
    const huge = testMessage({ id: 'huge', bodyBytes: 250_000 });
    const t2 = targetOn(double);
    const [o1] = await t.deliverBatch(ANA, 'Inbox/Big', [big]);
    const [o2] = await t2.deliverBatch(ANA, 'Inbox/Big', [huge]);
    await Promise.all([t.close(), t2.close()]);
    assert.ok(o1!.status === 'failed' && o1!.code === 'MESSAGE_TOO_LARGE' && o1!.reason.includes(String(big.size)) && /XIP_GRAPH_IMAP_URL/.test(o1!.reason), JSON.stringify(o1));
    assert.ok(o2!.status === 'failed' && o2!.code === 'MESSAGE_TOO_LARGE' && o2!.reason.includes(String(huge.size)) && /mailbox's limit/.test(o2!.reason), JSON.stringify(o2));
    assert.equal(double.messages(ANA, 'Inbox/Big').length, 0, 'nothing stored, nothing truncated');
  });

  it("a wrong secret is TARGET_AUTH_FAILED naming the identity platform's code, never the secret", async () => {
    const t = targetOn(double, { credential: { kind: 'secret', secret: 'wrong-secret-value' } });
    await assert.rejects(t.deliverBatch(ANA, 'Inbox/XIP', [testMessage({ id: 'no-auth' })]), (e: unknown) => {
      assert.ok(isDeliveryError(e) && e.code === 'TARGET_AUTH_FAILED', String(e));
      assert.match((e as Error).message, /7000215/);
      assert.ok(!(e as Error).message.includes('wrong-secret-value'));
      return true;
    });
    await t.close();
  });

  it("TLS is verified: without the double's CA nothing is sent", async () => {
    const t = targetOn(double, { http: {} });
    const before = double.requestLog.length;
    await assert.rejects(t.deliverBatch(ANA, 'Inbox/XIP', [testMessage({ id: 'no-tls' })]), (e: unknown) => isDeliveryError(e) && /certificate/i.test((e as Error).message));
    await t.close();
    assert.equal(double.requestLog.length, before, 'no request reached the double');
  });
});
