// The fuzzing loop inside a worker: fast-check generates "corpus entry + edits"
// from a seed, the target runs the input, and a failure is reported at once
// (the first failing input) and again once fast-check has shrunk it. Inputs
// that show an outcome not seen before join the corpus, a poor man's
// coverage feedback: a new error rule reached is a new place to mutate from.
import fc from 'fast-check';
import { caseArb, mutate, type MutationContext } from './mutate.js';
import type { SharedState } from './shared-state.js';
import { failureName, FuzzViolation, type Target, type TargetInstance } from './target.js';

export interface LoopOptions {
  readonly seed: number;
  /** Stop after this many executions (when given). */
  readonly runs?: number | undefined;
  /** Stop after this many seconds (when given). */
  readonly seconds?: number | undefined;
  /** One execution longer than this is a hang. */
  readonly hangMs: number;
  /** Resident memory of the process above this is a finding. */
  readonly rssBytes: number;
  /** Shrink a failing input (off: report the first one only). */
  readonly shrink: boolean;
}

export interface Failure {
  readonly stage: 'first' | 'shrunk';
  readonly input: Buffer;
  readonly name: string;
  readonly message: string;
  readonly stack: string;
}

const MAX_CORPUS = 4096;
/** Runs per fast-check call: the seed of each batch follows from the run's seed, so a run with --runs is repeatable. */
const BATCH = 100;

export function describeError(e: unknown): { name: string; message: string; stack: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  const cause = err.cause instanceof Error ? `\ncaused by: ${err.cause.stack ?? err.cause.message}` : '';
  return { name: failureName(e), message: err.message, stack: (err.stack ?? err.message) + cause };
}

/** Runs one input with the checks every execution gets: the time budget and the memory bound. */
export async function runOnce(instance: TargetInstance, input: Buffer, opts: Pick<LoopOptions, 'hangMs' | 'rssBytes'>, state?: SharedState, corpusSize = 0): Promise<string> {
  state?.begin(input);
  const t0 = performance.now();
  let outcome: string;
  try {
    outcome = await instance.run(input);
  } finally {
    state?.end(corpusSize);
  }
  const ms = performance.now() - t0;
  if (ms > opts.hangMs) throw new FuzzViolation('hang', `one execution took ${ms.toFixed(0)} ms, the budget is ${opts.hangMs} ms`);
  return outcome;
}

export async function fuzzLoop(
  target: Target,
  instance: TargetInstance,
  opts: LoopOptions,
  state: SharedState,
  report: (f: Failure) => void,
): Promise<{ executions: number; failed: boolean }> {
  const corpus = instance.seeds.map((s) => (s.length > target.maxLength ? s.subarray(0, target.maxLength) : s));
  if (corpus.length === 0) throw new Error(`target ${target.name} has no seed`);
  const ctx: MutationContext = { corpus, dictionary: target.dictionary.map((t) => (typeof t === 'string' ? Buffer.from(t, 'utf8') : t)), maxLength: target.maxLength };
  const seen = new Set<string>();
  let failing: Buffer | undefined;
  let firstReported = false;
  let execs = 0;

  const property = fc.asyncProperty(caseArb(), async (c) => {
    const base = corpus[c.seed % corpus.length]!;
    const input = mutate(base, c.mutations, ctx);
    try {
      const outcome = await runOnce(instance, input, opts, state, corpus.length);
      if (failing === undefined) execs++; // shrinking's runs are not counted: executions is the clean run before a finding
      if ((execs & 63) === 0 && process.memoryUsage.rss() > opts.rssBytes) {
        throw new FuzzViolation('memory', `resident memory ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB, the bound is ${(opts.rssBytes / 2 ** 20).toFixed(0)} MiB`);
      }
      // The corpus stops growing once something failed, so that shrinking replays the same inputs.
      if (failing === undefined && !seen.has(outcome)) {
        seen.add(outcome);
        if (corpus.length < MAX_CORPUS) corpus.push(input);
      }
    } catch (e) {
      failing = input;
      if (!firstReported) {
        firstReported = true;
        report({ stage: 'first', input, ...describeError(e) });
      }
      throw e;
    }
  });

  // Batches of fast-check runs until the budget is spent. fast-check's own
  // interruptAfterTimeLimit is not used: it gives up on an async run without
  // waiting for it, and the set-up would be torn down under that run.
  const deadline = opts.seconds === undefined ? Infinity : performance.now() + opts.seconds * 1000;
  const total = opts.runs ?? Infinity;
  let done = 0;
  for (let batch = 0; done < total && performance.now() < deadline; batch++) {
    const numRuns = Math.min(BATCH, total - done);
    const details = await fc.check(property, { seed: (opts.seed + batch * 7919) | 0, numRuns, endOnFailure: !opts.shrink });
    done += numRuns;
    if (details.failed) {
      if (failing !== undefined && opts.shrink) report({ stage: 'shrunk', input: failing, ...describeError(details.errorInstance) });
      return { executions: execs, failed: true };
    }
  }
  return { executions: execs, failed: false };
}
