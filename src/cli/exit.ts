// The one place where errors become exit codes: verdicts on a container
// (xip-format.md §5) or an item are 1; everything else is usage or I/O: 2.
import { isItemCode, isXipCode, XipError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_REJECTED = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(error: XipError): number {
  return isXipCode(error.code) || isItemCode(error.code) ? EXIT_REJECTED : EXIT_USAGE;
}

/** Any thrown value as a coded error: what is not already coded is an I/O or internal fault, never the container's. */
export function asXipError(e: unknown): XipError {
  if (e instanceof XipError) return e;
  const err = e as NodeJS.ErrnoException;
  return new XipError('IO_ERROR', err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? e), { cause: e });
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
    const line = `${error.code}: ${error.explanation}${error.entry !== undefined ? ` [entry: ${error.entry}]` : ''}`;
    if (json) {
      io.out(JSON.stringify({ ok: false, code: error.code, message: error.explanation, ...(error.entry !== undefined ? { entry: error.entry } : {}) }));
    } else if (code === EXIT_REJECTED) io.out(line);
    else io.err(line);
    return code;
  }
}
