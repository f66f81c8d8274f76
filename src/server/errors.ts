// Errors in one place: every error the API answers is {"code","message"}
// with a code of the project's catalogue (src/errors.ts, HTTP_CODES for the
// ones only HTTP gives), and its status comes from the one map below.
// - A request that does not match its zod schema: 400 VALIDATION_FAILED,
//   the message naming each field (body.source.port: …), `issues` listing them.
// - A server fault (5xx, or a code this map does not know) shows only the
//   catalogue sentence, never the detail, a stack or anything from the
//   configuration; the fault itself goes to the log.
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_MESSAGES, XipError, type ErrorCode, type HttpCode } from '../errors.js';

const HTTP_CODE_STATUS: Readonly<Record<HttpCode, number>> = {
  AUTH_REQUIRED: 401,
  AUTH_FAILED: 401,
  FORBIDDEN: 403,
  CSRF_INVALID: 403,
  SETUP_TOKEN_INVALID: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  VALIDATION_FAILED: 400,
  MEDIA_TYPE_UNSUPPORTED: 415,
  BODY_TOO_LARGE: 413,
  INTERNAL_ERROR: 500,
};

/** The status of each code that reaches HTTP. A code not here is a server fault: 500 INTERNAL_ERROR. */
export const HTTP_STATUS: Readonly<Partial<Record<ErrorCode, number>>> = Object.freeze({
  ...HTTP_CODE_STATUS,
  // A configuration sent to POST/PUT /api/connectors that breaks a rule.
  CONFIG_INVALID: 400,
  DIRECTORY_INVALID: 400,
  MAPPING_INVALID: 400,
  TRUST_INVALID: 400,
  CONNECTOR_NOT_FOUND: 404,
  CONNECTOR_EXISTS: 409,
  CONNECTOR_BUSY: 409,
  CONNECTOR_PAUSED: 409,
  EVIDENCE_NOT_FOUND: 404,
  // A file of the evidence store altered on disk: the server's storage is at fault, and the admin's to restore.
  EVIDENCE_CORRUPT: 500,
  ACCOUNT_NOT_FOUND: 404,
  ACCOUNT_EXISTS: 409,
  // What a target answers to the wizard's test delivery (test-delivery.ts): the
  // configuration given is at fault (4xx), or the target is (5xx: only the
  // catalogue's sentence is shown, the detail goes to the log).
  FOLDER_INVALID: 400,
  MAILBOX_NOT_FOUND: 404,
  // Not 401: that would read as this server's session having ended.
  TARGET_AUTH_FAILED: 422,
  TARGET_REJECTED: 422,
  MESSAGE_TOO_LARGE: 422,
  TARGET_UNAVAILABLE: 502,
  STORAGE_FULL: 507,
  // The database did not answer: the client may try again later.
  LEDGER_ERROR: 503,
  // The installation's key does not open the stored secrets: the admin's to fix (the sentence says how), not the client's.
  SECRET_KEY_INVALID: 500,
});

export const errorBody = z
  .object({
    code: z.string().describe('A stable code of the catalogue (docs/console.md, "Errors")'),
    message: z.string().describe('What went wrong and what to do, for a person'),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('VALIDATION_FAILED only: each field at fault'),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof errorBody>;

export interface ErrorAnswer {
  readonly status: number;
  readonly body: ErrorBody;
  /** A server fault: log it with its stack. */
  readonly fault: boolean;
}

/** What a thrown value becomes on the wire. */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof XipError) return xipAnswer(error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'request';
    const issues = error.validation.map((v) => ({ path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'), message: v.message ?? 'invalid' }));
    return answer('VALIDATION_FAILED', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'FST_CSRF_MISSING_SECRET':
    case 'FST_CSRF_INVALID_TOKEN':
      return answer('CSRF_INVALID');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return answer('MEDIA_TYPE_UNSUPPORTED');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return answer('BODY_TOO_LARGE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return answer('VALIDATION_FAILED', 'body: empty, though Content-Type says JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return answer('VALIDATION_FAILED', 'body: not valid JSON');
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  // Another client error of Fastify (a malformed URL, content length…): its message is Fastify's own, never input.
  if (typeof status === 'number' && status >= 400 && status < 500 && typeof code === 'string' && code.startsWith('FST_')) {
    return answer('VALIDATION_FAILED', `${code}: ${(error as Error).message}`);
  }
  return answer('INTERNAL_ERROR', undefined, undefined, true);
}

function xipAnswer(error: XipError): ErrorAnswer {
  const status = HTTP_STATUS[error.code];
  if (status === undefined) return answer('INTERNAL_ERROR', undefined, undefined, true);
  // A 5xx shows the sentence only: its detail may name paths or hosts of the server.
  if (status >= 500) return { status, body: { code: error.code, message: ERROR_MESSAGES[error.code] }, fault: true };
  return { status, body: { code: error.code, message: error.explanation }, fault: false };
}

function answer(code: HttpCode, detail?: string, issues?: ErrorBody['issues'], fault = false): ErrorAnswer {
  const message = detail ? `${ERROR_MESSAGES[code]} (${detail})` : ERROR_MESSAGES[code];
  return { status: HTTP_STATUS[code]!, body: { code, message, ...(issues ? { issues } : {}) }, fault };
}

/** The documented error answers of a route, for its response schema. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorBody> {
  return Object.fromEntries(statuses.map((s) => [s, errorBody]));
}
