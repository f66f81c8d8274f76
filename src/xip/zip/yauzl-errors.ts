// The one place where yauzl's error messages become our codes. yauzl reports
// plain Errors whose messages are its only contract (index.js); anything it
// says that is not listed here means the archive cannot be parsed.
import { XipError } from '../../errors.js';

const RULES: readonly [RegExp, 'ZIP_UNSUPPORTED' | 'ZIP_ENCRYPTED'][] = [
  [/^multi-disk zip files are not supported/, 'ZIP_UNSUPPORTED'],
  [/^strong encryption is not supported/, 'ZIP_ENCRYPTED'],
];

/** `where` says which record yauzl was reading, e.g. "central directory record 3". */
export function fromYauzlError(error: unknown, where?: string): XipError {
  if (error instanceof XipError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const detail = where ? `${where}: ${message}` : message;
  // fs errors (EIO, EBADF...) are the reader's environment, not the archive's fault.
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string') {
    return new XipError('IO_ERROR', detail, { cause: error });
  }
  for (const [pattern, code] of RULES) {
    if (pattern.test(message)) return new XipError(code, detail, { cause: error });
  }
  return new XipError('ZIP_MALFORMED', detail, { cause: error });
}
