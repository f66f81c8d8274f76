// Scheduled runs across workers (issue 12): two schedulers, as two `xip
// serve` on one database (one SQLite file; one PostgreSQL database), each
// with its own XIP_HOME and worker id, running a real connector (a folder
// source, a signed container, a maildir target). Each scheduled run starts
// once across them, even when the second worker fires after the first one's
// run has ended; the next slot runs again; "Run now" and resumes claim no
// slot; a claim that fails does not cost the run.
import assert from 'node:assert/strict';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { checkConfig } from '../connector/config.js';
import type { LedgerState } from '../ledger/stores.js';
import { storeEngines, type EngineUnderTest, type FreshState } from '../ledger/test-support/engines.js';
import { buildContainer, tempDir, testIdentity } from '../xip/test-support/container.js';
import { sealConfig } from './connectors.js';
import { ensureHome, homeFrom } from './home.js';
import { Scheduler } from './scheduler.js';
import { openSecretBox } from './secrets.js';

const ANA = 'ana@corp.example';
const BO = 'bo@corp.example';
const ENV = { XIP_SECRET_KEY: 'ab'.repeat(32) };
/** The 02:00 slot of 2026-12-02, as worker A's cron fires it (a little late) and as B's does, 8 seconds later by its own clock. */
const FIRED_A = new Date('2026-12-02T02:00:00.140Z');
const FIRED_B = new Date('2026-12-02T02:00:08.020Z');
const DAY = 86_400_000;

let dir: string;
let container: string;
before(async () => {
  dir = await tempDir('xip-scheduler-');
  const chat = (id: string) => ({ id, type: 'chat.message', sentAt: '2026-12-01T14:00:00Z', from: { email: ANA }, participants: [{ email: BO, role: 'to' }], body: { text: `text of ${id}` } });
  container = join(dir, 'day.xip');
  await buildContainer(container, { data: { 'items/1.ndjson': ['a', 'b'].map((i) => JSON.stringify(chat(i))).join('\n') + '\n' } });
});
after(() => rm(dir, { recursive: true, force: true }));

interface Worker {
  readonly scheduler: Scheduler;
  /** What its logger wrote, one object a line. */
  readonly logs: Record<string, unknown>[];
  readonly state: LedgerState;
}

let n = 0;

/** One database with the connector "chat" (a container waiting in its source), and workers opening it as other processes would. */
async function installation(engine: EngineUnderTest) {
  const root = join(dir, `${engine.name}-${++n}`);
  const drop = join(root, 'drop');
  await mkdir(drop, { recursive: true });
  await copyFile(container, join(drop, 'day-1.xip'));
  const s: FreshState = await engine.fresh();
  const opened: LedgerState[] = [];
  const schedulers: Scheduler[] = [];
  const config = checkConfig({
    version: 1,
    name: 'chat',
    source: { kind: 'folder', path: drop },
    trust: [{ file: 'ca.pem', text: testIdentity().issued.caCertificatePem }],
    directory: { file: 'users.csv', text: `email,name,aliases,litigationHold\n${ANA},Ana,,true\n${BO},Bo,,false\n` },
    target: { to: `maildir:${join(root, 'mail')}` },
    settleSeconds: 0,
  });
  const worker = async (id: string, reloadMs = 3_600_000): Promise<Worker> => {
    const home = homeFrom({ XIP_HOME: join(root, id) });
    await ensureHome(home);
    const box = await openSecretBox(home.root, ENV);
    const state = await s.another();
    opened.push(state);
    if (!(await state.connectors.getConnector('chat'))) await state.connectors.addConnector('chat', sealConfig(config, box));
    const logs: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const scheduler = new Scheduler({ home, ledger: state.ledger, store: state.connectors, box }, { logger: pino({ level: 'info' }, sink), worker: id, reloadMs });
    schedulers.push(scheduler);
    return { scheduler, logs, state };
  };
  return {
    s,
    worker,
    runs: async () => (await s.connectors.listRuns('chat')).map((r) => ({ trigger: r.trigger, ok: r.ok })).reverse(),
    slots: () => s.rows<{ connector: string; scheduled_for: string; worker: string }>('select connector, scheduled_for, worker from scheduled_slots order by scheduled_for'),
    async close() {
      await Promise.all(schedulers.map((x) => x.stop()));
      await Promise.all(opened.map((o) => o.ledger.close()));
      await s.dispose();
    },
  };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

const skips = (w: Worker) => w.logs.filter((l) => l.event === 'skipped').map((l) => [l.code, l.level]);

for (const engine of storeEngines()) describe(`scheduled runs across workers (${engine.name})`, () => {
  it('a run whose worker died is resumed by a live worker at its next reload; while its lease is live it is left alone', async () => {
    const i = await installation(engine);
    try {
      const a = await i.worker('host-a-101-aaaaaaaa', 100);
      await a.scheduler.start();
      // Another worker's run of chat, renewed by nobody from here on: its worker died.
      await i.s.ledger.startRun({ startedAt: new Date(), command: 'xip connector run chat', host: 'host-z', pid: 9, leaseMs: 1_500, connector: 'chat', trigger: 'schedule' });
      await delay(700);
      assert.deepEqual(await i.runs(), [{ trigger: 'schedule', ok: null }], 'live: left to its worker');
      const deadline = Date.now() + 20_000;
      while (!(await i.runs()).some((r) => r.trigger === 'resume' && r.ok === true) && Date.now() < deadline) await delay(100);
      assert.deepEqual(await i.runs(), [
        { trigger: 'schedule', ok: null },
        { trigger: 'resume', ok: true },
      ]);
      assert.ok(!a.logs.some((l) => l.code === 'CONNECTOR_BUSY'), 'no CONNECTOR_BUSY while the run was live');
    } finally {
      await i.close();
    }
  });

  it('two workers firing the same slot, the second after the first run ended: one run; the second logs SLOT_TAKEN (info) and runs nothing', async () => {
    const i = await installation(engine);
    try {
      const [a, b] = [await i.worker('host-a-101-aaaaaaaa'), await i.worker('host-b-202-bbbbbbbb')];
      await a.scheduler.fireScheduled('chat', FIRED_A);
      assert.deepEqual(await i.runs(), [{ trigger: 'schedule', ok: true }]);
      await b.scheduler.fireScheduled('chat', FIRED_B);
      assert.deepEqual(await i.runs(), [{ trigger: 'schedule', ok: true }], 'one run of the slot across both workers');
      assert.deepEqual(skips(b), [['SLOT_TAKEN', 30]]);
      assert.ok(!b.logs.some((l) => l.event === 'run'), "B's log shows no run");
      assert.deepEqual(await i.slots(), [{ connector: 'chat', scheduled_for: '2026-12-02T02:00:00.000Z', worker: 'host-a-101-aaaaaaaa' }]);
    } finally {
      await i.close();
    }
  });

  it('both workers firing the same slot at once: one run, the other worker skips it', async () => {
    const i = await installation(engine);
    try {
      const [a, b] = [await i.worker('host-a-101-aaaaaaaa'), await i.worker('host-b-202-bbbbbbbb')];
      await Promise.all([a.scheduler.fireScheduled('chat', FIRED_A), b.scheduler.fireScheduled('chat', FIRED_B)]);
      assert.deepEqual(await i.runs(), [{ trigger: 'schedule', ok: true }]);
      assert.deepEqual([...skips(a), ...skips(b)], [['SLOT_TAKEN', 30]]);
    } finally {
      await i.close();
    }
  });

  it("a connector whose slot another worker claimed yesterday runs today's slot", async () => {
    const i = await installation(engine);
    try {
      const [a, b] = [await i.worker('host-a-101-aaaaaaaa'), await i.worker('host-b-202-bbbbbbbb')];
      await a.scheduler.fireScheduled('chat', FIRED_A);
      await b.scheduler.fireScheduled('chat', new Date(FIRED_B.getTime() + DAY));
      assert.deepEqual(await i.runs(), [{ trigger: 'schedule', ok: true }, { trigger: 'schedule', ok: true }]);
      assert.deepEqual(skips(b), []);
      assert.deepEqual((await i.slots()).map((r) => [r.scheduled_for, r.worker]), [
        ['2026-12-02T02:00:00.000Z', 'host-a-101-aaaaaaaa'],
        ['2026-12-03T02:00:00.000Z', 'host-b-202-bbbbbbbb'],
      ]);
    } finally {
      await i.close();
    }
  });

  it('"Run now" and the resume of an interrupted run claim no slot: they run after the scheduled run of the slot', async () => {
    const i = await installation(engine);
    try {
      const [a, b] = [await i.worker('host-a-101-aaaaaaaa'), await i.worker('host-b-202-bbbbbbbb')];
      await a.scheduler.fireScheduled('chat', FIRED_A);
      assert.equal(b.scheduler.runNow('chat'), true);
      await b.scheduler.stop(); // waits for the run
      // A run that died (never finished, its lease lapsed): the next worker to start resumes it.
      await i.s.ledger.startRun({ startedAt: new Date(), command: 'xip connector run chat', host: 'host-gone', pid: 1, leaseMs: 0, connector: 'chat', trigger: 'schedule' });
      const c = await i.worker('host-c-303-cccccccc');
      await c.scheduler.start();
      await c.scheduler.stop();
      const triggers = (await i.runs()).map((r) => r.trigger);
      assert.deepEqual(triggers, ['schedule', 'manual', 'schedule', 'resume']);
      assert.deepEqual([...skips(b), ...skips(c)], []);
      assert.deepEqual((await i.slots()).map((r) => r.worker), ['host-a-101-aaaaaaaa'], 'only the scheduled run claimed a slot');
    } finally {
      await i.close();
    }
  });

  it('a claim that fails (the slots table gone) is logged as an error and the scheduled run still runs', async () => {
    const i = await installation(engine);
    try {
      const a = await i.worker('host-a-101-aaaaaaaa');
      await i.s.exec('drop table scheduled_slots');
      await a.scheduler.fireScheduled('chat', FIRED_A);
      assert.deepEqual(await i.runs(), [{ trigger: 'schedule', ok: true }]);
      const failed = a.logs.filter((l) => l.event === 'slot');
      assert.deepEqual(failed.map((l) => [l.level, l.code, l.slot]), [[50, 'LEDGER_ERROR', '2026-12-02T02:00:00.000Z']]);
    } finally {
      await i.close();
    }
  });
});
