// From, To and Cc (xip-items.md §3). Addresses are written as the item gives
// them; a non-ASCII address can only be written as UTF-8 (RFC 6532), since
// RFC 2047 encoded-words are not allowed in an addr-spec (RFC 2047 §5 (3)).
//
// A participant without an email is written as `"Name" <sourceId@<source>.invalid>`,
// the second of the two forms §3 allows: it keeps the participant visible
// and distinct in every mail client, where an empty group shows nothing.
// RFC 2606 reserves ".invalid", so the address can never reach anyone.
// A participant with only a name is written as an empty group ("Name:;"),
// the other form; one with nothing at all is not written.
import { createHash } from 'node:crypto';
import type { Participant, Party } from '../items/item.js';
import { field, phrase } from './headers.js';

// RFC 5322 §3.2.3 atext, plus UTF-8 (RFC 6532 §3.2).
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10ffff}]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10ffff}]+)*$/u;
/** RFC 5321 §4.5.3.1.1. */
const MAX_LOCAL_OCTETS = 64;

/**
 * The domain of synthetic addresses: the source as one DNS label (lower-case
 * letters, digits and hyphens, at most 63), under ".invalid".
 */
export function sourceDomain(source: string): string {
  const label = source.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return `${label || 'source'}.invalid`;
}

/**
 * The local part for a sourceId: itself when it is a dot-atom, a quoted-string
 * when it is printable, within 64 octets either way; otherwise "id-" and 32
 * hex digits of its SHA-256, so that it stays deterministic and valid.
 */
export function sourceLocalPart(sourceId: string): string {
  if (Buffer.byteLength(sourceId) <= MAX_LOCAL_OCTETS && DOT_ATOM.test(sourceId)) return sourceId;
  const quoted = `"${sourceId.replace(/["\\]/g, '\\$&')}"`;
  if (Buffer.byteLength(quoted) <= MAX_LOCAL_OCTETS + 2 && !/[\p{Cc}]/u.test(sourceId)) return quoted;
  return `id-${createHash('sha256').update(sourceId, 'utf8').digest('hex').slice(0, 32)}`;
}

/** The address a party is written with, if it has one (its email, else one made from its sourceId). */
export function addressOf(party: Party, source: string): string | undefined {
  if (party.email !== undefined) return party.email;
  if (party.sourceId !== undefined) return `${sourceLocalPart(party.sourceId)}@${sourceDomain(source)}`;
  return undefined;
}

/** One mailbox, or an empty group for a party with only a name; undefined for a party with nothing. */
export function mailbox(party: Party, source: string): string | undefined {
  const address = addressOf(party, source);
  const name = party.name?.trim() ? party.name : undefined;
  if (address === undefined) return name === undefined ? undefined : `${phrase(name)}:;`;
  return name === undefined ? address : `${phrase(name)} <${address}>`;
}

/** From, To and Cc fields: `member` goes to To, `bcc` is not written (§3). */
export function addressFields(from: Party, participants: readonly Participant[], source: string): string {
  let out = field('From', mailbox(from, source) as string); // the item rules guarantee email or sourceId
  const list = (roles: readonly string[]): string[] =>
    participants.filter((p) => roles.includes(p.role)).flatMap((p) => mailbox(p, source) ?? []);
  const to = list(['to', 'member']);
  const cc = list(['cc']);
  if (to.length > 0) out += field('To', to.join(', '));
  if (cc.length > 0) out += field('Cc', cc.join(', '));
  return out;
}
