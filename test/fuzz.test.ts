// The fuzzing targets, run briefly (fixed seeds, a few hundred to a few
// thousand executions each): no crash other than the module's coded errors,
// no hang, no escape from the extraction sandbox, memory bounded. The long
// runs are `npm run fuzz` (docs/operations.md). The harness itself is tested
// against a target with planted faults, so that a clean run means something.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { superviseTarget, type SuperviseOptions } from '../fuzz/supervisor.js';

const PLANTED = new URL('../fuzz/testing/planted.ts', import.meta.url).href;
let findings: string;
before(async () => {
  findings = await mkdtemp(join(tmpdir(), 'xip-fuzz-findings-'));
});
after(async () => {
  await rm(findings, { recursive: true, force: true });
});

/** Budgets generous enough for a loaded 2-core machine running the other test files at once. */
const base = (): Omit<SuperviseOptions, 'target' | 'seed'> => ({ findingsDir: findings, hangMs: 10_000, heapMb: 512, rssBytes: 1536 * 2 ** 20, shrink: false });

function describeFindings(r: Awaited<ReturnType<typeof superviseTarget>>): string {
  return r.findings.map((f) => `${f.name}: ${f.message}\n${f.stack}\nsaved ${f.file}`).join('\n\n');
}

// Seeds fixed so that today's runs pass; a failure names the saved input and how to replay it.
const BRIEF: readonly { target: string; seed: number; runs: number }[] = [
  { target: 'manifest', seed: 20261201, runs: 1500 },
  { target: 'csv', seed: 20261201, runs: 800 },
  { target: 'items', seed: 20261201, runs: 500 },
  { target: 'container', seed: 20261201, runs: 250 },
  { target: 'signed', seed: 20261201, runs: 60 },
];

describe('fuzzing targets, brief runs', () => {
  for (const { target, seed, runs } of BRIEF) {
    it(`${target}: ${runs} executions from seed ${seed} with no crash, hang or escape`, async () => {
      const r = await superviseTarget({ ...base(), target, seed, runs });
      assert.equal(r.findings.length, 0, describeFindings(r));
      assert.equal(r.executions, runs);
    });
  }
});

describe('fuzzing harness, against planted faults', () => {
  it('finds a planted crash by mutating a seed, saves it named after the target and the failure, and the file replays', async () => {
    const r = await superviseTarget({ ...base(), targetModule: PLANTED, target: 'planted', seed: 7, runs: 2000 });
    assert.equal(r.findings.length, 1, 'one finding, the first failing input (no shrinking)');
    const [f] = r.findings;
    assert.equal(f!.name, 'TypeError');
    assert.match(basename(f!.file), /^planted-TypeError-[0-9a-f]{12}\.bin$/);
    assert.ok(readFileSync(f!.file).includes('CRASH'));
    assert.match(readFileSync(f!.file.replace(/\.bin$/, '.txt'), 'utf8'), /npm run fuzz -- --replay [\s\S]*planted crash/);
    const replay = await superviseTarget({ ...base(), targetModule: PLANTED, target: 'planted', seed: 0, replay: readFileSync(f!.file), findingsDir: join(findings, 'replays') });
    assert.deepEqual(replay.findings.map((x) => x.name), ['TypeError']);
  });

  it('shrinks a failing input to a smaller one and saves both', async () => {
    const r = await superviseTarget({ ...base(), targetModule: PLANTED, target: 'planted', seed: 7, runs: 2000, shrink: true, findingsDir: join(findings, 'shrink') });
    const [first, shrunk] = r.findings;
    assert.equal(shrunk?.stage, 'shrunk');
    assert.ok(shrunk!.input.length <= first!.input.length);
    assert.ok(shrunk!.input.includes('CRASH'));
    assert.match(basename(shrunk!.file), /^planted-TypeError-min-/);
  });

  it('reports a property violation (an escape) under its kind', async () => {
    const r = await superviseTarget({ ...base(), targetModule: PLANTED, target: 'planted', seed: 0, replay: Buffer.from('ESCAPE') });
    assert.deepEqual(r.findings.map((f) => f.name), ['violation-escape']);
  });

  it('stops a hanging execution after its time budget and names the input', async () => {
    const t0 = Date.now();
    const r = await superviseTarget({ ...base(), hangMs: 300, targetModule: PLANTED, target: 'planted', seed: 0, replay: Buffer.from('xx HANG xx') });
    assert.deepEqual(r.findings.map((f) => f.name), ['hang']);
    assert.equal(r.findings[0]!.input.toString(), 'xx HANG xx');
    assert.ok(Date.now() - t0 < 30_000);
  });

  it('survives a worker that exhausts its heap and names the input as a memory finding', async () => {
    const r = await superviseTarget({ ...base(), heapMb: 64, targetModule: PLANTED, target: 'planted', seed: 0, replay: Buffer.from('LEAK') });
    assert.deepEqual(r.findings.map((f) => [f.name, f.input.toString()]), [['memory', 'LEAK']]);
  });

  it('passes a clean input on replay and leaves no finding file', async () => {
    const dir = join(findings, 'clean');
    const r = await superviseTarget({ ...base(), targetModule: PLANTED, target: 'planted', seed: 0, replay: Buffer.from('fine'), findingsDir: dir });
    assert.equal(r.findings.length, 0);
    assert.equal(r.outcome, 'even');
    assert.ok(!existsSync(dir) || (await readdir(dir)).length === 0);
  });
});
