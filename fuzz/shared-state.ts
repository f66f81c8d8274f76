// What a fuzzing worker shares with its supervisor without a message: the
// input being run and since when, so that the supervisor can name the input of
// a hang (the worker is stuck and cannot say it) or of a crash that killed the
// worker (out of memory, an uncaught error), and the execution count.
const HEADER = 64;

export class SharedState {
  readonly buffer: SharedArrayBuffer;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  private readonly bytes: Uint8Array;

  constructor(bufferOrMaxInput: SharedArrayBuffer | number) {
    this.buffer = typeof bufferOrMaxInput === 'number' ? new SharedArrayBuffer(HEADER + bufferOrMaxInput) : bufferOrMaxInput;
    this.ints = new Int32Array(this.buffer, 0, 4);
    this.floats = new Float64Array(this.buffer, 16, 4);
    this.bytes = new Uint8Array(this.buffer, HEADER);
  }

  begin(input: Uint8Array): void {
    const n = Math.min(input.length, this.bytes.length);
    this.bytes.set(input.subarray(0, n));
    this.ints[1] = n;
    this.floats[0] = Date.now();
    Atomics.store(this.ints, 0, 1);
  }

  end(corpusSize: number): void {
    Atomics.store(this.ints, 0, 0);
    this.ints[2] = corpusSize;
    this.floats[1]! += 1;
  }

  /** Milliseconds the current execution has been running, or -1 between executions. */
  runningFor(now = Date.now()): number {
    return Atomics.load(this.ints, 0) === 1 ? now - this.floats[0]! : -1;
  }

  get executions(): number {
    return this.floats[1]!;
  }

  get corpusSize(): number {
    return this.ints[2]!;
  }

  /** A copy of the input being run (or the last one run). */
  currentInput(): Buffer {
    return Buffer.from(this.bytes.subarray(0, this.ints[1]!));
  }
}
