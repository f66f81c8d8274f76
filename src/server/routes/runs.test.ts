// A connector's runs, one run, and its CSV log: the same file as
// `xip connector log --csv`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectorLogCsv } from '../../connector/connector-log.js';
import { asRunLog } from '../run-views.js';
import { startHarness, type Client, type Harness } from '../test-support/harness.js';

let h: Harness;
let auditor: Client;

interface RunItem {
  id: number;
  status: string;
  trigger: string;
  summary: { imported: number; failed: number } | null;
  containers: { verified: number; rejected: number } | null;
}

describe('runs', () => {
  before(async () => {
    h = await startHarness();
    const admin = await h.account('admin', 'connector-admin');
    auditor = await h.account('auditor', 'auditor');
    assert.equal((await admin.inject('POST', '/api/connectors', h.config('chat'))).statusCode, 201);
    await h.runWith('chat', ['a', 'b']);
    await h.runWith('chat', ['x'], 'stranger');
    await h.runWith('chat', ['c']);
  });
  after(async () => h.close());

  it('lists runs newest first, a page at a time', async () => {
    const all = (await auditor.inject('GET', '/api/connectors/chat/runs')).json() as { runs: RunItem[]; next: number | null };
    assert.deepEqual(
      all.runs.map((r) => [r.status, r.trigger, r.summary?.imported, r.containers?.rejected]),
      [
        ['succeeded', 'manual', 2, 0],
        ['completed-with-errors', 'manual', 0, 1],
        ['succeeded', 'manual', 4, 0],
      ],
    );
    assert.equal(all.next, null);
    const first = (await auditor.inject('GET', '/api/connectors/chat/runs?limit=2')).json() as { runs: RunItem[]; next: number };
    assert.equal(first.runs.length, 2);
    assert.equal(first.next, first.runs[1]!.id);
    const second = (await auditor.inject('GET', `/api/connectors/chat/runs?limit=2&before=${first.next}`)).json() as { runs: RunItem[]; next: number | null };
    assert.deepEqual(second.runs.map((r) => r.id), [all.runs[2]!.id]);
    assert.equal(second.next, null);
    assert.equal((await auditor.inject('GET', '/api/connectors/chat/runs?limit=0')).statusCode, 400);
    assert.equal((await auditor.inject('GET', '/api/connectors/nobody/runs')).statusCode, 404);
  });

  it('shows one run: figures, containers with their sha256 and verdict, failures', async () => {
    const [, rejected, first] = (await h.state.store.listRuns('chat')).map((r) => r.id);
    const run = (await auditor.inject('GET', `/api/runs/${first}`)).json() as { connector: string; summary: { imported: number }; containers: { file: string; sha256: string; ok: boolean; signer: string | null }[] };
    assert.equal(run.connector, 'chat');
    assert.equal(run.summary.imported, 4);
    assert.deepEqual(run.containers.map((c) => [c.file, c.ok, c.signer]), [['day-1.xip', true, 'CN=Test signer default, O=xip tests']]);
    assert.match(run.containers[0]!.sha256, /^[0-9a-f]{64}$/);
    const bad = (await auditor.inject('GET', `/api/runs/${rejected}`)).json() as { ok: boolean; containers: { ok: boolean; code: string; signer: string | null }[] };
    assert.equal(bad.ok, false);
    assert.deepEqual(bad.containers.map((c) => [c.ok, c.code, c.signer]), [[false, 'CERT_UNTRUSTED', null]], 'an untrusted signer is not named as the signer');
    assert.equal((await auditor.inject('GET', '/api/runs/999999')).statusCode, 404);
    assert.equal((await auditor.inject('GET', '/api/runs/abc')).statusCode, 400);
  });

  it('downloads the log as CSV: an attachment whose rows are connectorLogCsv’s', async () => {
    for (const run of await h.state.store.listRuns('chat')) {
      const r = await auditor.inject('GET', `/api/runs/${run.id}/log.csv`);
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(r.headers['content-disposition'], `attachment; filename="chat-run-${run.id}.csv"`);
      const expected = connectorLogCsv([{ run: asRunLog(run), failures: await h.state.ledger.getFailures(run.id) }]);
      assert.equal(r.body, expected);
      assert.match(r.body, /^runId,completedAt,record,name,value,itemId,sourceUserId,mailbox,file,sha256,code,reason\r\n/);
    }
  });

  it('a removed connector\'s runs are still listed by name and found by id', async () => {
    const admin = await h.account('admin2', 'connector-admin');
    assert.equal((await admin.inject('POST', '/api/connectors', h.config('gone'))).statusCode, 201);
    await h.runWith('gone', ['g']);
    const [run] = await h.state.store.listRuns('gone', 1);
    await h.state.store.removeConnector('gone');
    const one = await auditor.inject('GET', `/api/runs/${run!.id}`);
    assert.equal(one.statusCode, 200, one.body);
    assert.equal((one.json() as { connector: string }).connector, 'gone');
    const list = await auditor.inject('GET', '/api/connectors/gone/runs');
    assert.equal(list.statusCode, 200);
    assert.deepEqual((list.json() as { runs: { id: number }[] }).runs.map((r) => r.id), [run!.id]);
  });
});
