// The audit trail, for auditors only, as JSON pages and as formula-safe CSV.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Client, type Harness } from '../test-support/harness.js';

let h: Harness;
let auditor: Client;
let admin: Client;

interface Page {
  entries: { seq: number; action: string; actor: string; target: string | null; address: string | null; detail: Record<string, unknown> }[];
  next: number | null;
}

describe('/api/audit', () => {
  before(async () => {
    h = await startHarness();
    admin = await h.account('admin', 'connector-admin');
    auditor = await h.account('auditor', 'auditor');
    // A failed sign-in under a name that is a spreadsheet formula.
    await h.app.inject({ method: 'POST', url: '/api/session', payload: { name: '=1+2', password: 'not a password at all' } });
    await admin.inject('POST', '/api/connectors/nobody/pause');
  });
  after(async () => h.close());

  it('pages through the trail newest first, filtered by actor or target', async () => {
    const all = (await auditor.inject('GET', '/api/audit')).json() as Page;
    assert.deepEqual(all.entries.map((e) => [e.action, e.actor, e.target]), [
      ['sign-in-failed', 'anonymous', '=1+2'],
      ['sign-in', 'auditor', 'auditor'],
      ['sign-in', 'admin', 'admin'],
    ]);
    assert.equal(all.entries[0]!.address, '127.0.0.1');
    const first = (await auditor.inject('GET', '/api/audit?limit=2')).json() as Page;
    assert.equal(first.entries.length, 2);
    const rest = (await auditor.inject('GET', `/api/audit?limit=2&before=${first.next}`)).json() as Page;
    assert.deepEqual(rest.entries.map((e) => e.actor), ['admin']);
    assert.equal(rest.next, null);
    const byActor = (await auditor.inject('GET', '/api/audit?actor=admin')).json() as Page;
    assert.deepEqual(byActor.entries.map((e) => e.action), ['sign-in']);
    assert.equal((await auditor.inject('GET', '/api/audit?limit=5000')).statusCode, 400);
  });

  it('exports the trail as CSV, a formula never run by a spreadsheet', async () => {
    const r = await auditor.inject('GET', '/api/audit.csv');
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(r.headers['content-disposition'], 'attachment; filename="audit.csv"');
    const lines = r.body.split('\r\n');
    assert.equal(lines[0], 'seq,at,actor,action,target,address,detail');
    assert.match(lines[1]!, /^3,[^,]+,anonymous,sign-in-failed,'=1\+2,127\.0\.0\.1,"\{""reason"":""unknown-account""\}"$/);
    assert.equal(lines.length, 5, 'three entries, a header and the final CRLF');
    const filtered = await auditor.inject('GET', '/api/audit.csv?actor=admin');
    assert.equal(filtered.body.split('\r\n').length, 3);
  });

  it('is for auditors only', async () => {
    for (const url of ['/api/audit', '/api/audit.csv']) {
      const r = await admin.inject('GET', url);
      assert.equal(r.statusCode, 403);
      assert.equal((r.json() as { code: string }).code, 'FORBIDDEN');
    }
  });
});
