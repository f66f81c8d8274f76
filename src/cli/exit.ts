// The one place where errors become exit codes: verdicts on a container
// (xip-format.md §5) or an item are 1; everything else is usage or I/O: 2.
import { getSystemErrorMap } from 'node:util';
import { isItemCode, isXipCode, XipError } from '../errors.js';
import { shortenLongWords, shortPath } from './paths.js';

export const EXIT_OK = 0;
export const EXIT_REJECTED = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(error: XipError): number {
  return isXipCode(error.code) || isItemCode(error.code) ? EXIT_REJECTED : EXIT_USAGE;
}

/**
 * What a system call's error says, once: "lstat <path>: ENAMETOOLONG (name
 * too long)", the path shortened. Node's own message already starts with the
 * code and holds the whole path, so "CODE: message" printed the code twice
 * and a 64 KB path in full.
 */
function systemErrorText(err: NodeJS.ErrnoException & { dest?: string }): string {
  const description = err.errno !== undefined ? getSystemErrorMap().get(err.errno)?.[1] : undefined;
  const what = `${err.code}${description ? ` (${description})` : ''}`;
  if (err.syscall === undefined) return what;
  const paths = [err.path, err.dest].filter((p): p is string => typeof p === 'string').map((p) => shortPath(p));
  return `${err.syscall}${paths.length > 0 ? ` ${paths.join(' -> ')}` : ''}: ${what}`;
}

/** Any thrown value as a coded error: what is not already coded is an I/O or internal fault, never the container's. */
export function asXipError(e: unknown): XipError {
  if (e instanceof XipError) return e;
  const err = e as NodeJS.ErrnoException;
  return new XipError('IO_ERROR', err?.code ? systemErrorText(err) : String(err?.message ?? e), { cause: e });
}

/**
 * Runs a command's body and turns what it throws into output and an exit code,
 * the same way for every command: verdicts on stdout, usage and I/O on stderr,
 * one JSON object on stdout with --json.
 */
export async function runAction(
  io: { out(text: string): void; err(text: string): void },
  json: boolean | undefined,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    const error = asXipError(e);
    const code = exitCodeFor(error);
    // A person's line names long paths and entries by their start and end (--json has them whole).
    const line = shortenLongWords(`${error.code}: ${error.explanation}${error.entry !== undefined ? ` [entry: ${error.entry}]` : ''}`);
    if (json) {
      io.out(JSON.stringify({ ok: false, code: error.code, message: error.explanation, ...(error.entry !== undefined ? { entry: error.entry } : {}) }));
    } else if (code === EXIT_REJECTED) io.out(line);
    else io.err(line);
    return code;
  }
}
