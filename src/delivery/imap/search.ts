// Which of some Message-IDs are in the selected folder: UID SEARCH HEADER
// Message-ID (RFC 9051 §6.4.4), many IDs per command as a balanced tree of ORs
// (imapflow builds it), then UID FETCH of the matches' Message-ID header,
// because HEADER matches substrings and a search result does not say which ID
// matched. The search is by what the stored header holds ("id-left@id-right",
// with or without brackets, comments or folding around it), and the header
// fetched is read by the one Message-ID reader, the one that gave the item its
// id: so a copy is found whatever the form its header was written in.
import type { ImapFlow } from 'imapflow';
import { messageIdOfHeader, messageIdSearchText, parseMessageId } from '../../message/message-id.js';
import { DeliveryError } from '../errors.js';

/** IDs per SEARCH: keeps each command short while saving round trips. */
export const SEARCH_GROUP = 64;

/** The lowest UID holding each Message-ID found. */
export async function searchMessageIds(client: ImapFlow, messageIds: readonly string[]): Promise<Map<string, number>> {
  // Messages carry normalised ids; one that is not a Message-ID at all cannot be in a folder.
  const asked = new Map<string, string[]>(); // normalised -> the ids asked for, as given
  for (const id of messageIds) {
    const normal = parseMessageId(id);
    if (normal === undefined) continue;
    const given = asked.get(normal);
    if (!given) asked.set(normal, [id]);
    else if (!given.includes(id)) given.push(id);
  }
  const found = new Map<string, number>();
  const unique = [...asked.keys()];
  for (let start = 0; start < unique.length; start += SEARCH_GROUP) {
    const group = unique.slice(start, start + SEARCH_GROUP);
    const terms = group.map((id) => ({ header: { 'message-id': messageIdSearchText(id) } }));
    const uids = await client.search(terms.length === 1 ? terms[0]! : { or: terms }, { uid: true });
    if (uids === false || uids === undefined) {
      throw new DeliveryError('TARGET_REJECTED', 'the server refused UID SEARCH HEADER Message-ID, so what a folder holds cannot be known');
    }
    if (uids.length === 0) continue;
    const wanted = new Set(group);
    for await (const msg of client.fetch(uids.join(','), { uid: true, headers: ['message-id'] }, { uid: true })) {
      const id = idOf(msg.headers);
      if (id === undefined || !wanted.has(id)) continue;
      for (const given of asked.get(id)!) {
        const prior = found.get(given);
        if (prior === undefined || msg.uid < prior) found.set(given, msg.uid);
      }
    }
  }
  return found;
}

/** Decoded as UTF-8, as items/eml.ts decodes an .eml's header (RFC 6532), so that both read the same id. */
function idOf(header: Buffer | undefined): string | undefined {
  return header ? messageIdOfHeader(header.toString('utf8')) : undefined;
}

/** The lowest UID of every Message-ID in the selected folder: one UID FETCH 1:* of that header. */
export async function listMessageIds(client: ImapFlow): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (!client.mailbox || client.mailbox.exists === 0) return found;
  for await (const msg of client.fetch('1:*', { uid: true, headers: ['message-id'] })) {
    const id = idOf(msg.headers);
    if (id === undefined) continue;
    const prior = found.get(id);
    if (prior === undefined || msg.uid < prior) found.set(id, msg.uid);
  }
  return found;
}
