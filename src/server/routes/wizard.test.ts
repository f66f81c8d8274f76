// /api/wizard: the add-connector wizard's checks on a local folder source —
// listing, verifying the newest container against the trust given, loading
// a directory and mapping — for connector-admin only, with CSRF, changing
// nothing.
import assert from 'node:assert/strict';
import { mkdir, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainer, testIdentity } from '../../xip/test-support/container.js';
import { ANA, BO, startHarness, type Client, type Harness } from '../test-support/harness.js';

let h: Harness;
let admin: Client;
let viewer: Client;
let folder: string;

const trust = () => [{ file: 'ca.pem', text: testIdentity().issued.caCertificatePem }];
const json = <T>(r: { json(): unknown }) => r.json() as T;
const directory = { file: 'users.csv', text: `email,name,aliases,litigationHold\n${ANA},Ana,,true\n${BO},Bo,,false\n` };
const data = { 'items/1.ndjson': '{"id":"a"}\n' };

async function drop(name: string, modified: string, spec: Parameters<typeof buildContainer>[1] = { data }): Promise<void> {
  const path = join(folder, name);
  await buildContainer(path, spec);
  await utimes(path, new Date(modified), new Date(modified));
}

describe('/api/wizard', () => {
  before(async () => {
    h = await startHarness();
    admin = await h.account('admin', 'connector-admin');
    viewer = await h.account('viewer', 'viewer');
    folder = join(h.dir, 'wizard-drop');
    await mkdir(folder);
  });
  after(async () => h.close());

  it('source: lists the folder, the newest first, with the total; an empty folder lists nothing', async () => {
    const empty = await admin.inject('POST', '/api/wizard/source', { source: { kind: 'folder', path: folder } });
    assert.equal(empty.statusCode, 200, empty.body);
    assert.deepEqual(empty.json(), { ok: true, files: [], total: 0 });
    await drop('day-1.xip', '2026-11-29T10:00:00Z');
    await drop('day-2.xip', '2026-11-30T10:00:00Z');
    const r = await admin.inject('POST', '/api/wizard/source', { source: { kind: 'folder', path: folder } });
    const answer = json<{ ok: true; files: { name: string; size: number; modified: string }[]; total: number }>(r);
    assert.equal(answer.ok, true);
    assert.equal(answer.total, 2);
    assert.deepEqual(answer.files.map((f) => [f.name, f.modified]), [
      ['day-2.xip', '2026-11-30T10:00:00.000Z'],
      ['day-1.xip', '2026-11-29T10:00:00.000Z'],
    ]);
    assert.ok(answer.files[0]!.size > 0);
  });

  it('source: a folder that is not there is a 200 answer with SOURCE_NOT_FOUND; a relative path and a bad source are 400', async () => {
    const r = await admin.inject('POST', '/api/wizard/source', { source: { kind: 'folder', path: join(h.dir, 'nowhere') } });
    assert.equal(r.statusCode, 200);
    const answer = json<{ ok: boolean; code: string; message: string }>(r);
    assert.equal(answer.ok, false);
    assert.equal(answer.code, 'SOURCE_NOT_FOUND');
    assert.match(answer.message, /nowhere/);
    const relative = await admin.inject('POST', '/api/wizard/source', { source: { kind: 'folder', path: 'drop' } });
    assert.equal(relative.statusCode, 400);
    assert.equal(json<{ code: string }>(relative).code, 'CONFIG_INVALID');
    const bad = await admin.inject('POST', '/api/wizard/source', { source: { kind: 'sftp', host: 'h', port: 70_000 } });
    assert.equal(bad.statusCode, 400);
    assert.equal(json<{ code: string }>(bad).code, 'VALIDATION_FAILED');
  });

  it('trust: verifies the newest container against the anchors given, names its signer, and leaves nothing in staging', async () => {
    const r = await admin.inject('POST', '/api/wizard/trust', { source: { kind: 'folder', path: folder }, trust: trust() });
    assert.equal(r.statusCode, 200, r.body);
    const answer = json<{ file: string; verified: boolean; signer: { subject: string; issuer: string; notAfter: string } }>(r);
    assert.equal(answer.file, 'day-2.xip');
    assert.equal(answer.verified, true);
    assert.match(answer.signer.subject, /Test signer default/);
    assert.match(answer.signer.issuer, /Test CA default/);
    assert.ok(!Number.isNaN(Date.parse(answer.signer.notAfter)));
    assert.deepEqual(await readdir(h.state.home.staging), []);
  });

  it('trust: a container signed by another CA, or altered after signing, is verified:false with its code', async () => {
    await drop('day-3.xip', '2026-12-01T08:00:00Z', { data, identity: testIdentity('stranger') });
    const stranger = json<{ file: string; verified: boolean; signer: null; code: string }>(await admin.inject('POST', '/api/wizard/trust', { source: { kind: 'folder', path: folder }, trust: trust() }));
    assert.deepEqual([stranger.file, stranger.verified, stranger.signer, stranger.code], ['day-3.xip', false, null, 'CERT_UNTRUSTED']);
    await drop('day-4.xip', '2026-12-01T09:00:00Z', { data, alterData: { 'items/1.ndjson': '{"id":"b"}\n' } });
    const tampered = json<{ file: string; verified: boolean; code: string; message: string }>(await admin.inject('POST', '/api/wizard/trust', { source: { kind: 'folder', path: folder }, trust: trust() }));
    assert.deepEqual([tampered.file, tampered.verified, tampered.code], ['day-4.xip', false, 'DIGEST_MISMATCH']);
    assert.ok(tampered.message.length > 0);
    assert.deepEqual(await readdir(h.state.home.staging), []);
  });

  it('trust: an empty source answers file:null; unreadable certificates are 400 TRUST_INVALID', async () => {
    const emptyFolder = join(h.dir, 'wizard-empty');
    await mkdir(emptyFolder);
    const empty = json<{ file: null; verified: boolean }>(await admin.inject('POST', '/api/wizard/trust', { source: { kind: 'folder', path: emptyFolder }, trust: trust() }));
    assert.equal(empty.file, null);
    assert.equal(empty.verified, false);
    const bad = await admin.inject('POST', '/api/wizard/trust', { source: { kind: 'folder', path: folder }, trust: [{ file: 'ca.pem', text: 'not a certificate' }] });
    assert.equal(bad.statusCode, 400);
    assert.equal(json<{ code: string }>(bad).code, 'TRUST_INVALID');
  });

  it('mapping: counts the rows; a bad row or directory is an answer naming the line; a Graph directory is 400', async () => {
    const ok = await admin.inject('POST', '/api/wizard/mapping', { directory, mapping: { file: 'mapping.csv', text: `sourceId,mailbox\nU1,${ANA}\nU2,${BO}\n` } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { ok: true, rows: 2 });
    const unknown = json<{ ok: boolean; code: string; message: string }>(await admin.inject('POST', '/api/wizard/mapping', { directory, mapping: { file: 'mapping.csv', text: `sourceId,mailbox\nU1,${ANA}\nU2,carol@corp.example\n` } }));
    assert.equal(unknown.ok, false);
    assert.equal(unknown.code, 'MAPPING_INVALID');
    assert.match(unknown.message, /mapping\.csv line 3/);
    const badDirectory = json<{ code: string; message: string }>(await admin.inject('POST', '/api/wizard/mapping', { directory: { file: 'users.csv', text: 'not,a,directory\n' }, mapping: { file: 'mapping.csv', text: 'sourceId,mailbox\n' } }));
    assert.equal(badDirectory.code, 'DIRECTORY_INVALID');
    const graph = await admin.inject('POST', '/api/wizard/mapping', { directory: { graph: 'graph://tenant.example' }, mapping: { file: 'mapping.csv', text: 'sourceId,mailbox\n' } });
    assert.equal(graph.statusCode, 400);
    assert.equal(json<{ code: string }>(graph).code, 'VALIDATION_FAILED');
    assert.match(json<{ message: string }>(graph).message, /Microsoft Graph/);
  });

  it('mapping template: a CSV attachment whose rows load against a directory of their mailboxes', async () => {
    const r = await admin.inject('GET', '/api/wizard/mapping-template.csv');
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/csv/);
    assert.match(String(r.headers['content-disposition']), /attachment; filename="mapping.csv"/);
    const lines = r.body.trim().split(/\r?\n/);
    assert.equal(lines[0], 'sourceId,mailbox');
    assert.equal(lines.length, 3);
    assert.deepEqual(json<{ ok: boolean }>(await admin.inject('POST', '/api/wizard/mapping', { directory, mapping: { file: 'mapping.csv', text: r.body } })), { ok: true, rows: 2 });
  });

  it('schedule: the next three runs after now, in the time zone given', async () => {
    // The server's clock: 2026-12-01T09:00Z.
    const utc = await admin.inject('POST', '/api/wizard/schedule', { schedule: '0 2 * * *', timezone: 'UTC' });
    assert.equal(utc.statusCode, 200, utc.body);
    assert.deepEqual(utc.json(), { nextRuns: ['2026-12-02T02:00:00.000Z', '2026-12-03T02:00:00.000Z', '2026-12-04T02:00:00.000Z'], timezone: 'UTC' });
    const paris = json<{ nextRuns: string[] }>(await admin.inject('POST', '/api/wizard/schedule', { schedule: '30 9 * * 1', timezone: 'Europe/Paris' }));
    assert.deepEqual(paris.nextRuns, ['2026-12-07T08:30:00.000Z', '2026-12-14T08:30:00.000Z', '2026-12-21T08:30:00.000Z'], 'Mondays 09:30 in Paris, UTC+1 in winter');
    const local = json<{ nextRuns: string[]; timezone: string }>(await admin.inject('POST', '/api/wizard/schedule', { schedule: '0 2 * * *' }));
    assert.equal(local.timezone, Intl.DateTimeFormat().resolvedOptions().timeZone, "the scheduler's zone: the server's");
    assert.equal(local.nextRuns.length, 3);
  });

  it('schedule: what POST /api/connectors refuses is 400 CONFIG_INVALID naming the field', async () => {
    for (const [body, field] of [
      [{ schedule: 'at dawn' }, /\(schedule "at dawn": /],
      [{ schedule: '' }, /\(schedule "": /],
      [{ schedule: '0 2 * * *', timezone: 'Mars/Olympus' }, /\(timezone "Mars\/Olympus": /],
    ] as const) {
      const r = await admin.inject('POST', '/api/wizard/schedule', body);
      assert.equal(r.statusCode, 400, r.body);
      const answer = json<{ code: string; message: string }>(r);
      assert.equal(answer.code, 'CONFIG_INVALID');
      assert.match(answer.message, field);
    }
    const config = await admin.inject('POST', '/api/connectors', h.config('dawn', { schedule: 'at dawn' }));
    assert.equal(json<{ code: string }>(config).code, 'CONFIG_INVALID', 'the same rule as a connector');
  });

  it('connector-admin only (403 for a viewer), CSRF required, and nothing audited', async () => {
    const source = { source: { kind: 'folder', path: folder } };
    for (const [method, url, body] of [
      ['POST', '/api/wizard/source', source],
      ['POST', '/api/wizard/trust', { ...source, trust: trust() }],
      ['POST', '/api/wizard/mapping', { directory, mapping: { file: 'm.csv', text: 'sourceId,mailbox\n' } }],
      ['POST', '/api/wizard/schedule', { schedule: '0 2 * * *' }],
      ['GET', '/api/wizard/mapping-template.csv', undefined],
    ] as const) {
      const r = await viewer.inject(method, url, body);
      assert.equal(r.statusCode, 403, url);
      assert.equal(json<{ code: string }>(r).code, 'FORBIDDEN');
      if (method === 'POST') {
        const noCsrf = await h.app.inject({ method, url, headers: { cookie: `xip_session=${admin.cookie}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        assert.equal(noCsrf.statusCode, 403, url);
        assert.equal(json<{ code: string }>(noCsrf).code, 'CSRF_INVALID');
      }
    }
    assert.deepEqual((await h.accounts.listAudit()).map((e) => e.action), ['sign-in', 'sign-in'], 'the sign-ins only');
  });
});
