// Whose mailboxes get a copy of an item (xip-items.md §4).
//
// The participants are `from`, each of `participants` (bcc included: a bcc
// recipient is a party to the communication even though §3 keeps it out of
// the headers), and every address of `Email` that is not already one of
// theirs: `Email` is "the email address of every participant" (§2), so an
// address in it that belongs to a participant is that participant, who is
// mapped once, custom mapping first. Otherwise a participant mapped by
// sourceId would get a second mailbox through its own email address.
import { XipError } from '../errors.js';
import type { Item, Party } from '../items/item.js';
import { addressKey, type Directory, type DirectoryMailbox } from './directory.js';
import type { Mapping } from './mapping.js';

export interface MappingOptions {
  readonly directory: Directory;
  readonly mapping?: Mapping | undefined;
  /** Receives an item that maps to no mailbox at all; must be an address or alias of the directory. */
  readonly catchAll?: string | undefined;
  /** Import only into mailboxes of users on litigation hold (§4); the others are skipped and reported. */
  readonly holdOnly: boolean;
}

/** A participant that maps to no mailbox (outside the organisation, or missing from the directory). */
export interface Unmapped {
  readonly sourceId?: string;
  readonly email?: string;
  /** Only for a participant with neither sourceId nor email, so that the log can still name it. */
  readonly name?: string;
}

export interface MailboxResolution {
  /** Distinct canonical addresses of the directory, in first-seen order: one copy each. */
  readonly mailboxes: string[];
  /** Participants that map to no mailbox, each once. */
  readonly unmapped: Unmapped[];
  /** With holdOnly: mailboxes the item maps to that were dropped because their user is not on hold. */
  readonly skippedNotOnHold: string[];
  /** True when the item mapped to no mailbox at all and went to the catch-all mailbox. */
  readonly catchAll: boolean;
}

/**
 * Options checked once at start-up and frozen: the catch-all mailbox must be
 * in the directory and becomes its canonical address. Throws MAPPING_INVALID.
 */
export function mappingOptions(input: { directory: Directory; mapping?: Mapping | undefined; catchAll?: string | undefined; holdOnly?: boolean | undefined }): MappingOptions {
  const catchAll = input.catchAll === undefined ? undefined : catchAllMailbox(input.directory, input.catchAll).address;
  return Object.freeze({ directory: input.directory, mapping: input.mapping, catchAll, holdOnly: input.holdOnly ?? false });
}

function catchAllMailbox(directory: Directory, address: string): DirectoryMailbox {
  const mailbox = directory.find(address);
  if (mailbox === undefined) throw new XipError('MAPPING_INVALID', `the catch-all mailbox "${address}" is not an address or alias of the directory`);
  return mailbox;
}

export function resolveMailboxes(item: Item, options: MappingOptions): MailboxResolution {
  const { directory, mapping, holdOnly } = options;
  const parties: Party[] = [item.from, ...item.participants];
  const partyEmails = new Set(parties.flatMap((p) => (p.email === undefined ? [] : [addressKey(p.email)])));
  for (const email of item.Email) {
    const key = addressKey(email);
    if (partyEmails.has(key)) continue;
    partyEmails.add(key);
    parties.push({ email });
  }

  const mailboxes: string[] = [];
  const skippedNotOnHold: string[] = [];
  const seenMailboxes = new Set<string>();
  const unmapped: Unmapped[] = [];
  const seenUnmapped = new Set<string>();

  for (const party of parties) {
    const mailbox =
      (party.sourceId === undefined ? undefined : mapping?.find(party.sourceId)) ??
      (party.email === undefined ? undefined : directory.find(party.email));
    if (mailbox !== undefined) {
      if (seenMailboxes.has(mailbox.address)) continue;
      seenMailboxes.add(mailbox.address);
      (holdOnly && !mailbox.litigationHold ? skippedNotOnHold : mailboxes).push(mailbox.address);
      continue;
    }
    const entry = unmappedEntry(party);
    if (entry === undefined) continue;
    const key = `${entry.sourceId ?? ''}\0${entry.email === undefined ? '' : addressKey(entry.email)}\0${entry.name ?? ''}`;
    if (seenUnmapped.has(key)) continue;
    seenUnmapped.add(key);
    unmapped.push(entry);
  }

  // The catch-all is for items that reach no one in the organisation, not for
  // those that reach only users off hold: those were found and deliberately
  // skipped. It is itself never skipped for hold: it is the connector's own
  // mailbox, named for exactly these items.
  if (seenMailboxes.size === 0 && options.catchAll !== undefined) {
    return { mailboxes: [catchAllMailbox(directory, options.catchAll).address], unmapped, skippedNotOnHold, catchAll: true };
  }
  return { mailboxes, unmapped, skippedNotOnHold, catchAll: false };
}

function unmappedEntry(party: Party): Unmapped | undefined {
  if (party.sourceId === undefined && party.email === undefined) {
    return party.name === undefined || party.name.trim() === '' ? undefined : { name: party.name };
  }
  return {
    ...(party.sourceId === undefined ? {} : { sourceId: party.sourceId }),
    ...(party.email === undefined ? {} : { email: party.email }),
  };
}
