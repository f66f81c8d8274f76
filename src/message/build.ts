// Item -> RFC 5322 message (xip-items.md §3), as a stream whose exact size is
// known up front. The multipart structure is assembled here rather than by
// nodemailer's MailComposer, which cannot tell a size before writing; its
// encoders are used for every header and body part.
import type { Readable } from 'node:stream';
import { buildHeaderValue, parseHeaderValue } from 'nodemailer/lib/mime-funcs';
import { parseRfc3339, toDate, formatRfc5322 } from '../items/dates.js';
import type { Attachment, EmlItem, Item, ItemOrigin, JsonItem } from '../items/item.js';
import { addressFields } from './addresses.js';
import type { MessageContext } from './context.js';
import { emlSegments } from './eml.js';
import { encodeText } from './encoding.js';
import { field, unstructured } from './headers.js';
import { itemDigest, messageIdFor, parseMessageId } from './message-id.js';
import { provenanceFields } from './provenance.js';
import { compact, openSegments, segmentSize, type Segment } from './segments.js';

export interface MessageSource {
  readonly messageId: string;
  readonly size: number /* exact octets */;
  readonly sentAt: Date;
  readonly itemId: string;
  open(): Readable /* may be called more than once; same bytes each time */;
}

/** Accepts an `ItemResult` with `ok: true` as it is. */
export async function buildMessage(read: { readonly item: Item; readonly origin: ItemOrigin }, ctx: MessageContext): Promise<MessageSource> {
  const { item, origin } = read;
  const parts = parseRfc3339(item.sentAt);
  if (!parts) throw new TypeError(`buildMessage: item ${item.id}: sentAt is not RFC 3339`); // readItems guarantees it
  const built = item.kind === 'eml' ? emlMessage(item, origin, ctx) : jsonMessage(item, origin, ctx);
  const segments = compact(built.segments);
  const size = segments.reduce((n, s) => n + segmentSize(s), 0);
  return Object.freeze({
    messageId: built.messageId,
    size,
    sentAt: toDate(parts),
    itemId: item.id,
    open: () => openSegments(ctx.entries, segments),
  });
}

function emlMessage(item: EmlItem, origin: ItemOrigin, ctx: MessageContext): { messageId: string; segments: (Segment | string)[] } {
  // The id of an .eml with a Message-ID is that header, normalised by the one
  // reader (readItems does so); an item made by other hands is normalised here,
  // so that a MessageSource's messageId is always the form targets compare.
  const messageId = item.hasMessageId ? parseMessageId(item.id) : messageIdFor(ctx.source, item.id);
  if (messageId === undefined) throw new TypeError(`buildMessage: item ${item.id}: its id is not a Message-ID`);
  return { messageId, segments: emlSegments(item, origin, ctx, messageId) };
}

/** §3 Subject: `subject`, else "<type> in <conversation.title>", else "<type> from <from.name>". */
export function subjectOf(item: Item): string {
  if (item.subject) return item.subject;
  if (item.conversation?.title) return `${item.type} in ${item.conversation.title}`;
  const who = item.from.name?.trim() ? item.from.name : (item.from.email ?? item.from.sourceId);
  return `${item.type} from ${who}`;
}

function textPart(contentType: 'text/plain' | 'text/html', text: string): (Segment | string)[] {
  const encoded = encodeText(text);
  return [
    field('Content-Type', `${contentType}; charset=utf-8`) + field('Content-Transfer-Encoding', encoded.encoding) + '\r\n',
    encoded.data,
  ];
}

function attachmentPart(a: Attachment, ctx: MessageContext): (Segment | string)[] {
  const entry = ctx.entryByName.get(a.path);
  if (!entry) throw new TypeError(`buildMessage: no entry "${a.path}" in the container`); // readItems guarantees it
  const type = parseHeaderValue(a.contentType);
  // The file name per RFC 2231 in both places (buildHeaderValue uses continuations
  // for non-ASCII or long names); a name from the media type itself is replaced.
  for (const key of Object.keys(type.params)) if (/^name(\*|$)/i.test(key)) delete type.params[key];
  return [
    field('Content-Type', buildHeaderValue({ value: type.value, params: { ...type.params, name: a.name } })) +
      field('Content-Disposition', buildHeaderValue({ value: 'attachment', params: { filename: a.name } })) +
      field('Content-Transfer-Encoding', 'base64') +
      '\r\n',
    { entry: a.path, size: entry.size, encoding: 'base64' },
  ];
}

/** A multipart body (RFC 2046 §5.1.1): the CRLF before each delimiter belongs to the delimiter. */
function multipart(boundary: string, parts: (Segment | string)[][]): (Segment | string)[] {
  const out: (Segment | string)[] = [];
  parts.forEach((part, i) => out.push(i === 0 ? `--${boundary}\r\n` : `\r\n--${boundary}\r\n`, ...part));
  out.push(`\r\n--${boundary}--\r\n`);
  return out;
}

/** A part: its Content-Type header, then the body; a single text part carries its own headers. */
function withType(contentType: string, body: (Segment | string)[]): (Segment | string)[] {
  return [field('Content-Type', contentType) + '\r\n', ...body];
}

function jsonMessage(item: JsonItem, origin: ItemOrigin, ctx: MessageContext): { messageId: string; segments: (Segment | string)[] } {
  const digest = itemDigest(ctx.source, item.id);
  const messageId = `<${digest}@xip.invalid>`;
  const parts = parseRfc3339(item.sentAt);
  if (!parts) throw new TypeError(`buildMessage: item ${item.id}: sentAt is not RFC 3339`);

  // Boundaries come from the Message-ID, so the same item gives the same bytes.
  // "=_" cannot occur in quoted-printable or base64 output (RFC 2045 §6.7, §6.8),
  // and every part is one or the other, so no body can contain a delimiter.
  const mixed = `=_xip_mixed_${digest}`;
  const alternative = `=_xip_alt_${digest}`;

  const texts: (Segment | string)[][] = [];
  if (item.body?.text !== undefined) texts.push(textPart('text/plain', item.body.text));
  if (item.body?.html !== undefined) texts.push(textPart('text/html', item.body.html));
  if (texts.length === 0 && item.attachments.length === 0) texts.push(textPart('text/plain', ''));

  let body: (Segment | string)[] =
    texts.length === 2 ? withType(`multipart/alternative; boundary="${alternative}"`, multipart(alternative, texts)) : (texts[0] ?? []);
  if (item.attachments.length > 0) {
    const parts = [...(texts.length > 0 ? [body] : []), ...item.attachments.map((a) => attachmentPart(a, ctx))];
    body = withType(`multipart/mixed; boundary="${mixed}"`, multipart(mixed, parts));
  }

  const head =
    provenanceFields(item, origin, ctx) +
    field('Message-ID', messageId) +
    field('Date', formatRfc5322(parts)) +
    addressFields(item.from, item.participants, ctx.source) +
    field('Subject', unstructured(subjectOf(item))) +
    field('MIME-Version', '1.0');
  return { messageId, segments: [head, ...body] };
}
