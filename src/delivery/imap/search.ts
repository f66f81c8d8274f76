// Which of some Message-IDs are in the selected folder: UID SEARCH HEADER
// Message-ID (RFC 9051 §6.4.4), many IDs per command as a balanced tree of ORs
// (imapflow builds it), then UID FETCH of the matches' Message-ID header,
// because HEADER matches substrings and a search result does not say which ID
// matched.
import type { ImapFlow } from 'imapflow';
import { DeliveryError } from '../errors.js';
import { messageIdOf } from '../message-id.js';

/** IDs per SEARCH: keeps each command short while saving round trips. */
export const SEARCH_GROUP = 64;

/** The lowest UID holding each Message-ID found. */
export async function searchMessageIds(client: ImapFlow, messageIds: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const unique = [...new Set(messageIds)];
  for (let start = 0; start < unique.length; start += SEARCH_GROUP) {
    const group = unique.slice(start, start + SEARCH_GROUP);
    const terms = group.map((id) => ({ header: { 'message-id': id } }));
    const uids = await client.search(terms.length === 1 ? terms[0]! : { or: terms }, { uid: true });
    if (uids === false || uids === undefined) {
      throw new DeliveryError('TARGET_REJECTED', 'the server refused UID SEARCH HEADER Message-ID, so what a folder holds cannot be known');
    }
    if (uids.length === 0) continue;
    const wanted = new Set(group);
    for await (const msg of client.fetch(uids.join(','), { uid: true, headers: ['message-id'] }, { uid: true })) {
      const id = msg.headers ? messageIdOf(msg.headers.toString('latin1')) : undefined;
      if (id === undefined || !wanted.has(id)) continue;
      const prior = found.get(id);
      if (prior === undefined || msg.uid < prior) found.set(id, msg.uid);
    }
  }
  return found;
}

/** The lowest UID of every Message-ID in the selected folder: one UID FETCH 1:* of that header. */
export async function listMessageIds(client: ImapFlow): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (!client.mailbox || client.mailbox.exists === 0) return found;
  for await (const msg of client.fetch('1:*', { uid: true, headers: ['message-id'] })) {
    const id = msg.headers ? messageIdOf(msg.headers.toString('latin1')) : undefined;
    if (id === undefined) continue;
    const prior = found.get(id);
    if (prior === undefined || msg.uid < prior) found.set(id, msg.uid);
  }
  return found;
}
