// A worker thread that sets one target up and fuzzes it (or replays one
// input), so that its supervisor can stop it when it hangs and survive it
// running out of memory.
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, fuzzLoop, runOnce, type Failure, type LoopOptions } from './loop.js';
import { SharedState } from './shared-state.js';
import type { Target } from './target.js';
import { TARGETS } from './targets/index.js';

export interface WorkerInput {
  readonly target: string;
  readonly targetModule?: string | undefined;
  readonly shared: SharedArrayBuffer;
  readonly loop: LoopOptions;
  /** Run this one input instead of fuzzing. */
  readonly replay?: Uint8Array | undefined;
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly seeds: number }
  | { readonly type: 'failure'; readonly failure: Failure }
  | { readonly type: 'done'; readonly executions: number; readonly failed: boolean; readonly outcome?: string | undefined };

const input = workerData as WorkerInput;
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);
const target = input.targetModule === undefined ? TARGETS[input.target] : ((await import(input.targetModule)) as { target: Target }).target;
if (target === undefined) throw new Error(`no target ${input.target}`);
const state = new SharedState(input.shared);
const instance = await target.setup();
post({ type: 'ready', seeds: instance.seeds.length });
try {
  if (input.replay !== undefined) {
    const bytes = Buffer.from(input.replay);
    try {
      const outcome = await runOnce(instance, bytes, input.loop, state);
      post({ type: 'done', executions: 1, failed: false, outcome });
    } catch (e) {
      post({ type: 'failure', failure: { stage: 'first', input: bytes, ...describeError(e) } });
      post({ type: 'done', executions: 1, failed: true });
    }
  } else {
    const result = await fuzzLoop(target, instance, input.loop, state, (failure) => post({ type: 'failure', failure }));
    post({ type: 'done', executions: result.executions, failed: result.failed });
  }
} finally {
  await instance.teardown();
}
