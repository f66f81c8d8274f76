// POST /api/wizard/delivery: the wizard's "Test delivery" — one message into
// one mailbox through the target a connector with this configuration would
// use: a real Maildir under the test's XIP_HOME, and a real Dovecot over
// IMAP (test/support/dovecot.ts) for the answers only a mail server gives
// (no such mailbox, a wrong password). Each attempt is audited, never with
// a secret.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { startDovecot, type Dovecot } from '../../test/support/dovecot.js';
import { ANA, BO, PASSWORD, startHarness, type Client, type Harness } from './test-support/harness.js';
import { TEST_SUBJECT } from './test-delivery.js';

let h: Harness;
let admin: Client;

interface Delivered {
  mailbox: string;
  folder: string;
  messageId: string;
  ref: string;
}

const json = <T>(r: { json(): unknown }) => r.json() as T;
const deliver = (body: unknown) => admin.inject('POST', '/api/wizard/delivery', body);
const audits = async () => (await h.accounts.listAudit({ limit: 100 })).filter((e) => e.action === 'wizard-test-delivery');

async function stored(mailbox: string, folderDir: string): Promise<string[]> {
  const cur = join(h.mail, mailbox, folderDir, 'cur');
  return Promise.all((await readdir(cur)).map((f) => readFile(join(cur, f), 'utf8')));
}

describe('the wizard’s test delivery', () => {
  before(async () => {
    h = await startHarness();
    admin = await h.account('admin', 'connector-admin');
  });
  after(async () => h.close());

  it('delivers one message into the mailbox’s folder of a Maildir, saying who asked and when; a second one is another message', async () => {
    const r = await deliver({ target: { to: `maildir:${h.mail}` }, mailbox: ANA });
    assert.equal(r.statusCode, 200, r.body);
    const first = json<Delivered>(r);
    assert.equal(first.mailbox, ANA);
    assert.equal(first.folder, 'Inbox/XIP', 'the connectors’ default folder');
    assert.match(first.messageId, /^<xip-test-[0-9a-f-]{36}@xip\.invalid>$/);
    assert.match(first.ref, /cur\//);
    const [text] = await stored(ANA, '.INBOX.XIP');
    const mail = await simpleParser(text!);
    assert.equal(mail.subject, TEST_SUBJECT);
    assert.deepEqual(mail.from?.value.map((a) => [a.name, a.address]), [['xip-connector', 'xip-connector@xip.invalid']]);
    assert.equal(mail.messageId, first.messageId);
    assert.equal(mail.date?.toISOString(), '2026-12-01T09:00:00.000Z', 'the server’s clock');
    assert.match(mail.text ?? '', /Asked for by: admin\nAt: 2026-12-01T09:00:00.000Z/);
    assert.ok(!text!.includes('\n') || text!.split('\n').slice(0, -1).every((l) => l.endsWith('\r')), 'CRLF lines');

    const second = json<Delivered>(await deliver({ target: { to: `maildir:${h.mail}` }, folder: 'Checks', mailbox: BO }));
    assert.notEqual(second.messageId, first.messageId);
    assert.equal(second.folder, 'Checks');
    assert.equal((await stored(BO, '.Checks')).length, 1);
  });

  it('is audited as wizard-test-delivery: the actor, the target’s address, mailbox, folder and outcome', async () => {
    const [entry] = await audits();
    assert.equal(entry!.actor, 'admin');
    assert.equal(entry!.target, `maildir:${h.mail}`);
    assert.deepEqual({ ...entry!.detail, messageId: undefined }, { mailbox: BO, folder: 'Checks', ok: true, messageId: undefined });
  });

  it('a copy the target does not take is the target’s code, with the status errors.ts maps, and audited as failed', async () => {
    const hidden = await deliver({ target: { to: `maildir:${h.mail}` }, mailbox: '.hidden@corp.example' });
    assert.equal(hidden.statusCode, 404, hidden.body);
    assert.equal(json<{ code: string }>(hidden).code, 'MAILBOX_NOT_FOUND');
    const folder = await deliver({ target: { to: `maildir:${h.mail}` }, folder: 'In.box', mailbox: ANA });
    assert.equal(folder.statusCode, 400);
    assert.equal(json<{ code: string }>(folder).code, 'FOLDER_INVALID');
    const file = join(h.dir, 'not-a-directory');
    await writeFile(file, 'x');
    const unwritable = await deliver({ target: { to: `maildir:${file}` }, mailbox: ANA });
    assert.equal(unwritable.statusCode, 502);
    assert.deepEqual(Object.keys(unwritable.json() as object), ['code', 'message']);
    assert.equal(json<{ code: string }>(unwritable).code, 'TARGET_UNAVAILABLE');
    assert.ok(!unwritable.body.includes(file), 'a 5xx shows the sentence only, not the server’s paths');
    assert.deepEqual(
      (await audits()).slice(0, 3).map((e) => [e.detail.ok, e.detail.code]),
      [
        [false, 'TARGET_UNAVAILABLE'],
        [false, 'FOLDER_INVALID'],
        [false, 'MAILBOX_NOT_FOUND'],
      ],
    );
  });

  it('a target that cannot be one is 400 CONFIG_INVALID, as POST /api/connectors says, and nothing is tried or audited', async () => {
    const before = (await audits()).length;
    for (const [body, code, text] of [
      [{ target: { to: 'maildir:relative/mail' }, mailbox: ANA }, 'CONFIG_INVALID', /target\.to: must be an absolute path/],
      [{ target: { to: 'imap://admin@mail.example:143' }, mailbox: ANA }, 'CONFIG_INVALID', /needs the administrative password/],
      [{ target: { to: 'smtp://mail.example' }, mailbox: ANA }, 'CONFIG_INVALID', /expected maildir:ROOT/],
      [{ target: { to: `maildir:${h.mail}` }, mailbox: 'not an address' }, 'VALIDATION_FAILED', /body\.mailbox/],
    ] as const) {
      const r = await deliver(body);
      assert.equal(r.statusCode, 400, r.body);
      assert.equal(json<{ code: string }>(r).code, code);
      assert.match(json<{ message: string }>(r).message, text);
    }
    assert.equal((await audits()).length, before);
  });

  it('connector-admin only, with the CSRF token', async () => {
    const viewer = await h.account('viewer', 'viewer');
    const body = { target: { to: `maildir:${h.mail}` }, mailbox: ANA };
    assert.equal((await viewer.inject('POST', '/api/wizard/delivery', body)).statusCode, 403);
    const noCsrf = await h.app.inject({ method: 'POST', url: '/api/wizard/delivery', headers: { cookie: `xip_session=${admin.cookie}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal((await stored(ANA, '.INBOX.XIP')).length, 1, 'nothing more delivered');
  });

  describe('over IMAP, into a real Dovecot', () => {
    let dovecot: Dovecot;
    const url = () => `imap://${dovecot.masterUser}@127.0.0.1:${dovecot.port}?starttls=never`;
    before(async () => {
      dovecot = await startDovecot({ users: [ANA] });
    });
    after(async () => dovecot?.stop());

    it('delivers into the mailbox (ref uidvalidity:uid); an unknown mailbox is 404 MAILBOX_NOT_FOUND; a wrong password 422 TARGET_AUTH_FAILED, never shown or audited', async () => {
      const ok = await deliver({ target: { to: url(), password: dovecot.masterPassword }, mailbox: ANA });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.match(json<Delivered>(ok).ref, /^\d+:\d+$/);
      const unknown = await deliver({ target: { to: url(), password: dovecot.masterPassword }, mailbox: 'nobody@corp.example' });
      assert.equal(unknown.statusCode, 404, unknown.body);
      assert.equal(json<{ code: string }>(unknown).code, 'MAILBOX_NOT_FOUND');
      const refused = await deliver({ target: { to: url(), password: PASSWORD }, mailbox: ANA });
      assert.equal(refused.statusCode, 422, refused.body);
      assert.equal(json<{ code: string }>(refused).code, 'TARGET_AUTH_FAILED');
      const trail = JSON.stringify(await audits());
      for (const secret of [dovecot.masterPassword, PASSWORD]) {
        assert.ok(!trail.includes(secret), 'no password in the audit trail');
        assert.ok(![ok, unknown, refused].some((r) => r.body.includes(secret)), 'nor in an answer');
        assert.ok(!h.logs.some((l) => l.includes(secret)), 'nor in the log');
      }
      assert.equal((await audits())[0]!.target, url(), 'the address, without its password');
    });
  });
});
