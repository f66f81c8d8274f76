// npm run fuzz -- [--target NAME|all] [--seconds N] [--runs N] [--seed N]
//                 [--hang-ms N] [--heap-mb N] [--rss-mb N] [--findings DIR] [--no-shrink]
// npm run fuzz -- --replay FILE [--target NAME]
//
// Fuzzes each target in turn for --seconds (default: $XIP_FUZZ_SECONDS, else
// 60), prints executions per second as it goes and a summary line per target,
// and stops by itself. Exit status 1 when anything was found. A replay runs
// one saved input (the target is the file name's first word) and exits 1 if
// it still fails.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './seeds.js';
import { superviseTarget, type SuperviseResult } from './supervisor.js';
import { TARGETS } from './targets/index.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'all' },
    seconds: { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    'hang-ms': { type: 'string', default: '2000' },
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
const baseSeed = num('seed', values.seed) ?? Math.floor(Math.random() * 2 ** 31);
let found = 0;
for (const [i, target] of names.entries()) {
  const seed = (baseSeed + i) | 0;
  console.log(`${target}: ${TARGETS[target]!.description}`);
  console.log(`${target}: seed ${seed}, ${seconds === undefined ? '' : `${seconds} s`}${runs === undefined ? '' : ` ${runs} runs`}, hang budget ${common.hangMs} ms`);
  const r = await superviseTarget({
    ...common,
    target,
    seed,
    runs,
    seconds,
    onProgress: (p) => console.log(`${target}: ${p.executions} execs in ${p.seconds.toFixed(0)} s, ${(p.executions / p.seconds).toFixed(0)} exec/s, corpus ${p.corpus}`),
  });
  const rate = r.seconds > 0 ? r.executions / r.seconds : 0;
  console.log(`${target}: ${r.executions} execs in ${r.seconds.toFixed(1)} s, ${rate.toFixed(0)} exec/s, corpus ${r.corpus}, ${r.findings.length === 0 ? 'no crash, hang or escape' : `${r.findings.length} finding(s)`}`);
  printFindings(r);
  found += r.findings.length;
}
process.exit(found === 0 ? 0 : 1);
