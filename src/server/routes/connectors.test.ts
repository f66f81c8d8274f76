// /api/connectors: what a connector-admin does and every role reads; secrets
// sealed in, never out; every change audited.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openConfig } from '../../home/connectors.js';
import { startHarness, type Client, type Harness } from '../test-support/harness.js';

const SFTP_PASSWORD = 'Sftp-Secret-Value-918273';
const HOST_KEY = `SHA256:${'A'.repeat(43)}`;

let h: Harness;
let admin: Client;
let viewer: Client;

const sftp = (extra: Record<string, unknown> = {}) => ({ kind: 'sftp', host: 'sftp.partner.example', port: 22, username: 'export', path: '/out', hostKey: HOST_KEY, password: SFTP_PASSWORD, ...extra });
const json = <T>(r: { json(): unknown }) => r.json() as T;

async function trail(): Promise<[string, string, string | null][]> {
  return (await h.accounts.listAudit()).map((e) => [e.action, e.actor, e.target]);
}

describe('/api/connectors', () => {
  before(async () => {
    h = await startHarness();
    admin = await h.account('admin', 'connector-admin');
    viewer = await h.account('viewer', 'viewer');
  });
  after(async () => h.close());

  it('creates a connector: checked as the CLI checks it, secrets sealed before they are stored and shown as "(set)"', async () => {
    const r = await admin.inject('POST', '/api/connectors', h.config('partner', { source: sftp() as never }));
    assert.equal(r.statusCode, 201, r.body);
    assert.ok(!r.body.includes(SFTP_PASSWORD));
    const created = json<{ name: string; source: string; config: { source: { password: string } }; status: string }>(r);
    assert.equal(created.source, 'sftp://export@sftp.partner.example:22/out');
    assert.equal(created.config.source.password, '(set)');
    assert.equal(created.status, 'healthy');
    const row = await h.state.store.getConnector('partner');
    assert.ok(!row!.config.includes(SFTP_PASSWORD), 'sealed in the store');
    assert.equal((openConfig(row!.config, h.state.box).source as { password: string }).password, SFTP_PASSWORD);
    assert.deepEqual((await trail())[0], ['connector-created', 'admin', 'partner']);
  });

  it('refuses a taken name (409), a bad configuration (400, naming the field), a relative path and a bad schedule', async () => {
    const taken = await admin.inject('POST', '/api/connectors', h.config('partner'));
    assert.equal(taken.statusCode, 409);
    assert.equal(json<{ code: string }>(taken).code, 'CONNECTOR_EXISTS');
    const noTrust = await admin.inject('POST', '/api/connectors', h.config('x', { trust: [] }));
    assert.equal(noTrust.statusCode, 400);
    assert.deepEqual(json<{ issues: { path: string }[] }>(noTrust).issues.map((i) => i.path), ['body.trust']);
    const relative = await admin.inject('POST', '/api/connectors', h.config('x', { source: { kind: 'folder', path: 'drop' } }));
    assert.equal(relative.statusCode, 400);
    assert.match(json<{ message: string }>(relative).message, /^The connector configuration breaks a rule.*source\.path: must be an absolute path/);
    const cron = await admin.inject('POST', '/api/connectors', h.config('x', { schedule: 'every day' }));
    assert.equal(json<{ code: string }>(cron).code, 'CONFIG_INVALID');
    const zone = await admin.inject('POST', '/api/connectors', h.config('x', { timezone: 'Mars/Olympus' }));
    assert.equal(zone.statusCode, 400);
    assert.match(json<{ message: string }>(zone).message, /timezone: must be a time zone of the IANA database/);
    const directory = await admin.inject('POST', '/api/connectors', h.config('x', { directory: { file: 'u.csv', text: 'not,a,directory\n' } }));
    assert.equal(json<{ code: string }>(directory).code, 'DIRECTORY_INVALID');
    assert.equal(await h.state.store.getConnector('x'), undefined);
  });

  it('edits: a secret omitted or sent back as "(set)" is kept while the server is the same, and must be given again for another server', async () => {
    const shown = json<{ config: Record<string, unknown> }>(await admin.inject('GET', '/api/connectors/partner')).config;
    const roundTrip = await admin.inject('PUT', '/api/connectors/partner', { ...shown, folder: 'Archive/Partner' });
    assert.equal(roundTrip.statusCode, 200, roundTrip.body);
    let stored = openConfig((await h.state.store.getConnector('partner'))!.config, h.state.box);
    assert.equal((stored.source as { password: string }).password, SFTP_PASSWORD, '"(set)" kept the password');
    assert.equal(stored.folder, 'Archive/Partner');

    const { password: _omitted, ...noPassword } = sftp({ path: '/other' });
    assert.equal((await admin.inject('PUT', '/api/connectors/partner', h.config('partner', { source: noPassword as never }))).statusCode, 200);
    stored = openConfig((await h.state.store.getConnector('partner'))!.config, h.state.box);
    assert.equal((stored.source as { password: string }).password, SFTP_PASSWORD, 'omitted: kept');

    const elsewhere = await admin.inject('PUT', '/api/connectors/partner', h.config('partner', { source: { ...noPassword, host: 'attacker.example' } as never }));
    assert.equal(elsewhere.statusCode, 400, 'another host must be given its own password');
    assert.match(json<{ message: string }>(elsewhere).message, /source\.password/);
    const renamed = await admin.inject('PUT', '/api/connectors/partner', h.config('other'));
    assert.equal(renamed.statusCode, 400);
    assert.equal((await admin.inject('PUT', '/api/connectors/nobody', h.config('nobody'))).statusCode, 404);
    const edits = (await h.accounts.listAudit({ target: 'partner' })).filter((e) => e.action === 'connector-edited');
    assert.equal(edits.length, 2);
    assert.deepEqual(edits[1]!.detail, { fields: ['folder'] });
    assert.ok(!JSON.stringify(edits).includes(SFTP_PASSWORD));
  });

  it('runs now (202, runNow called with the actor), refuses a paused connector (409), pauses and resumes', async () => {
    const run = await admin.inject('POST', '/api/connectors/partner/run');
    assert.equal(run.statusCode, 202);
    assert.deepEqual(run.json(), { name: 'partner', started: true, runId: 4242 });
    assert.deepEqual(h.runNowCalls, [{ name: 'partner', actor: 'admin' }]);
    const paused = await admin.inject('POST', '/api/connectors/partner/pause');
    assert.deepEqual(paused.json(), { name: 'partner', paused: true });
    assert.equal((await h.state.store.getConnector('partner'))!.paused, true);
    assert.equal(json<{ connectors: { status: string }[] }>(await viewer.inject('GET', '/api/connectors')).connectors[0]!.status, 'paused');
    const refused = await admin.inject('POST', '/api/connectors/partner/run');
    assert.equal(refused.statusCode, 409);
    assert.equal(json<{ code: string }>(refused).code, 'CONNECTOR_PAUSED');
    assert.equal(h.runNowCalls.length, 1);
    assert.deepEqual((await admin.inject('POST', '/api/connectors/partner/resume')).json(), { name: 'partner', paused: false });
    assert.equal((await admin.inject('POST', '/api/connectors/nobody/pause')).statusCode, 404);
    assert.deepEqual((await trail()).slice(0, 3), [
      ['connector-resumed', 'admin', 'partner'],
      ['connector-paused', 'admin', 'partner'],
      ['connector-run', 'admin', 'partner'],
    ]);
  });

  it('lists connectors with their status, last run and totals: healthy, then failing after a rejected container', async () => {
    assert.equal((await admin.inject('POST', '/api/connectors', h.config('chat'))).statusCode, 201);
    await h.runWith('chat', ['a', 'b']);
    type Item = { name: string; status: string; lastRun: { ok: boolean; imported: number } | null; itemsImportedTotal: number; failuresLastRun: number | null; target: string; schedule: string };
    let chat = json<{ connectors: Item[] }>(await viewer.inject('GET', '/api/connectors')).connectors.find((c) => c.name === 'chat')!;
    assert.equal(chat.status, 'healthy');
    assert.deepEqual([chat.lastRun?.ok, chat.lastRun?.imported, chat.itemsImportedTotal, chat.failuresLastRun], [true, 4, 4, 0]);
    assert.equal(chat.target, `maildir:${h.mail}`);
    assert.equal(chat.schedule, '0 2 * * *');
    assert.equal((await admin.inject('POST', '/api/connectors', h.config('paris', { timezone: 'Europe/Paris' }))).statusCode, 201);
    const paris = json<{ connectors: (Item & { timezone: string; nextRun: string })[] }>(await viewer.inject('GET', '/api/connectors')).connectors.find((c) => c.name === 'paris')!;
    assert.equal(paris.timezone, 'Europe/Paris');
    assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(paris.nextRun)), '02:00');
    await h.runWith('chat', ['c'], 'stranger');
    chat = json<{ connectors: Item[] }>(await viewer.inject('GET', '/api/connectors')).connectors.find((c) => c.name === 'chat')!;
    assert.equal(chat.status, 'failing');
    assert.deepEqual([chat.lastRun?.ok, chat.itemsImportedTotal, chat.failuresLastRun], [false, 4, 1]);
  });

  it('removes a connector only when the body repeats its name; its runs stay', async () => {
    const wrong = await admin.inject('DELETE', '/api/connectors/chat', { confirm: 'chat2' });
    assert.equal(wrong.statusCode, 400);
    assert.equal(json<{ code: string }>(wrong).code, 'VALIDATION_FAILED');
    assert.equal((await admin.inject('DELETE', '/api/connectors/chat', {})).statusCode, 400);
    assert.ok(await h.state.store.getConnector('chat'));
    assert.equal((await admin.inject('DELETE', '/api/connectors/chat', { confirm: 'chat' })).statusCode, 204);
    assert.equal(await h.state.store.getConnector('chat'), undefined);
    assert.equal((await admin.inject('GET', '/api/connectors/chat')).statusCode, 404);
    assert.equal(json<{ runs: unknown[] }>(await viewer.inject('GET', '/api/connectors/chat/runs')).runs.length, 2, 'its runs are still listed by name');
    assert.deepEqual((await trail())[0], ['connector-removed', 'admin', 'chat']);
  });

  it('a viewer reads but changes nothing: 403 FORBIDDEN', async () => {
    assert.equal((await viewer.inject('GET', '/api/connectors/partner')).statusCode, 200);
    const r = await viewer.inject('POST', '/api/connectors/partner/pause');
    assert.equal(r.statusCode, 403);
    assert.equal(json<{ code: string }>(r).code, 'FORBIDDEN');
    assert.equal((await h.state.store.getConnector('partner'))!.paused, false);
  });
});
