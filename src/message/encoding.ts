// Content transfer encodings (RFC 2045 §6) with sizes known before writing.
import * as base64 from 'nodemailer/lib/base64';
import * as qp from 'nodemailer/lib/qp';

/** Base64 line length: RFC 2045 §6.8 "no more than 76 characters". */
export const BASE64_LINE = 76;

/**
 * Octets nodemailer's base64 Encoder writes for `n` input bytes with 76-character
 * lines: every line but the last is followed by CRLF, the last one is not.
 */
export function base64Size(n: number): number {
  if (n === 0) return 0;
  const chars = 4 * Math.ceil(n / 3);
  return chars + 2 * (Math.ceil(chars / BASE64_LINE) - 1);
}

export interface EncodedText {
  readonly encoding: 'quoted-printable' | 'base64';
  /** The encoded body, ending in CRLF (a trailing soft line break for QP, which decodes to nothing). */
  readonly data: Buffer;
}

/**
 * A text/* body in UTF-8, line breaks made CRLF (the canonical form of RFC 2046
 * §4.1.1), quoted-printable or base64, whichever is shorter. Either keeps every
 * line within 76 characters, and neither can contain a boundary made of "=_".
 */
export function encodeText(text: string): EncodedText {
  const bytes = Buffer.from(text.replace(/\r\n|\r|\n/g, '\r\n'), 'utf8');
  const q = qp.wrap(qp.encode(bytes), BASE64_LINE);
  if (q.length <= base64Size(bytes.length)) {
    const end = q.endsWith('\r\n') ? '' : '=\r\n'; // also for empty text: an empty body before a delimiter reads as one line break to some parsers
    return { encoding: 'quoted-printable', data: Buffer.from(q + end, 'latin1') };
  }
  return { encoding: 'base64', data: Buffer.from(`${base64.wrap(base64.encode(bytes), BASE64_LINE)}\r\n`, 'latin1') };
}
