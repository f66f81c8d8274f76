// .eml items (xip-items.md §1–2): the message already is one. Only its header
// block is read, to find the item's id (Message-ID, else the entry name), its
// sentAt (Date) and its people (From/To/Cc/Bcc, for the mapping of §4); the
// body is never read here, it is streamed as is when the message is written.
import type { Readable } from 'node:stream';
import addressparser from 'nodemailer/lib/addressparser';
import { parseMessageId } from '../message/message-id.js';
import { formatRfc3339, parseRfc5322 } from './dates.js';
import type { EmlItem, Participant, Party, Role } from './item.js';
import { excerpt } from './excerpt.js';
import { decodeWords } from './rfc2047.js';
import { derivedEmail, isEmailAddress } from './schema.js';

export type HeaderBlock =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly length: number };

/**
 * Reads up to the empty line that ends the header block (RFC 5322 §2.1), or to
 * the end of a message that has no body. At most `maxBytes` are kept; the
 * stream is destroyed as soon as the block is found.
 */
export async function readHeaderBlock(stream: Readable, maxBytes: number): Promise<HeaderBlock> {
  const chunks: Buffer[] = [];
  let length = 0;
  let tail = Buffer.alloc(0); // the last bytes seen, so that a "\r\n\r\n" split across chunks is found
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const window = Buffer.concat([tail, chunk]);
      const found = headerEnd(window, length === 0);
      chunks.push(chunk);
      length += chunk.length;
      if (found >= 0) {
        const end = length - window.length + found;
        return end > maxBytes ? { ok: false, length: end } : { ok: true, bytes: Buffer.concat(chunks, length).subarray(0, end) };
      }
      if (length > maxBytes) return { ok: false, length };
      tail = window.subarray(Math.max(0, window.length - 3));
    }
    return { ok: true, bytes: Buffer.concat(chunks, length) };
  } finally {
    stream.destroy();
  }
}

/** Offset in `buf` just past the last header line's ending, or -1. A message starting with an empty line has no headers (0). */
function headerEnd(buf: Buffer, atStart: boolean): number {
  if (atStart && (buf[0] === 0x0a || (buf[0] === 0x0d && buf[1] === 0x0a))) return 0;
  for (let i = buf.indexOf(0x0a); i >= 0 && i + 1 < buf.length; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a) return i + 1;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 1;
  }
  return -1;
}

/** Unfolded header fields, names lower-cased, in order. Raw UTF-8 (RFC 6532) is decoded as such. */
export function parseHeaderFields(block: Buffer): { name: string; value: string }[] {
  const fields: { name: string; value: string }[] = [];
  for (const line of block.toString('utf8').split(/\r?\n/)) {
    if (line === '') continue;
    const last = fields[fields.length - 1];
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      last.value += line; // RFC 5322 §2.2.3: unfolding removes the CRLF only
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a field (e.g. an mbox "From " line): nothing to read from it
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}

function mailboxes(values: string[]): Party[] {
  const out: Party[] = [];
  for (const value of values) {
    for (const a of addressparser(value, { flatten: true })) {
      if (!a.address || !isEmailAddress(a.address)) continue;
      const name = decodeWords(a.name).trim();
      out.push({ name: name || undefined, email: a.address });
    }
  }
  return out;
}

export type EmlParse = { ok: true; item: EmlItem } | { ok: false; message: string; id?: string | undefined };

/** Builds the item of an .eml entry from its header block. */
export function emlItem(entryName: string, block: Buffer): EmlParse {
  const fields = parseHeaderFields(block);
  const all = (name: string): string[] => fields.filter((f) => f.name === name).map((f) => f.value);
  const first = (name: string): string | undefined => all(name)[0];

  // §2: the id is the message's own Message-ID, read by the one reader that the
  // targets use too, so that a copy is recognised whatever the header's form.
  // A Message-ID field that holds no msg-id makes the item invalid: adding our
  // own would give the message two, and the entry name would be an id no
  // target could find the copy by.
  const messageIdField = first('message-id');
  const messageId = messageIdField === undefined ? undefined : parseMessageId(messageIdField);
  const unreadable = messageIdField !== undefined && messageId === undefined;
  const id = unreadable ? undefined : (messageId ?? entryName);

  const dateText = first('date');
  const date = dateText === undefined ? undefined : parseRfc5322(dateText);
  const errors: string[] = [];
  if (unreadable) errors.push(`id: the Message-ID header "${excerpt(messageIdField ?? '')}" holds no RFC 5322 msg-id`);
  if (dateText === undefined) errors.push('sentAt: the message has no Date header');
  else if (!date) errors.push(`sentAt: the Date header "${excerpt(dateText)}" is not an RFC 5322 date-time`);

  const from = mailboxes(all('from'))[0];
  if (!from) errors.push('from: the From header is missing or has no email address');
  if (errors.length > 0 || id === undefined || !date || !from) return { ok: false, message: errors.join('; '), id };

  const participants: Participant[] = [];
  for (const [header, role] of [['to', 'to'], ['cc', 'cc'], ['bcc', 'bcc']] as [string, Role][]) {
    for (const p of mailboxes(all(header))) participants.push({ ...p, role });
  }
  const subject = first('subject');
  const nl = block.indexOf(0x0a);
  return {
    ok: true,
    item: {
      kind: 'eml',
      id,
      type: 'message',
      sentAt: formatRfc3339(date),
      from,
      participants,
      Email: derivedEmail(from.email, participants),
      subject: subject === undefined ? undefined : decodeWords(subject),
      attachments: [],
      properties: {},
      hasMessageId: messageId !== undefined,
      lineEnding: nl > 0 && block[nl - 1] === 0x0d ? '\r\n' : nl < 0 ? '\r\n' : '\n',
    },
  };
}
