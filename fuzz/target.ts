// What a fuzzing target is, and the one oracle every target applies: a
// failure is a coded error of the module, never anything else.
import { ERROR_MESSAGES, isXipError, type ErrorCode } from '../src/errors.js';

export interface Target {
  readonly name: string;
  /** One line: what an execution does. */
  readonly description: string;
  /** Longest input an execution gets (mutations are cut there). */
  readonly maxLength: number;
  /** Format tokens the mutator inserts whole: strings as UTF-8, buffers as they are. */
  readonly dictionary: readonly (string | Buffer)[];
  /** Seeds and fixed state (trust store, sandbox); called once per process. */
  setup(): Promise<TargetInstance>;
}

export interface TargetInstance {
  readonly seeds: readonly Buffer[];
  /**
   * Runs one input. Returns a short outcome (the error code, or "ok…") used to
   * keep inputs that show a new behaviour in the corpus; throws a
   * FuzzViolation when a property does not hold (any other throw is a crash).
   */
  run(input: Buffer): Promise<string> | string;
  teardown(): Promise<void>;
}

/** A property of the target that did not hold (an escape, a wrong code, a wrong size). */
export class FuzzViolation extends Error {
  constructor(
    readonly kind: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FuzzViolation';
  }
}

/**
 * The outcome of a thrown error that is one of `allowed`, or rethrows it:
 * anything else (a TypeError, a RangeError from a stack overflow, an XipError
 * with a code this module should not give) is what the fuzzer looks for.
 */
export function codedOutcome(e: unknown, allowed: ReadonlySet<ErrorCode>): string {
  if (isXipError(e) && allowed.has(e.code)) return `${e.code}:${shape(e.detail ?? '')}`;
  throw e;
}

/**
 * The rule a message states, without what came from the input: its plain
 * words only (addresses, names, numbers and quoted text dropped), so that
 * outcomes of the same rule compare equal and the corpus keeps one input per
 * rule reached rather than one per distinct detail.
 */
export function shape(message: string): string {
  // Cut first: a detail may quote 64 KiB of input, and "{" without "}" made the scan quadratic.
  const words = message.slice(0, 200).replace(/"(?:[^"\\]|\\.)*"|\{[^}]*\}/g, ' ').split(/\s+/).filter((w) => /^[A-Za-z]+$/.test(w));
  if (message.length > 200) words.pop(); // perhaps cut in the middle
  return words.slice(0, 10).join(' ');
}

export function codes(...list: ErrorCode[]): ReadonlySet<ErrorCode> {
  for (const c of list) if (!(c in ERROR_MESSAGES)) throw new TypeError(`unknown code ${c}`);
  return new Set(list);
}

/** A stable name for a failure, for finding files: "FuzzViolation-escape", "RangeError", "XipError-IO_ERROR". */
export function failureName(e: unknown): string {
  if (e instanceof FuzzViolation) return `violation-${e.kind}`;
  if (isXipError(e)) return `XipError-${e.code}`;
  if (e instanceof Error) return e.name.replace(/[^A-Za-z0-9_]/g, '') || 'Error';
  return 'thrown-' + typeof e;
}
