// What the Azure SDK throws, turned into the source codes a person can act on
// (errors.ts: SOURCE_CODES), with every secret scrubbed out first: the SDK's
// messages can quote request URLs, and a SAS travels in the URL's query.
import { XipError } from '../errors.js';

/** What a message about one operation may say, and what it must never say. */
export interface AzureErrorContext {
  /** The container URL with prefix (no secret), for the message. */
  readonly where: string;
  readonly credentialKind: 'key' | 'sas';
  /** Literal strings (the account key, the SAS and its signature) to remove from any text. */
  readonly secrets: readonly string[];
}

/** Why we aborted an operation ourselves, if we did: our watchdog fired, or the source was closed. */
export type OwnAbort = { readonly timedOutMs: number } | { readonly closed: true } | undefined;

// Node's network errors (as RestError.code) that mean the endpoint could not be reached at all.
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND',
  'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'REQUEST_SEND_ERROR', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/** The fields of the SDK's RestError (and Node's system errors) that the mapping reads. */
export interface SdkErrorFields {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
}

export function fields(e: unknown): SdkErrorFields {
  if (typeof e !== 'object' || e === null) return { message: String(e) };
  const o = e as Record<string, unknown>;
  return {
    ...(typeof o.statusCode === 'number' ? { statusCode: o.statusCode } : {}),
    ...(typeof o.code === 'string' ? { code: o.code } : {}),
    ...(typeof o.message === 'string' ? { message: o.message } : {}),
  };
}

/** Removes the literal secrets, every `sig=` value and every URL query string from text. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so that a SAS is removed whole before its signature alone is looked for.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join('[secret]');
  }
  return out
    .replace(/(https?:\/\/[^\s?#'"<>]*)\?[^\s'"<>]*/gi, '$1?[query removed]')
    .replace(/\bsig=[^&\s'"<>]*/gi, 'sig=[secret]');
}

/** The SDK's message, scrubbed, on one line: the service adds RequestId and Time lines that help nobody here. */
export function summary(e: SdkErrorFields, context: AzureErrorContext): string {
  const first = (e.message ?? '').split(/\r?\n/)[0]?.trim() ?? '';
  const parts = [e.statusCode === undefined ? undefined : String(e.statusCode), e.code, first].filter((p): p is string => !!p);
  return scrub(parts.join(' ').slice(0, 300), context.secrets);
}

export function isAuthFailure(e: SdkErrorFields): boolean {
  // 403 covers AuthenticationFailed (wrong key, bad or expired SAS), AuthorizationFailure and
  // AuthorizationPermissionMismatch (a SAS without the permission); 401 a request without credentials.
  return e.statusCode === 401 || e.statusCode === 403 || /^(Authentication|Authorization|InvalidAuthenticationInfo|NoAuthenticationInformation)/.test(e.code ?? '');
}

function authFailed(e: SdkErrorFields, context: AzureErrorContext): XipError {
  const hint = context.credentialKind === 'sas'
    ? 'check that the SAS is for this container, unexpired, and allows read (r) and list (l)'
    : 'check the account name and key';
  return new XipError('SOURCE_AUTH_FAILED', `${context.where} refused the ${context.credentialKind === 'sas' ? 'SAS' : 'account key'} (${summary(e, context)}); ${hint}`);
}

/**
 * The error of listing the container, as XipError: SOURCE_AUTH_FAILED,
 * SOURCE_NOT_FOUND or SOURCE_UNREACHABLE.
 */
export function listError(error: unknown, context: AzureErrorContext, own?: OwnAbort): XipError {
  if (error instanceof XipError) return error;
  if (own && 'timedOutMs' in own) return new XipError('SOURCE_UNREACHABLE', `${context.where} did not answer within ${own.timedOutMs} ms`);
  if (own) return new XipError('SOURCE_UNREACHABLE', `${context.where}: the listing was cut short because the source was closed`);
  const e = fields(error);
  if (isAuthFailure(e)) return authFailed(e, context);
  if (e.statusCode === 404 && e.code === 'ContainerNotFound') return new XipError('SOURCE_NOT_FOUND', `the container of ${context.where} does not exist (${summary(e, context)})`);
  // Another 4xx names a resource the service will not list (a wrong account in an emulator URL, a bad name).
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new XipError('SOURCE_NOT_FOUND', `${context.where} cannot be listed (${summary(e, context)})`);
  }
  const reason = e.code !== undefined && NETWORK_CODES.has(e.code) ? 'could not be reached' : 'failed';
  return new XipError('SOURCE_UNREACHABLE', `${context.where} ${reason} (${summary(e, context) || 'no detail'})`);
}

/**
 * The error of fetching one blob (before or during its transfer):
 * SOURCE_AUTH_FAILED when the credentials are refused, otherwise
 * SOURCE_READ_FAILED — the blob is fetched again at the next run.
 */
export function readError(error: unknown, blob: string, context: AzureErrorContext, own?: OwnAbort): XipError {
  if (error instanceof XipError) return error;
  if (own && 'timedOutMs' in own) return new XipError('SOURCE_READ_FAILED', `${blob} from ${context.where}: no data for ${own.timedOutMs} ms`);
  if (own) return new XipError('SOURCE_READ_FAILED', `${blob} from ${context.where}: the transfer was cut short because the source was closed`);
  const e = fields(error);
  if (isAuthFailure(e)) return authFailed(e, context);
  const why = e.code === 'BlobNotFound' ? 'the blob was removed' : e.statusCode === 412 ? 'the blob changed while it was read' : 'the transfer broke off';
  return new XipError('SOURCE_READ_FAILED', `${blob} from ${context.where}: ${why} (${summary(e, context) || 'no detail'})`);
}
