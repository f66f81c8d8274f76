// Claims under real contention: several Node processes on one SQLite ledger
// file (test-support/ledger-child.ts), claiming at the same time, and one of
// them killed with SIGKILL while it holds claims. Exactly once across
// concurrent runs rests on what this file checks: a copy is sent by one run
// only, and the claims of a dead run are taken over (recheck) only once its
// lease has ended.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Claim } from './port.js';
import { openSqliteLedger } from './sqlite.js';
import { rows, tempDir } from './test-support/ledgers.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAILBOX = 'ana@corp.example';
const FOLDER = 'Inbox/XIP';
const LEASE_MS = 600_000; // far longer than the test: only expireRun or an advanced clock ends it
const id = (n: number) => `<${n.toString(16).padStart(32, '0')}@xip.invalid>`;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => id(from + i));

type Answers = [string, Claim][];

/** A ledger-child in `serve` mode: one command out, one JSON line back, in order. */
class Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  runId = 0;

  /** `writer`: the index in WRITERS of the delivery writer the child's ledger uses. */
  constructor(path: string, writer: number) {
    this.process = spawn(process.execPath, ['--import', 'tsx', join(here, 'test-support', 'ledger-child.ts'), path, 'serve', String(writer)], { cwd: join(here, '../..') });
    this.#lines = createInterface({ input: this.process.stdout })[Symbol.asyncIterator]();
    let stderr = '';
    this.process.stderr.on('data', (d) => (stderr += d));
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(({ code }) => {
      if (code) process.stderr.write(`ledger-child exited with ${code}: ${stderr}\n`);
    });
  }

  send(command: object): void {
    this.process.stdin.write(`${JSON.stringify(command)}\n`);
  }

  async next<T>(): Promise<T> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error('the child ended before answering');
    return JSON.parse(value) as T;
  }

  async ask<T>(command: object): Promise<T> {
    this.send(command);
    return this.next<T>();
  }

  async start(): Promise<number> {
    this.runId = (await this.ask<{ runId: number }>({ op: 'start', leaseMs: LEASE_MS })).runId;
    return this.runId;
  }

  claim(ids: string[]): Promise<Answers> {
    return this.ask<Answers>({ op: 'claim', mailbox: MAILBOX, folder: FOLDER, ids });
  }

  async end(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.stdin.end();
    await this.exited;
  }
}

describe('claims by several processes on one SQLite ledger', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let children: Child[];

  beforeEach(async () => {
    tmp = tempDir();
    path = join(tmp.dir, 'ledger.db');
    await (await openSqliteLedger(path)).close(); // migrated once, before the children race to open it
    children = [];
  });
  afterEach(async () => {
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    tmp.remove();
  });

  const spawnChildren = async (n: number) => {
    // Even children through the SQLite adapter's prepared statements, odd ones through the portable statements.
    const started = Array.from({ length: n }, (_, k) => new Child(path, k % 2));
    children.push(...started);
    await Promise.all(started.map((c) => c.start()));
    return started;
  };

  it('gives every copy to exactly one of four processes claiming overlapping sets at the same time; the others are told busy, with the owner', async () => {
    const four = await spawnChildren(4);
    // Round r: process k claims 100 copies from r*100 + k*25, in an order of
    // its own, all four claims sent at once; neighbours share 75 copies.
    const answers = new Map<string, { run: number; claim: Claim }[]>();
    for (let r = 0; r < 10; r++) {
      const round = await Promise.all(
        four.map((c, k) => {
          const ids = range(r * 100 + k * 25, r * 100 + k * 25 + 100);
          return c.claim(k % 2 === 0 ? ids : ids.reverse());
        }),
      );
      round.forEach((list, k) => {
        for (const [messageId, claim] of list) {
          let seen = answers.get(messageId);
          if (!seen) answers.set(messageId, (seen = []));
          seen.push({ run: four[k]!.runId, claim });
        }
      });
    }
    await Promise.all(four.map((c) => c.end()));

    assert.equal(answers.size, 10 * 100 + 75, 'every copy of the union was answered');
    let contended = 0;
    for (const [messageId, seen] of answers) {
      const senders = seen.filter((s) => s.claim.verdict === 'send');
      assert.equal(senders.length, 1, `${messageId}: ${JSON.stringify(seen)}`);
      const owner = senders[0]!.run;
      for (const s of seen.filter((x) => x !== senders[0])) assert.deepEqual(s.claim, { verdict: 'busy', owner }, messageId);
      if (seen.length > 1) contended++;
    }
    // The windows cover copies 0 to 1,074; all but the first and the last 25
    // were asked for by two processes or more, within a round or across two.
    assert.equal(contended, answers.size - 50, 'copies asked for by more than one process');
    const refused = new Set([...answers.values()].flatMap((seen) => seen.filter((s) => s.claim.verdict === 'busy').map((s) => s.run)));
    assert.ok(refused.size >= 3, `processes refused a copy another held: ${[...refused]}`);

    // What the ledger holds agrees: each copy pending, held by its one sender, claimed once.
    const stored = rows<{ message_id: string; state: string; run_id: number; attempts: number }>(path, 'select message_id, state, run_id, attempts from deliveries');
    assert.equal(stored.length, answers.size);
    for (const r of stored) {
      const sender = answers.get(r.message_id)!.find((s) => s.claim.verdict === 'send')!.run;
      assert.deepEqual({ state: r.state, run: r.run_id, attempts: r.attempts }, { state: 'pending', run: sender, attempts: 1 }, r.message_id);
    }
  });

  const killWhileClaiming = async (victim: Child): Promise<Set<string>> => {
    // Batch after batch of 50; killed once three batches have been answered,
    // wherever it then is (between claims, or inside one: SQLite rolls that back).
    victim.send({ op: 'claim-loop', mailbox: MAILBOX, folder: FOLDER, batches: Array.from({ length: 40 }, (_, b) => range(b * 50, b * 50 + 50)) });
    const claimed = new Set<string>();
    for (let b = 0; b < 3; b++) for (const [messageId, claim] of await victim.next<Answers>()) if (claim.verdict === 'send') claimed.add(messageId);
    victim.process.kill('SIGKILL');
    assert.deepEqual(await victim.exited, { code: null, signal: 'SIGKILL' });
    const held = rows<{ n: number }>(path, "select count(*) n from deliveries where state = 'pending' and run_id = ?", victim.runId)[0]!.n;
    assert.ok(held >= claimed.size && held < 2000, `the killed process held its claims: ${held} pending, ${claimed.size} reported`);
    return claimed;
  };

  it('leaves the claims of a process killed with SIGKILL busy while its lease holds, and hands them over as recheck once expireRun ends it', async () => {
    const [victim, survivor] = await spawnChildren(2);
    const claimed = await killWhileClaiming(victim!);

    const before = new Map(await survivor!.claim([...claimed]));
    for (const messageId of claimed) assert.deepEqual(before.get(messageId), { verdict: 'busy', owner: victim!.runId }, 'a dead process keeps its claims until its lease ends');

    assert.equal(await survivor!.ask({ op: 'expire', runId: victim!.runId }), 'expired');
    const after = new Map(await survivor!.claim(range(0, 2000)));
    for (const messageId of claimed) assert.deepEqual(after.get(messageId), { verdict: 'recheck' }, messageId);
    const stored = rows<{ state: string; run_id: number; n: number }>(path, 'select state, run_id, count(*) n from deliveries group by state, run_id');
    assert.deepEqual(stored, [{ state: 'pending', run_id: survivor!.runId, n: 2000 }], 'every copy now held by the survivor, none lost or doubled');
    await survivor!.end();
  });

  it('hands the claims of a killed process over as recheck once its lease lapses by the ledger clock', async () => {
    const [victim, survivor] = await spawnChildren(2);
    const claimed = await killWhileClaiming(victim!);
    const one = [...claimed][0]!;
    assert.deepEqual(new Map(await survivor!.claim([one])).get(one), { verdict: 'busy', owner: victim!.runId });
    assert.equal(await survivor!.ask({ op: 'advance', ms: LEASE_MS }), 'advanced');
    const after = new Map(await survivor!.claim([...claimed]));
    for (const messageId of claimed) assert.deepEqual(after.get(messageId), { verdict: 'recheck' }, messageId);
    await survivor!.end();
  });
});
