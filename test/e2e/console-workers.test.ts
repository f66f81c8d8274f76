// The workers section of the connectors page, end to end: the shipped `xip
// serve` (with the console) and a second `xip serve --no-console` on the
// same installation, both beating every second (XIP_HEARTBEAT_SECONDS=1);
// a viewer signed in through the form sees both in the "Workers" table with
// their host and PID, alive and idle, the last heartbeat seconds ago; the
// second one killed (SIGKILL), its row says "not answering" at a later poll
// (every 15 s) without a reload. axe-core checks the page.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { describeViolations, seriousViolations, startChromium, type RunningChromium } from '../support/chromium.js';
import { addUser, heading, makeDrop, newContext, removeDir, rowsWhen, serve, shown, signIn, type Drop, type Row, type Serving } from './console-fixture.js';

const VIEWER = 'vera';
const FAST = { XIP_HEARTBEAT_SECONDS: '1' };

let d: Drop;
let server: Serving;
let worker: Serving;
let chromium: RunningChromium;
let context: BrowserContext;
let page: Page;

before(async () => {
  d = await makeDrop('xip-e2e-workers-');
  await addUser(d.home, VIEWER, 'viewer');
  server = await serve(d.home, { env: FAST });
  worker = await serve(d.home, { args: ['--no-console'], env: FAST });
  chromium = await startChromium();
  context = await newContext(chromium.browser, server.address);
  page = await context.newPage();
});

after(async () => {
  await context?.close().catch(() => undefined);
  await chromium?.stop();
  await worker?.stop();
  await server?.stop();
  await removeDir(d?.dir);
});

const byPid = (rows: Row[], pid: number) => rows.find((r) => r.PID === String(pid));

describe('console: the workers of the installation', () => {
  it('lists the running xip serve and a --no-console worker, alive, with host, PID, what each does and its last heartbeat; a killed worker becomes "not answering"', async () => {
    await signIn(page, VIEWER);
    await shown(heading(page, 'Workers', 2));
    const rows = await rowsWhen(page, 'Workers', (rs) => rs.length === 2);
    for (const pid of [server.pid, worker.pid]) {
      const row = byPid(rows, pid);
      assert.ok(row, `a row for PID ${pid}: ${JSON.stringify(rows)}`);
      assert.equal(row.Host, hostname());
      assert.equal(row.State, 'alive');
      assert.equal(row.Doing, 'idle');
      assert.match(row['Last heartbeat']!, /^\d+ s ago$/);
    }
    const violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `the connectors page with its workers: ${describeViolations(violations)}`);

    process.kill(worker.pid, 'SIGKILL');
    const later = await rowsWhen(page, 'Workers', (rs) => byPid(rs, worker.pid)?.State === 'not answering', 40_000);
    assert.equal(byPid(later, server.pid)?.State, 'alive', 'the server showing the page still beats');
  });
});
