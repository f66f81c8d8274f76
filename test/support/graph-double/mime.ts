// Just enough of a MIME message's header for the message resource a contract
// double of Microsoft Graph answers importMime with
// (https://learn.microsoft.com/en-us/graph/api/resources/message:
// internetMessageId "in the format specified by RFC2822", subject, from,
// toRecipients, ccRecipients, sentDateTime, hasAttachments). The stored
// octets are never touched; this only reads them.
import type { Recipient } from './state.js';

const HEADER_SCAN_LIMIT = 256 * 1024;

/** The header fields (names lowercased, folded lines unfolded), first occurrence of each. */
export function headerFields(mime: Buffer): Map<string, string> {
  const head = mime.subarray(0, Math.min(mime.length, HEADER_SCAN_LIMIT)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = end < 0 ? head : head.slice(0, end);
  const fields = new Map<string, string>();
  for (const line of block.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return fields;
}

/** RFC 2047 encoded words (B and Q) decoded; the rest of the latin1-read header re-read as UTF-8 when it is. */
export function decodeHeader(value: string): string {
  const raw = Buffer.from(value, 'latin1').toString('utf8');
  const text = raw.includes('\ufffd') ? value : raw;
  return text.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=(?:\s+(?==\?))?/g, (whole, charset: string, enc: string, data: string) => {
    try {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return new TextDecoder(charset.split('*')[0]!.toLowerCase()).decode(bytes);
    } catch {
      return whole;
    }
  });
}

/** An address list ("A <a@x>, b@y, \"C, D\" <c@z>") as Graph recipients. */
export function recipients(value: string | undefined): Recipient[] {
  if (!value) return [];
  const out: Recipient[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  const take = (part: string): void => {
    const m = /^(.*?)<([^>]*)>\s*$/.exec(part.trim());
    const address = (m ? m[2]! : part).trim();
    const name = m ? decodeHeader(m[1]!.trim().replace(/^"(.*)"$/, '$1')) : address;
    if (address.includes('@')) out.push({ emailAddress: { name: name || address, address } });
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      take(value.slice(start, i));
      start = i + 1;
    }
  }
  take(value.slice(start));
  return out;
}

/** A Graph DateTimeOffset as the service writes it: UTC, whole seconds. */
export function graphDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface MimeSummary {
  readonly internetMessageId: string | undefined;
  readonly subject: string;
  readonly from: Recipient | undefined;
  readonly toRecipients: Recipient[];
  readonly ccRecipients: Recipient[];
  /** Milliseconds from the Date field, when it parses. */
  readonly sentAt: number | undefined;
  readonly hasAttachments: boolean;
}

export function summarize(mime: Buffer): MimeSummary {
  const f = headerFields(mime);
  const messageId = f.get('message-id');
  const date = f.get('date');
  const sentAt = date === undefined ? undefined : Date.parse(date.replace(/\s*\([^)]*\)\s*$/, ''));
  return {
    // "as it appears": the field's value, angle brackets included, unfolded and trimmed
    internetMessageId: messageId === undefined || messageId === '' ? undefined : messageId,
    subject: decodeHeader(f.get('subject') ?? ''),
    from: recipients(f.get('from'))[0],
    toRecipients: recipients(f.get('to')),
    ccRecipients: recipients(f.get('cc')),
    sentAt: sentAt === undefined || Number.isNaN(sentAt) ? undefined : sentAt,
    hasAttachments: /^multipart\/mixed\b/i.test(f.get('content-type') ?? ''),
  };
}
