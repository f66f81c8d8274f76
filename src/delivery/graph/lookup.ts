// Finding messages again by their Message-ID, for copies whose delivery may
// or may not have happened and for a ledger that was lost:
//
// - one: `GET …/mailFolders/{id}/messages?$filter=internetMessageId eq '<…>'`
//   (https://learn.microsoft.com/en-us/graph/api/mailfolder-list-messages and
//   https://learn.microsoft.com/en-us/graph/filter-query-parameter: the value
//   a quoted OData string, its quotes doubled, the whole URL-encoded);
// - all: `GET …/messages?$select=id,internetMessageId&$top=1000`, page by
//   page through @odata.nextLink (https://learn.microsoft.com/en-us/graph/paging).
//
// Graph gives internetMessageId as the header holds it; it is compared in
// the normalised form (message/message-id.ts), as the other targets do.
import { parseMessageId } from '../../message/message-id.js';
import type { GraphApi } from './api.js';
import { expectOk } from './folders.js';

interface MessagePage {
  readonly value?: readonly { readonly id?: unknown; readonly internetMessageId?: unknown }[];
  readonly '@odata.nextLink'?: unknown;
}

/** Adds each message of the page to `into` as normalised Message-ID → id. */
function collect(page: MessagePage, into: Map<string, string>, only?: string): void {
  for (const m of page.value ?? []) {
    if (typeof m.id !== 'string' || typeof m.internetMessageId !== 'string') continue;
    const id = parseMessageId(m.internetMessageId);
    if (id !== undefined && (only === undefined || id === only) && !into.has(id)) into.set(id, m.id);
  }
}

/** The id of the message with this Message-ID in the folder, if any. */
export async function findMessage(api: GraphApi, mailbox: string, folderId: string, messageId: string): Promise<string | undefined> {
  const filter = encodeURIComponent(`internetMessageId eq '${messageId.replaceAll("'", "''")}'`);
  const url = api.userUrl('v1.0', mailbox, `/mailFolders/${encodeURIComponent(folderId)}/messages?$filter=${filter}&$select=id,internetMessageId&$top=10`);
  const found = new Map<string, string>();
  collect(expectOk(await api.get(mailbox, url), `looking up ${messageId} in ${mailbox}`) as MessagePage, found, messageId);
  return found.get(messageId);
}

/** Every message of the folder, page by page; `page` is called to fetch each (so that the caller can retry one page). */
export async function listMessages(api: GraphApi, mailbox: string, folderId: string, fetchPage: (url: string) => Promise<MessagePage>): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  let url: string | undefined = api.userUrl('v1.0', mailbox, `/mailFolders/${encodeURIComponent(folderId)}/messages?$select=id,internetMessageId&$top=1000`);
  while (url !== undefined) {
    const page: MessagePage = await fetchPage(url);
    collect(page, all);
    const next: unknown = page['@odata.nextLink'];
    url = typeof next === 'string' ? next : undefined;
  }
  return all;
}

export async function fetchMessagePage(api: GraphApi, mailbox: string, url: string): Promise<MessagePage> {
  return expectOk(await api.get(mailbox, url), `listing the messages of ${mailbox}`) as MessagePage;
}
