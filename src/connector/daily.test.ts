// A connector's run (daily.ts) over a real folder source, the file evidence
// store and the SQLite ledger; the target is the in-memory test double, for
// failures on demand. End to end through the CLI and real servers:
// test/connector*.test.ts.
import assert from 'node:assert/strict';
import { appendFile, copyFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { fileEvidenceStore } from '../evidence/store.js';
import { storeEngines, type EngineUnderTest } from '../ledger/test-support/engines.js';
import { createDirectory, mappingOptions } from '../mapping/index.js';
import { folderSource } from '../sources/folder.js';
import { buildContainer, tempDir, testIdentity } from '../xip/test-support/container.js';
import { summarize } from './connector-log.js';
import { runConnector, type ConnectorEvent, type ConnectorRunOptions } from './daily.js';
import type { Runner } from './lease.js';
import { InMemoryTarget } from './test-support/memory-target.js';

const ANA = 'ana@corp.example';
const BO = 'bo@corp.example';
const directory = createDirectory([
  { address: ANA, name: 'Ana', aliases: [], litigationHold: true },
  { address: BO, name: 'Bo', aliases: [], litigationHold: true },
]);
const chat = (id: string) => ({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: ANA }, participants: [{ email: BO, role: 'to' }], body: { text: `text of ${id}` } });
const ndjson = (ids: readonly string[]) => ids.map((i) => JSON.stringify(chat(i))).join('\n') + '\n';
const alive: Runner = { host: 'test-host', pid: process.pid, isAlive: () => true };

let dir: string;
let dayOne: string;
let dayTwo: string;
before(async () => {
  dir = await tempDir('xip-daily-');
  dayOne = await buildContainer(join(dir, 'one.bin'), { data: { 'items/1.ndjson': ndjson(['a', 'b', 'c']) } });
  dayTwo = await buildContainer(join(dir, 'two.bin'), { data: { 'items/2.ndjson': ndjson(['d', 'e']) } });
});
after(async () => rm(dir, { recursive: true, force: true }));

// The connector store (and the ledger) on each engine: every test below runs on SQLite and on PostgreSQL.
for (const engine of storeEngines()) suites(engine);

function suites(engine: EngineUnderTest): void {
  async function setup(name: string) {
    const root = join(dir, `${engine.name}-${name}`);
    const drop = join(root, 'drop');
    await import('node:fs/promises').then((fs) => fs.mkdir(drop, { recursive: true }));
    const state = await engine.fresh();
    const target = new InMemoryTarget();
    const events: ConnectorEvent[] = [];
    const base = (): ConnectorRunOptions => ({
      name: 'daily',
      trigger: 'manual',
      source: folderSource(drop),
      evidence: fileEvidenceStore(join(root, 'evidence')),
      store: state.connectors,
      ledger: state.ledger,
      target,
      verify: { trust: testIdentity().trust, stagingDir: join(root, 'staging') },
      mapping: mappingOptions({ directory }),
      folder: 'INBOX/XIP',
      connectorName: 'test',
      command: 'test',
      runner: alive,
      settleMs: 0,
      onEvent: (e) => events.push(e),
    });
    return { root, drop, state, target, events, base, close: () => state.dispose() };
  }

  describe(`a connector run (${engine.name})`, () => {
    it('fetches new files into the evidence store, imports them, and takes nothing twice; a quiet day is a run with nothing ingested', async () => {
      const s = await setup('basic');
      try {
        await copyFile(dayOne, join(s.drop, 'day-1.xip'));
        const first = await runConnector(s.base());
        assert.deepEqual(summarize(first), { itemsAvailableFromSource: 3, itemsAvailableForImport: 6, imported: 6, partiallyImported: 0, skippedDuplicates: 0, failed: 0 });
        const stored = await s.state.connectors.listEvidence();
        assert.equal(stored.length, 1);
        assert.equal(stored[0]!.firstName, 'day-1.xip');
        assert.equal(stored[0]!.doneRunId, first.runId, 'processed to a final verdict');
        assert.ok(s.events.some((e) => e.kind === 'fetched' && e.file === 'day-1.xip' && e.created));

        await copyFile(dayTwo, join(s.drop, 'day-2.xip'));
        s.events.length = 0;
        const second = await runConnector(s.base());
        assert.equal(second.containers.length, 1, 'only the new file');
        assert.equal(second.containers[0]!.file, 'day-2.xip');
        assert.equal(second.imported, 4);
        assert.ok(!s.events.some((e) => e.kind === 'fetched' && e.file === 'day-1.xip'), 'a file taken before is not fetched again');

        const quiet = await runConnector(s.base());
        assert.equal(quiet.containers.length, 0);
        assert.equal(quiet.itemsFromSource, 0);
        const runs = await s.state.connectors.listRuns('daily');
        assert.deepEqual(runs.map((r) => [r.trigger, r.ok]), [['manual', true], ['manual', true], ['manual', true]]);
      } finally {
        await s.close();
      }
    });

    it('the same bytes under another name are not processed again', async () => {
      const s = await setup('renamed');
      try {
        await copyFile(dayOne, join(s.drop, 'day-1.xip'));
        await runConnector(s.base());
        await copyFile(dayOne, join(s.drop, 'resent-under-another-name.xip'));
        s.events.length = 0;
        const again = await runConnector(s.base());
        assert.equal(again.containers.length, 0, 'not imported again');
        assert.ok(s.events.some((e) => e.kind === 'skipped-known' && e.file === 'resent-under-another-name.xip'));
        assert.equal(s.target.attempts.length, 6, 'no copy was sent again');
      } finally {
        await s.close();
      }
    });

    it('a file still being written (its size changes between the two listings) is left for the next run', async () => {
      const s = await setup('settling');
      try {
        await copyFile(dayOne, join(s.drop, 'growing.xip'));
        const log = await runConnector({ ...s.base(), settleMs: 1, sleep: async () => appendFile(join(s.drop, 'growing.xip'), 'more') });
        assert.equal(log.containers.length, 0, 'left alone');
        assert.ok(s.events.some((e) => e.kind === 'listed' && e.settling === 1 && e.files === 0));
        assert.equal((await s.state.connectors.listEvidence()).length, 0, 'not fetched');
        await copyFile(dayOne, join(s.drop, 'growing.xip'));
        const next = await runConnector(s.base());
        assert.equal(next.imported, 6, 'taken once it held still');
      } finally {
        await s.close();
      }
    });

    it('a truncated file is kept in the evidence store, rejected with its code, and the other files proceed', async () => {
      const s = await setup('tampered');
      try {
        const bytes = await import('node:fs/promises').then((fs) => fs.readFile(dayOne));
        await writeFile(join(s.drop, 'a-tampered.xip'), bytes.subarray(0, bytes.length - 200));
        await copyFile(dayTwo, join(s.drop, 'b-good.xip'));
        const log = await runConnector(s.base());
        const rejected = log.containers.find((c) => c.file === 'a-tampered.xip')!;
        assert.equal(rejected.ok, false);
        assert.equal(rejected.code, 'ZIP_MALFORMED');
        assert.equal(log.imported, 4, 'the good file was imported');
        const row = await s.state.connectors.getEvidence(rejected.sha256!);
        assert.deepEqual([row?.ok, row?.code], [false, 'ZIP_MALFORMED'], 'kept, with its verdict');
        assert.equal(await fileEvidenceStore(join(s.root, 'evidence')).check(rejected.sha256!), true, 'the stored copy is the file as received');
      } finally {
        await s.close();
      }
    });

    it('copies that failed leave their container open: the next run takes it up again from the evidence store and delivers only those', async () => {
      const s = await setup('retry');
      try {
        await copyFile(dayOne, join(s.drop, 'day-1.xip'));
        s.target.fate = (mailbox) => (mailbox === BO ? 'fail' : 'store');
        const first = await runConnector(s.base());
        assert.equal(first.imported, 3);
        assert.equal(first.failed, 3);
        const [row] = await s.state.connectors.listEvidence();
        assert.equal(row!.doneRunId, null, 'left open');
        await rm(join(s.drop, 'day-1.xip')); // the source no longer has it: the evidence store does
        s.target.fate = () => 'store';
        const second = await runConnector(s.base());
        assert.deepEqual([second.imported, second.skippedDuplicates, second.failed], [3, 3, 0]);
        assert.equal((await s.state.connectors.getEvidence(row!.sha256))!.doneRunId, second.runId);
        assert.deepEqual(s.target.copiesIn(BO, 'INBOX/XIP').length, 3);
      } finally {
        await s.close();
      }
    });

    it('a source that cannot be listed fails the run with its code, recorded; the next run tries again', async () => {
      const s = await setup('unreachable');
      try {
        await rm(s.drop, { recursive: true });
        await assert.rejects(runConnector(s.base()), (e: XipError) => e.code === 'SOURCE_NOT_FOUND');
        const [run] = await s.state.connectors.listRuns('daily');
        assert.deepEqual([run!.ok, run!.code], [false, 'SOURCE_NOT_FOUND']);
        await import('node:fs/promises').then((fs) => fs.mkdir(s.drop));
        await copyFile(dayOne, join(s.drop, 'day-1.xip'));
        assert.equal((await runConnector(s.base())).imported, 6);
      } finally {
        await s.close();
      }
    });

    it('one run per connector: a second start while the first holds the lease is CONNECTOR_BUSY; a dead holder of this host is taken over', async () => {
      const s = await setup('busy');
      try {
        const live = { token: 'other', host: alive.host, pid: 4242 };
        assert.deepEqual(await s.state.connectors.acquireLease('daily', live, 60_000, () => true), { acquired: true });
        await assert.rejects(runConnector(s.base()), (e: XipError) => e.code === 'CONNECTOR_BUSY' && /process 4242/.test(e.message));
        assert.equal((await s.state.connectors.listRuns('daily')).length, 0, 'a refused start is no run');
        // The holder's process is gone (same host): taken over at once.
        const log = await runConnector({ ...s.base(), runner: { ...alive, isAlive: (pid) => pid !== 4242 } });
        assert.equal(log.containers.length, 0);
        assert.deepEqual(await s.state.connectors.acquireLease('daily', live, 60_000, () => true), { acquired: true }, 'released at the end of the run');
      } finally {
        await s.close();
      }
    });
  });

  describe(`the evidence store and the source (${engine.name})`, () => {
    it('keeps every fetched file read-only under its sha256', async () => {
      const s = await setup('files');
      try {
        await copyFile(dayOne, join(s.drop, 'day-1.xip'));
        await runConnector(s.base());
        const [row] = await s.state.connectors.listEvidence();
        const fan = await readdir(join(s.root, 'evidence', 'sha256', row!.sha256.slice(0, 2)));
        assert.deepEqual(fan, [row!.sha256]);
      } finally {
        await s.close();
      }
    });
  });
}
