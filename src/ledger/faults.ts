// What a database fault means to the stores, whichever engine raised it:
// better-sqlite3 names its errors by SQLite's extended codes (SQLITE_…), pg by
// PostgreSQL's SQLSTATE (Appendix A of its manual) or, for the socket, by
// Node's errno codes. The stores ask these questions and never look at a
// code themselves, so that one store serves both engines.

type Coded = { code?: unknown; message?: unknown };

function codeOf(e: unknown): string | undefined {
  const code = (e as Coded | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A row names a parent that is not there (SQLite FOREIGNKEY; PostgreSQL 23503 foreign_key_violation). */
export function isForeignKeyViolation(e: unknown): boolean {
  const code = codeOf(e);
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/**
 * The connection to the server was lost or could not be made: the server
 * ended the session (57P01 admin_shutdown, as pg_terminate_backend does;
 * 57P02 crash_shutdown; 57P03 cannot_connect_now while it starts or stops),
 * SQLSTATE class 08 (connection exception), 53300 too_many_connections, or
 * the socket failed under pg (errno codes, or pg's own "Connection
 * terminated" without a code). Whether a write sent before the loss was
 * committed is unknown: the caller may only retry what is safe to do twice.
 */
export function isConnectionLost(e: unknown): boolean {
  const code = codeOf(e);
  if (code !== undefined) {
    if (code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || /^08[0-9A-Z]{3}$/.test(code)) return true;
    if (code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return true;
  }
  const message = (e as Coded | null | undefined)?.message;
  return typeof message === 'string' && /^Connection terminated\b|^Client has encountered a connection error|^Connection ended|timeout exceeded when trying to connect/i.test(message);
}

/**
 * The server rolled the whole transaction back to resolve a conflict with
 * another one (40001 serialization_failure, 40P01 deadlock_detected):
 * nothing of it was written, so doing it again is safe whatever it was.
 */
export function isRolledBackConflict(e: unknown): boolean {
  const code = codeOf(e);
  return code === '40001' || code === '40P01';
}

/**
 * The text with the password of every URL in it replaced by "***"
 * (postgres://user:secret@host → postgres://user:***@host), so that a
 * connection string never reaches a log, an error or a terminal in full.
 * Also the key=value form libpq accepts (password=secret).
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@\s/]*@/gi, '$1:***@')
    .replace(/\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi, 'password=***');
}
