// npm run fuzz -- [--target NAME|all] [--seconds N] [--runs N] [--seed N]
//                 [--hang-ms N] [--heap-mb N] [--rss-mb N] [--findings DIR] [--no-shrink]
// npm run fuzz -- --replay FILE [--target NAME]
//
// Fuzzes each target in turn for --seconds (default: $XIP_FUZZ_SECONDS, else
// 60), prints executions per second as it goes and a summary line per target
// (with its longest run of executions without a finding), and stops by
// itself; after a finding the target goes on from the next seed. Exit status
// 1 when anything was found. A replay runs one saved input (the target is the
// file name's first word) and exits 1 if it still fails.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './seeds.js';
import { superviseTarget, type Finding, type SuperviseResult } from './supervisor.js';
import { TARGETS } from './targets/index.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'all' },
    seconds: { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    'hang-ms': { type: 'string', default: '10000' },
    'heap-mb': { type: 'string', default: '1024' },
    'rss-mb': { type: 'string', default: '2048' },
    findings: { type: 'string', default: join(ROOT, 'fuzz', 'findings') },
    'no-shrink': { type: 'boolean', default: false },
    replay: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

function num(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a non-negative number, got ${text}`);
    process.exit(2);
  }
  return n;
}

if (values.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}

const common = {
  hangMs: num('hang-ms', values['hang-ms'])!,
  heapMb: num('heap-mb', values['heap-mb'])!,
  rssBytes: num('rss-mb', values['rss-mb'])! * 2 ** 20,
  findingsDir: values.findings,
  shrink: !values['no-shrink'],
};

function printFindings(r: SuperviseResult): void {
  for (const f of r.findings) console.log(`  ${f.stage === 'shrunk' ? 'shrunk to' : 'FOUND'} ${f.name}: ${f.message.split('\n')[0]!.slice(0, 300)}\n    saved ${f.file}`);
}

if (values.replay !== undefined) {
  const file = values.replay;
  const target = values.target !== 'all' ? values.target : basename(file).split('-')[0]!;
  if (!(target in TARGETS)) {
    console.error(`cannot tell the target of ${file}: name it with --target (${Object.keys(TARGETS).join(', ')})`);
    process.exit(2);
  }
  const r = await superviseTarget({ ...common, target, seed: 0, replay: readFileSync(file), findingsDir: join(common.findingsDir, 'replays') });
  if (r.findings.length === 0) {
    console.log(`${target}: ${file} passes now (outcome ${r.outcome ?? '?'})`);
  } else {
    for (const f of r.findings) console.log(`${target}: ${f.name}\n${f.message}\n${f.stack}`);
  }
  process.exit(r.findings.length === 0 ? 0 : 1);
}

const names = values.target === 'all' ? Object.keys(TARGETS) : values.target.split(',');
for (const n of names) {
  if (!(n in TARGETS)) {
    console.error(`no target "${n}"; targets: ${Object.keys(TARGETS).join(', ')}, all`);
    process.exit(2);
  }
}
const runs = num('runs', values.runs);
const seconds = num('seconds', values.seconds ?? process.env.XIP_FUZZ_SECONDS) ?? (runs === undefined ? 60 : undefined);
/** A target stops once it has this many findings (a fault found over and over adds nothing). */
const MAX_FINDINGS = 10;
const baseSeed = num('seed', values.seed) ?? Math.floor(Math.random() * 2 ** 31);
let found = 0;
for (const [i, target] of names.entries()) {
  console.log(`${target}: ${TARGETS[target]!.description}`);
  // After a finding the target starts again from the next seed, until the budget is spent: a long unattended run
  // reports every fault it meets, and its longest clean stretch, rather than stopping at the first.
  let executions = 0;
  let spent = 0;
  let longestClean = 0;
  const findings: Finding[] = [];
  for (let restart = 0; ; restart++) {
    const seed = (baseSeed + i * 1000 + restart) | 0;
    const left = seconds === undefined ? undefined : seconds - spent;
    const runsLeft = runs === undefined ? undefined : runs - executions;
    if ((left !== undefined && left < 1) || (runsLeft !== undefined && runsLeft <= 0) || findings.length >= MAX_FINDINGS) break;
    console.log(`${target}: seed ${seed}${left === undefined ? '' : `, ${left.toFixed(0)} s`}${runsLeft === undefined ? '' : `, ${runsLeft} runs`}, hang budget ${common.hangMs} ms`);
    const r = await superviseTarget({
      ...common,
      target,
      seed,
      runs: runsLeft,
      seconds: left,
      onProgress: (p) => console.log(`${target}: ${executions + p.executions} execs in ${(spent + p.seconds).toFixed(0)} s, ${(p.executions / p.seconds).toFixed(0)} exec/s, corpus ${p.corpus}`),
    });
    executions += r.executions;
    spent += r.seconds;
    longestClean = Math.max(longestClean, r.executions);
    printFindings(r);
    findings.push(...r.findings);
    if (r.findings.length === 0) break;
  }
  const rate = spent > 0 ? executions / spent : 0;
  console.log(
    `${target}: ${executions} execs in ${spent.toFixed(1)} s, ${rate.toFixed(0)} exec/s, longest clean run ${longestClean} execs, ` +
      (findings.length === 0 ? 'no crash, hang or escape' : `${findings.length} finding(s)`),
  );
  found += findings.length;
}
process.exit(found === 0 ? 0 : 1);
