// The item rules of xip-items.md §2 as a zod schema. Every message names the
// field and the rule ("sentAt: must be RFC 3339 with an offset") because it is
// what the run's log shows for an item that is not imported.
import { z } from 'zod';
import { detectMimeType } from 'nodemailer/lib/mime-funcs';
import { parseRfc3339 } from './dates.js';
import type { Attachment, JsonItem, Participant } from './item.js';
import { objectInOrder, orderedKeys, type JsonValue } from './json.js';

const BUILT_IN_TYPES = new Set(['message', 'chat.message', 'post', 'comment', 'document', 'call', 'meeting']);
const DOTTED_TYPE = /^[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)+$/u;
// type "/" subtype, optionally with parameters (RFC 2045 §5.1 tokens). Names
// are at most 127 characters (RFC 6838 §4.2 for type and subtype; the same
// for parameter names): a longer one could not be folded into a header line
// of 998 octets, and the message could not be written.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,127}";
const VALUE_TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:\\s*;\\s*${TOKEN}=(?:${VALUE_TOKEN}|"(?:[^"\\\\\\r\\n]|\\\\.)*"))*$`);
// An addr-spec as far as the message needs it: a local part and a domain with
// no whitespace, control character or RFC 5322 special, UTF-8 allowed (RFC 6532).
const EMAIL = /^[^\p{Cc}\s@<>()[\]\\,;:"]+@[^\p{Cc}\s@<>()[\]\\,;:"]+$/u;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254. */
const MAX_EMAIL_OCTETS = 254;

export const KNOWN_FIELDS = new Set([
  'id', 'type', 'sentAt', 'from', 'participants', 'Email', 'conversation', 'subject', 'body', 'attachments', 'properties',
]);

export function isEmailAddress(value: string): boolean {
  return EMAIL.test(value) && Buffer.byteLength(value) <= MAX_EMAIL_OCTETS;
}

/** `null` is read as absent: exporters commonly write `"subject": null` for a missing field. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null ? undefined : v), schema.optional());
}

const required = (what: string) => (iss: { input: unknown }) => (iss.input === undefined ? 'is required' : `must be ${what}`);

const text = () => z.string({ error: required('a string') });
const nonEmpty = () => text().min(1, { error: 'must not be empty' });
const email = () => text().refine(isEmailAddress, { error: 'must be an email address (local@domain, at most 254 octets)' });

const party = {
  name: optional(text()),
  email: optional(email()),
  sourceId: optional(nonEmpty()),
};

const fromSchema = z
  .object(party, { error: required('an object') })
  .refine((f) => f.email !== undefined || f.sourceId !== undefined, { error: 'must have email or sourceId' });

const participantSchema = z.object(
  {
    ...party,
    role: z.preprocess(
      (v) => (v === null || v === undefined ? 'member' : v),
      z.enum(['to', 'cc', 'bcc', 'member'], { error: 'must be to, cc, bcc or member' }),
    ),
  },
  { error: required('an object') },
);

const attachmentSchema = z.object(
  {
    path: nonEmpty(),
    name: optional(nonEmpty()),
    contentType: optional(text().regex(MEDIA_TYPE, { error: 'must be a media type such as "application/pdf"' })),
  },
  { error: required('an object') },
);

export const itemSchema = z.object({
  id: nonEmpty(),
  type: text().refine((t) => BUILT_IN_TYPES.has(t) || DOTTED_TYPE.test(t), {
    error: 'must be message, chat.message, post, comment, document, call, meeting or a dotted custom kind',
  }),
  sentAt: text().refine((s) => parseRfc3339(s) !== undefined, { error: 'must be RFC 3339 with an offset' }),
  from: fromSchema,
  participants: optional(z.array(participantSchema, { error: 'must be a list' })),
  Email: optional(z.union([email(), z.array(email(), { error: 'must be a list' })], { error: 'must be a string or a list of strings' })),
  conversation: optional(z.object({ id: optional(text()), title: optional(text()) }, { error: 'must be an object' })),
  subject: optional(text()),
  body: optional(
    z
      .object({ text: optional(text()), html: optional(text()) }, { error: 'must be an object' })
      .refine((b) => b.text !== undefined || b.html !== undefined, { error: 'must have text and/or html' }),
  ),
  attachments: optional(z.array(attachmentSchema, { error: 'must be a list' })),
  // Not z.record: it copies the object by assignment, which drops a
  // "__proto__" key and the order of the keys; the object is kept as read.
  properties: optional(z.custom<Record<string, JsonValue>>(isPlainObject, { error: 'must be an object' })),
});

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || 'item';
}

/** A JSON object: not an array, and not a number kept as its text (a JsonNumber). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export type Validation = { ok: true; item: JsonItem } | { ok: false; message: string; id?: string | undefined };

/**
 * Checks one parsed JSON value against §2 and normalises it. Unknown top-level
 * fields join `properties`; a field of `properties` of the same name wins over
 * them (it is the one the source declared as a property). Unknown fields inside
 * the known objects are dropped.
 */
export function validateItem(value: unknown): Validation {
  if (!isPlainObject(value)) return { ok: false, message: 'item: must be a JSON object' };
  const id = typeof value.id === 'string' && value.id !== '' ? value.id : undefined;
  // Split by entries, not by assigning `unknown[key]`: a top-level "__proto__"
  // would set the prototype of `unknown` instead of becoming a property.
  const known: Record<string, unknown> = {};
  const unknown: [string, unknown][] = [];
  for (const key of orderedKeys(value)) {
    if (KNOWN_FIELDS.has(key)) known[key] = value[key];
    else unknown.push([key, value[key]]);
  }

  const parsed = itemSchema.safeParse(known);
  if (!parsed.success) {
    const message = parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
    return { ok: false, message, id };
  }
  const v = parsed.data;
  const participants: Participant[] = (v.participants ?? []).map((p) => ({
    name: p.name, email: p.email, sourceId: p.sourceId, role: p.role,
  }));
  const attachments: Attachment[] = (v.attachments ?? []).map((a) => {
    const name = a.name ?? a.path.slice(a.path.lastIndexOf('/') + 1);
    return { path: a.path, name, contentType: a.contentType ?? detectMimeType(name) };
  });
  return {
    ok: true,
    item: {
      kind: 'json',
      id: v.id,
      type: v.type,
      sentAt: v.sentAt,
      from: { name: v.from.name, email: v.from.email, sourceId: v.from.sourceId },
      participants,
      Email: v.Email === undefined ? derivedEmail(v.from.email, participants) : typeof v.Email === 'string' ? [v.Email] : v.Email,
      conversation: v.conversation,
      subject: v.subject,
      body: v.body,
      attachments,
      properties: mergedProperties(unknown, v.properties),
    },
  };
}

/**
 * §2: the unknown top-level fields, then `properties` (whose value wins for a
 * name in both), each key in the order it came, "__proto__" kept as a key.
 */
function mergedProperties(unknown: readonly [string, unknown][], properties: Record<string, JsonValue> | undefined): Record<string, JsonValue> {
  if (unknown.length === 0 && properties !== undefined) return properties;
  const declared: [string, unknown][] = properties === undefined ? [] : orderedKeys(properties).map((k) => [k, properties[k]]);
  return objectInOrder([...unknown, ...declared]) as Record<string, JsonValue>;
}

/** §2: when absent, `Email` is the email of `from` and of each participant (each address once). */
export function derivedEmail(fromEmail: string | undefined, participants: readonly { email?: string | undefined }[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const address of [fromEmail, ...participants.map((p) => p.email)]) {
    if (address === undefined || seen.has(address.toLowerCase())) continue;
    seen.add(address.toLowerCase());
    out.push(address);
  }
  return out;
}

/** The attachment paths an item names, read leniently from raw JSON so that unused-entry reporting counts items that failed other rules. */
export function namedPaths(value: unknown): string[] {
  if (!isPlainObject(value) || !Array.isArray(value.attachments)) return [];
  return value.attachments.flatMap((a: unknown) => (isPlainObject(a) && typeof a.path === 'string' ? [a.path] : []));
}
