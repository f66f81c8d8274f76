// What an imapflow error means for a delivery: the server refused (a tagged
// NO or BAD, RFC 9051 §7.1), which is final for what was refused; or the
// connection failed (closed, reset, timed out, throttled), which is retried
// on a new connection. Response codes are those of RFC 5530, plus TOOBIG
// (RFC 4469) and Dovecot's LIMIT for its maximum message size.
import { isServerRefusal } from 'imapflow/lib/tools.js';
import type { ImapFlowError, ImapResponse } from 'imapflow';
import type { DeliveryCode } from '../errors.js';

export function isRefusal(e: unknown): boolean {
  return isServerRefusal(e as ImapFlowError);
}

/** The response code of a refusal ("LIMIT", "OVERQUOTA", ...), upper-cased, or undefined. */
export function responseCodeOf(e: unknown): string | undefined {
  const err = e as ImapFlowError;
  if (err.serverResponseCode) return err.serverResponseCode.toUpperCase();
  const response = err.response;
  if (response && typeof response === 'object') {
    const first = response.attributes?.[0];
    const code = first && !Array.isArray(first) ? first.section?.[0] : undefined;
    if (code && !Array.isArray(code) && typeof code.value === 'string') return code.value.toUpperCase();
  }
  return undefined;
}

function textOf(response: ImapResponse): string {
  const texts: string[] = [];
  for (const a of response.attributes ?? []) {
    if (a && !Array.isArray(a) && a.type === 'TEXT' && typeof a.value === 'string') texts.push(a.value);
  }
  return texts.join(' ').trim();
}

/** What the server said, for a person: "NO [LIMIT] Mail size is larger …". */
export function describe(e: unknown): string {
  const err = e as ImapFlowError;
  const code = responseCodeOf(e);
  let text = err.responseText ?? (typeof err.response === 'string' ? err.response : err.response ? textOf(err.response) : '');
  if (!text) text = err.message;
  if (err.responseStatus) return `${err.responseStatus}${code ? ` [${code}]` : ''} ${text}`.trim();
  return err.code ? `${err.code}: ${text}` : text;
}

/** The delivery code for a refusal of one message. */
export function codeOfRefusal(responseCode: string | undefined): DeliveryCode {
  switch (responseCode) {
    case 'TOOBIG':
    case 'LIMIT':
      return 'MESSAGE_TOO_LARGE';
    case 'OVERQUOTA':
      return 'STORAGE_FULL';
    case 'NONEXISTENT':
      return 'MAILBOX_NOT_FOUND';
    default:
      return 'TARGET_REJECTED';
  }
}
