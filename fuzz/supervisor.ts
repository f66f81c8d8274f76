// Runs a target in a worker thread and watches it: an execution running past
// its time budget is a hang (the worker is terminated, which stops even a
// synchronous loop), a worker that dies (out of heap, an uncaught error) is a
// crash, and either is named after the input the shared state says was
// running. Findings are saved as files named after the target and the
// failure: <target>-<failure>-<sha256 prefix>.bin, with a .txt beside it.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Failure, LoopOptions } from './loop.js';
import type { Target } from './target.js';
import { SharedState } from './shared-state.js';
import { TARGETS } from './targets/index.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

export interface SuperviseOptions extends LoopOptions {
  /** A target of fuzz/targets/, by name. */
  readonly target: string;
  /** Or a module (file URL) whose export `target` is the target: the harness's own tests plant faults this way. */
  readonly targetModule?: string | undefined;
  /** Where findings are written (created when needed). */
  readonly findingsDir: string;
  /** V8 heap of the worker, in MiB: past it the worker dies, a memory finding. */
  readonly heapMb: number;
  readonly replay?: Buffer | undefined;
  /** Called every `progressMs` with what has been done so far. */
  readonly onProgress?: ((p: { executions: number; seconds: number; corpus: number }) => void) | undefined;
  readonly progressMs?: number | undefined;
}

export interface Finding {
  readonly target: string;
  readonly stage: Failure['stage'] | 'hang' | 'died';
  readonly name: string;
  readonly message: string;
  readonly stack: string;
  readonly file: string;
  readonly input: Buffer;
}

export interface SuperviseResult {
  readonly target: string;
  readonly seed: number;
  readonly executions: number;
  /** Fuzzing time, set-up (seeds, keys) excluded. */
  readonly seconds: number;
  readonly corpus: number;
  readonly findings: readonly Finding[];
  /** For a replay that passed: the target's outcome. */
  readonly outcome?: string | undefined;
}

export function saveFinding(dir: string, target: string, failure: Omit<Finding, 'file' | 'target'>, seed: number): Finding {
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(failure.input).digest('hex').slice(0, 12);
  const base = `${target}-${failure.name}${failure.stage === 'shrunk' ? '-min' : ''}-${hash}`;
  const file = join(dir, `${base}.bin`);
  writeFileSync(file, failure.input);
  writeFileSync(
    join(dir, `${base}.txt`),
    [
      `target: ${target}`,
      `failure: ${failure.name} (${failure.stage})`,
      `seed: ${seed}`,
      `found: ${new Date().toISOString()}`,
      `input: ${failure.input.length} bytes`,
      `replay: npm run fuzz -- --replay ${file}`,
      '',
      failure.message,
      '',
      failure.stack,
      '',
    ].join('\n'),
  );
  return { ...failure, target, file };
}

export async function superviseTarget(opts: SuperviseOptions): Promise<SuperviseResult> {
  const target = opts.targetModule === undefined ? TARGETS[opts.target] : ((await import(opts.targetModule)) as { target: Target }).target;
  if (target === undefined) throw new Error(`no target "${opts.target}"; targets: ${Object.keys(TARGETS).join(', ')}`);
  const state = new SharedState(target.maxLength);
  const workerData: WorkerInput = {
    target: opts.target,
    targetModule: opts.targetModule,
    shared: state.buffer,
    loop: { seed: opts.seed, runs: opts.runs, seconds: opts.seconds, hangMs: opts.hangMs, rssBytes: opts.rssBytes, shrink: opts.shrink },
    replay: opts.replay === undefined ? undefined : new Uint8Array(opts.replay),
  };
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData,
    resourceLimits: { maxOldGenerationSizeMb: opts.heapMb },
    stdout: false,
    stderr: false,
  });

  return new Promise((resolve, reject) => {
    const findings: Finding[] = [];
    let started: number | undefined;
    let executions = 0;
    let outcome: string | undefined;
    let settled = false;
    let lastProgress = Date.now();
    // terminate() takes effect asynchronously: on a loaded machine the watchdog ticks again while the stuck
    // execution still runs, and must not report the same hang twice.
    let terminating = false;
    const add = (f: Omit<Finding, 'file' | 'target'>) => findings.push(saveFinding(opts.findingsDir, opts.target, f, opts.seed));

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      const seconds = started === undefined ? 0 : (Date.now() - started) / 1000;
      resolve({ target: opts.target, seed: opts.seed, executions: Math.max(executions, state.executions), seconds, corpus: state.corpusSize, findings, outcome });
    };

    const watchdog = setInterval(() => {
      const running = state.runningFor();
      if (running > opts.hangMs * 2 && !settled && !terminating) {
        terminating = true;
        // The worker is stuck (a synchronous loop cannot be interrupted from inside): name the input and stop it.
        add({ stage: 'hang', name: 'hang', input: state.currentInput(), message: `one execution still running after ${running} ms, the budget is ${opts.hangMs} ms`, stack: '(the worker was terminated while running this input)' });
        void worker.terminate();
      }
      if (opts.onProgress && started !== undefined && Date.now() - lastProgress >= (opts.progressMs ?? 10_000)) {
        lastProgress = Date.now();
        opts.onProgress({ executions: state.executions, seconds: (Date.now() - started) / 1000, corpus: state.corpusSize });
      }
    }, Math.max(50, Math.min(250, opts.hangMs / 4)));

    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') started = Date.now();
      else if (m.type === 'failure') add({ ...m.failure, input: Buffer.from(m.failure.input) });
      else if (m.type === 'done') {
        executions = m.executions;
        outcome = m.outcome;
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      // Out of heap (ERR_WORKER_OUT_OF_MEMORY) or an error thrown outside any execution's await (an 'error' event nobody listened to).
      const memory = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      if (started === undefined && !memory) {
        settled = true;
        clearInterval(watchdog);
        reject(e);
        return;
      }
      add({ stage: 'died', name: memory ? 'memory' : `uncaught-${e.name}`, input: state.currentInput(), message: e.message, stack: e.stack ?? e.message });
    });
    worker.on('exit', finish);
  });
}
