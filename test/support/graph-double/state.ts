// The mailboxes a contract double of Microsoft Graph holds: users (the
// directory), their folders and their messages, in memory.
//
// What the folders look like follows the mailFolder resource
// (https://learn.microsoft.com/en-us/graph/api/resources/mailfolder): every
// mailbox has the well-known folders of that page's table, reachable by their
// well-known name (case-insensitive) as well as by id; `msgfolderroot` ("Top of
// Information Store") is the parent of the others. Ids are opaque strings
// shaped like Exchange's (about 100 characters of base64url text starting
// "AAMkA", ending "="); clients must not read anything into them.
//
// Decision where the docs are silent: folder names are compared without
// regard to case (Exchange refuses "xip" next to "XIP" as ErrorFolderExists,
// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode
// "Duplicate folder names are not allowed"), and so is `displayName eq '…'`.
import { randomBytes, randomUUID } from 'node:crypto';

export interface MailboxSpec {
  readonly address: string;
  readonly displayName?: string;
  /** `SMTP:` (primary) / `smtp:` prefixed, as the user resource's proxyAddresses; default [`SMTP:${address}`]. */
  readonly proxyAddresses?: readonly string[];
  /** false: a user without an Exchange Online mailbox (default true). */
  readonly mailboxEnabled?: boolean;
}

export interface Recipient {
  readonly emailAddress: { readonly name: string; readonly address: string };
}

export interface StoredMessage {
  readonly id: string;
  readonly internetMessageId: string | undefined;
  readonly isDraft: boolean;
  readonly isRead: boolean;
  readonly parentFolderId: string;
  /** The decoded MIME octets, exactly as received. */
  readonly mime: Buffer;
  readonly createdDateTime: string;
  readonly receivedDateTime: string;
  readonly sentDateTime: string;
  readonly subject: string;
  readonly from: Recipient | undefined;
  readonly toRecipients: readonly Recipient[];
  readonly ccRecipients: readonly Recipient[];
  readonly hasAttachments: boolean;
  readonly changeKey: string;
  readonly conversationId: string;
}

export interface Folder {
  readonly id: string;
  readonly displayName: string;
  readonly parentFolderId: string;
  readonly wellKnownName: string | undefined;
  readonly isHidden: boolean;
  readonly children: Folder[];
  /** Oldest first; listings answer newest first. */
  readonly messages: StoredMessage[];
  /** internetMessageId → messages with it (a mailbox may hold duplicates). */
  readonly byMessageId: Map<string, StoredMessage[]>;
}

export interface Mailbox {
  /** The directory object id (a GUID). */
  readonly id: string;
  /** The userPrincipalName, also the key of stats(). */
  readonly address: string;
  readonly displayName: string;
  readonly proxyAddresses: readonly string[];
  readonly mailboxEnabled: boolean;
  readonly root: Folder;
  readonly folders: Map<string, Folder>;
  readonly wellKnown: Map<string, Folder>;
  /** Prefix of this mailbox's item ids (Exchange's ids embed the mailbox). */
  readonly idStem: string;
  counter: number;
}

/** Well-known folders (mailFolder resource, "Well-known folder names") with the display names Exchange Online gives them in English. */
const WELL_KNOWN: readonly (readonly [string, string])[] = [
  ['inbox', 'Inbox'],
  ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['junkemail', 'Junk Email'],
  ['outbox', 'Outbox'],
  ['archive', 'Archive'],
  ['conversationhistory', 'Conversation History'],
];

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function newFolder(mb: Mailbox, parentFolderId: string, displayName: string, wellKnownName?: string, isHidden = false): Folder {
  const folder: Folder = { id: itemId(mb, 1), displayName, parentFolderId, wellKnownName, isHidden, children: [], messages: [], byMessageId: new Map() };
  mb.folders.set(folder.id, folder);
  if (wellKnownName) mb.wellKnown.set(wellKnownName, folder);
  return folder;
}

/** An Exchange-shaped opaque id (about 100 characters): "AAMkA" + base64url(mailbox GUID text, kind, counter, random) + "AAA=". */
export function itemId(mb: Mailbox, kind: number): string {
  const tail = Buffer.alloc(30);
  tail.writeUInt8(0x2e, 1);
  tail.writeUInt8(kind, 7);
  tail.writeUIntBE(mb.counter++, 8, 6);
  randomBytes(16).copy(tail, 14);
  return `AAMkA${mb.idStem}${tail.toString('base64url')}AAA=`;
}

export function newMailbox(spec: MailboxSpec): Mailbox {
  const address = spec.address.trim();
  if (!/^[^@\s]+@[^@\s]+$/.test(address)) throw new TypeError(`graph double: mailbox address "${spec.address}" is not an address`);
  const proxies = spec.proxyAddresses ?? [`SMTP:${address}`];
  // Other address types (X500:, SIP:, …) are listed too, as in a real tenant; only smtp: ones address the mailbox.
  for (const p of proxies) if (!/^smtp:[^@\s]+@[^@\s]+$/i.test(p) && !/^(?!smtp:)[A-Za-z0-9]+:\S+$/i.test(p)) throw new TypeError(`graph double: proxy address "${p}" must be TYPE:value (smtp:/SMTP: for addresses)`);
  const id = randomUUID();
  const mb: Mailbox = {
    id,
    address,
    displayName: spec.displayName ?? address.split('@')[0]!,
    proxyAddresses: [...proxies],
    mailboxEnabled: spec.mailboxEnabled ?? true,
    root: undefined as unknown as Folder,
    folders: new Map(),
    wellKnown: new Map(),
    idStem: Buffer.from(id, 'latin1').toString('base64url'),
    counter: 1,
  };
  const root = newFolder(mb, itemId(mb, 0), 'Top of Information Store', 'msgfolderroot');
  (mb as { root: Folder }).root = root;
  for (const [name, display] of WELL_KNOWN) root.children.push(newFolder(mb, root.id, display, name));
  return mb;
}

/** The primary SMTP address: the `SMTP:` proxy, else the address. */
export function primarySmtp(mb: Mailbox): string {
  const primary = mb.proxyAddresses.find((p) => p.startsWith('SMTP:'));
  return primary ? primary.slice(5) : mb.address;
}

/** The folder a URL names: an id, or a well-known name in any case. */
export function folderById(mb: Mailbox, idOrName: string): Folder | undefined {
  return mb.folders.get(idOrName) ?? mb.wellKnown.get(idOrName.toLowerCase());
}

export function childNamed(parent: Folder, name: string): Folder | undefined {
  return parent.children.find((f) => sameName(f.displayName, name));
}

/** A child folder; 'exists' when the parent already has one of that name. */
export function addChildFolder(mb: Mailbox, parent: Folder, displayName: string, isHidden: boolean): Folder | 'exists' {
  if (childNamed(parent, displayName)) return 'exists';
  const folder = newFolder(mb, parent.id, displayName, undefined, isHidden);
  parent.children.push(folder);
  return folder;
}

/** The folder at `path` ('Inbox/XIP', display names from the root); created level by level when `create`. */
export function folderByPath(mb: Mailbox, path: string, create: boolean): Folder | undefined {
  let folder = mb.root;
  for (const name of path.split('/').filter((s) => s.length > 0)) {
    const next = childNamed(folder, name) ?? (create ? (addChildFolder(mb, folder, name, false) as Folder) : undefined);
    if (!next) return undefined;
    folder = next;
  }
  return folder;
}

export function storeMessage(folder: Folder, message: StoredMessage): void {
  folder.messages.push(message);
  if (message.internetMessageId !== undefined) {
    const same = folder.byMessageId.get(message.internetMessageId);
    if (same) same.push(message);
    else folder.byMessageId.set(message.internetMessageId, [message]);
  }
}

/** The users of the tenant, found by id, userPrincipalName or (for mail) any proxy address, all without regard to case. */
export class Directory {
  readonly #list: Mailbox[] = [];
  readonly #byKey = new Map<string, Mailbox>();
  readonly #byUpn = new Map<string, Mailbox>();

  add(spec: string | MailboxSpec): Mailbox {
    const mb = newMailbox(typeof spec === 'string' ? { address: spec } : spec);
    const keys = [mb.id, mb.address, ...mb.proxyAddresses.filter((p) => /^smtp:/i.test(p)).map((p) => p.slice(5))].map((k) => k.toLowerCase());
    for (const k of keys) {
      const holder = this.#byKey.get(k);
      if (holder) throw new Error(`graph double: ${k} is already ${holder.address}'s`);
    }
    for (const k of keys) this.#byKey.set(k, mb);
    this.#byUpn.set(mb.address.toLowerCase(), mb);
    this.#byUpn.set(mb.id, mb);
    this.#list.push(mb);
    return mb;
  }

  remove(address: string): boolean {
    const mb = this.#byUpn.get(address.toLowerCase());
    if (!mb) return false;
    for (const [k, v] of this.#byKey) if (v === mb) this.#byKey.delete(k);
    this.#byUpn.delete(mb.address.toLowerCase());
    this.#byUpn.delete(mb.id);
    this.#list.splice(this.#list.indexOf(mb), 1);
    return true;
  }

  /** For mail routes: id, userPrincipalName or an SMTP proxy address. */
  forMail(key: string): Mailbox | undefined {
    return this.#byKey.get(key.toLowerCase());
  }

  /** For the directory (/users/{id | userPrincipalName}): id or userPrincipalName only. */
  forDirectory(key: string): Mailbox | undefined {
    return this.#byUpn.get(key.toLowerCase());
  }

  get all(): readonly Mailbox[] {
    return this.#list;
  }
}
