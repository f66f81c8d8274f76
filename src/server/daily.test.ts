// Items per day of a connector (GET /api/connectors/{name}/daily): runs
// recorded in the installation's SQLite ledger on chosen days, added up per
// UTC day of their start, every day of the range present, and only the runs
// of the range read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunLogJson } from '../connector/run-log.js';
import type { ConnectorStore } from '../ports/connector-store.js';
import { dailyFigures } from './daily.js';
import { startHarness, type Client, type Harness } from './test-support/harness.js';

let h: Harness;
let viewer: Client;

interface Day {
  day: string;
  imported: number;
  duplicates: number;
  failed: number;
  runs: number;
}

/** A finished run of the connector that started at `at`, with these figures (copies), as a run's log holds them. */
async function recordRun(connector: string, at: string, figures: { imported: number; duplicates: number; failed: number } | null): Promise<void> {
  const startedAt = new Date(at);
  const id = await h.state.ledger.startRun({ startedAt, command: 'test', host: 'test-host', pid: 1, leaseMs: 60_000, connector, trigger: 'schedule' });
  if (!figures) return; // never finished: a run without a log
  const copies = figures.imported + figures.duplicates + figures.failed;
  const log: RunLogJson = {
    containers: [],
    itemsFromSource: copies,
    itemsForImport: copies,
    imported: figures.imported,
    partiallyImported: 0,
    skippedDuplicates: figures.duplicates,
    inProgressElsewhere: 0,
    failed: figures.failed,
    failures: [],
    failuresOmitted: 0,
    unmapped: [],
    skippedNotOnHold: 0,
  };
  await h.state.ledger.finishRun(id, { finishedAt: new Date(startedAt.getTime() + 60_000), ok: figures.failed === 0, log });
}

const days = async (url: string) => {
  const r = await viewer.inject('GET', url);
  assert.equal(r.statusCode, 200, r.body);
  return (r.json() as { days: Day[] }).days;
};

describe('items per day', () => {
  before(async () => {
    h = await startHarness();
    const admin = await h.account('admin', 'connector-admin');
    viewer = await h.account('viewer', 'viewer');
    assert.equal((await admin.inject('POST', '/api/connectors', h.config('chat'))).statusCode, 201);
    assert.equal((await admin.inject('POST', '/api/connectors', h.config('quiet'))).statusCode, 201);
    // The clock of the server: 2026-12-01T09:00Z.
    await recordRun('chat', '2026-10-01T12:00:00Z', { imported: 1000, duplicates: 0, failed: 0 }); // long before any range asked below
    await recordRun('chat', '2026-11-29T23:59:59Z', { imported: 5, duplicates: 1, failed: 2 });
    await recordRun('chat', '2026-11-30T00:00:00Z', { imported: 7, duplicates: 0, failed: 0 });
    await recordRun('chat', '2026-11-30T13:00:00Z', { imported: 3, duplicates: 4, failed: 1 });
    await recordRun('chat', '2026-12-01T08:00:00Z', null);
    await recordRun('other', '2026-11-30T10:00:00Z', { imported: 50, duplicates: 0, failed: 0 });
  });
  after(async () => h.close());

  it('adds up each UTC day, oldest first, every day present with zeros; today included', async () => {
    assert.deepEqual(await days('/api/connectors/chat/daily?days=4'), [
      { day: '2026-11-28', imported: 0, duplicates: 0, failed: 0, runs: 0 },
      { day: '2026-11-29', imported: 5, duplicates: 1, failed: 2, runs: 1 },
      { day: '2026-11-30', imported: 10, duplicates: 4, failed: 1, runs: 2 },
      { day: '2026-12-01', imported: 0, duplicates: 0, failed: 0, runs: 1 },
    ]);
  });

  it('30 days by default, the last one today; 1 to 366 days', async () => {
    const month = await days('/api/connectors/chat/daily');
    assert.equal(month.length, 30);
    assert.equal(month[0]!.day, '2026-11-02');
    assert.equal(month.at(-1)!.day, '2026-12-01');
    assert.equal(month.reduce((n, d) => n + d.imported, 0), 15, 'the run of October is outside');
    assert.equal((await days('/api/connectors/chat/daily?days=366')).reduce((n, d) => n + d.imported, 0), 1015);
    assert.deepEqual(await days('/api/connectors/quiet/daily?days=1'), [{ day: '2026-12-01', imported: 0, duplicates: 0, failed: 0, runs: 0 }]);
    for (const bad of ['0', '367', 'x', '1.5']) {
      const r = await viewer.inject('GET', `/api/connectors/chat/daily?days=${bad}`);
      assert.equal(r.statusCode, 400, bad);
      assert.equal((r.json() as { code: string }).code, 'VALIDATION_FAILED');
    }
  });

  it('a connector that does not exist and never ran is 404; a removed one keeps its figures', async () => {
    const r = await viewer.inject('GET', '/api/connectors/nobody/daily');
    assert.equal(r.statusCode, 404);
    assert.equal((r.json() as { code: string }).code, 'CONNECTOR_NOT_FOUND');
    assert.equal((await days('/api/connectors/other/daily?days=2'))[0]!.imported, 50);
  });

  it('a real run counts on the day it started', async () => {
    // The run starts by the ledger's clock, the real one: the server's is set to it (and a session made at that time).
    h.clock.now = new Date();
    try {
      await h.runWith('quiet', ['a', 'b']);
      const r = await (await h.signIn('viewer')).inject('GET', '/api/connectors/quiet/daily?days=1');
      assert.deepEqual((r.json() as { days: Day[] }).days, [{ day: new Date().toISOString().slice(0, 10), imported: 4, duplicates: 0, failed: 0, runs: 1 }]);
    } finally {
      h.clock.now = new Date('2026-12-01T09:00:00Z');
    }
  });

  it('reads the runs of the range only, a page at a time, not every run ever', async () => {
    const pages: (number | undefined)[] = [];
    const store: ConnectorStore = Object.create(h.state.store) as ConnectorStore;
    store.listRuns = (connector, limit, before) => {
      pages.push(before);
      return h.state.store.listRuns(connector, limit, before);
    };
    const figures = await dailyFigures(store, 'chat', new Date('2026-12-01T09:00:00Z'), 2, 2);
    assert.deepEqual(figures.map((d) => [d.day, d.imported, d.runs]), [['2026-11-30', 10, 2], ['2026-12-01', 0, 1]]);
    assert.equal(pages.length, 2, 'two pages of two: the second reaches back before the range');
    const all = await dailyFigures(store, 'chat', new Date('2026-12-01T09:00:00Z'), 366, 2);
    assert.equal(all.reduce((n, d) => n + d.runs, 0), 5);
  });
});
