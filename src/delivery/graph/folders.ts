// The folder setting ("Inbox/XIP") as a Graph mail folder id, found or
// created level by level and kept for the run:
//
// - the first part INBOX is the well-known folder `inbox`; any other first
//   part is a child of the mailbox's root, `msgfolderroot`
//   (https://learn.microsoft.com/en-us/graph/api/resources/mailfolder, well-known folder names);
// - a level is found by `GET …/childFolders?$filter=displayName eq '…'`
//   (https://learn.microsoft.com/en-us/graph/api/mailfolder-list-childfolders;
//   OData string literals double their quotes) and created by
//   `POST …/childFolders {"displayName"}` (https://learn.microsoft.com/en-us/graph/api/mailfolder-post-childfolders);
//   a 409 (another run made it in between) is answered by finding it again.
import { DeliveryError } from '../errors.js';
import { folderParts } from '../folder.js';
import type { Answer, GraphApi } from './api.js';

interface FolderList {
  readonly value?: readonly { readonly id?: unknown; readonly displayName?: unknown }[];
}

export class FolderIds {
  readonly #api: GraphApi;
  readonly #known = new Map<string, Promise<string | undefined>>();

  constructor(api: GraphApi) {
    this.#api = api;
  }

  /** The folder's id; undefined when it does not exist and `create` is false. Throws MailboxUnavailable, DeliveryError, HttpFault. */
  resolve(mailbox: string, folder: string, create: boolean): Promise<string | undefined> {
    const key = `${mailbox.toLowerCase()}\n${folder}\n${create}`;
    let id = this.#known.get(key);
    if (!id) {
      id = this.#walk(mailbox, folder, create);
      this.#known.set(key, id);
      // A failure or an absent folder is not kept: the next batch asks again.
      id.then(
        (v) => v === undefined && this.#known.delete(key),
        () => this.#known.delete(key),
      );
    }
    return id;
  }

  /** Forget a folder that turned out to be gone (ErrorItemNotFound). */
  forget(mailbox: string, folder: string): void {
    for (const create of [true, false]) this.#known.delete(`${mailbox.toLowerCase()}\n${folder}\n${create}`);
  }

  async #walk(mailbox: string, folder: string, create: boolean): Promise<string | undefined> {
    const parts = folderParts(folder);
    let parent = parts[0] === 'INBOX' ? 'inbox' : 'msgfolderroot';
    for (const name of parts[0] === 'INBOX' ? parts.slice(1) : parts) {
      const found = (await this.#find(mailbox, parent, name)) ?? (create ? await this.#create(mailbox, parent, name) : undefined);
      if (found === undefined) return undefined;
      parent = found;
    }
    return parent;
  }

  async #find(mailbox: string, parent: string, name: string): Promise<string | undefined> {
    const filter = encodeURIComponent(`displayName eq '${name.replaceAll("'", "''")}'`);
    const answer = await this.#api.get(mailbox, this.#api.userUrl('v1.0', mailbox, `/mailFolders/${encodeURIComponent(parent)}/childFolders?$filter=${filter}&$select=id,displayName`));
    const list = expectOk(answer, `finding the folder "${name}" in ${mailbox}`) as FolderList;
    const hit = list.value?.find((f) => typeof f.displayName === 'string' && f.displayName.toLowerCase() === name.toLowerCase());
    return typeof hit?.id === 'string' ? hit.id : undefined;
  }

  async #create(mailbox: string, parent: string, name: string): Promise<string> {
    const answer = await this.#api.call(mailbox, {
      method: 'POST',
      url: this.#api.userUrl('v1.0', mailbox, `/mailFolders/${encodeURIComponent(parent)}/childFolders`),
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ displayName: name }),
    });
    if (answer.kind === 'error' && answer.status === 409) {
      const found = await this.#find(mailbox, parent, name);
      if (found !== undefined) return found;
    }
    const made = expectOk(answer, `creating the folder "${name}" in ${mailbox}`) as { id?: unknown };
    if (typeof made.id !== 'string') throw new DeliveryError('TARGET_REJECTED', `creating the folder "${name}" in ${mailbox}: the answer held no folder id`);
    return made.id;
  }
}

/** The JSON of a 2xx answer; anything else is a DeliveryError (throttling included: the callers retry on it). */
export function expectOk(answer: Answer, what: string): unknown {
  if (answer.kind === 'ok') return answer.json ?? {};
  if (answer.kind === 'throttled') throw new Throttled(answer.retryAfterMs, `${what}: ${answer.status} ${answer.code}: ${answer.message}`);
  throw new DeliveryError(answer.status >= 500 ? 'TARGET_UNAVAILABLE' : 'TARGET_REJECTED', `${what}: ${answer.status} ${answer.code}: ${answer.message}`);
}

/** A 429 or 503 on a request that is safe to repeat (a read, a folder): wait as told and ask again. */
export class Throttled extends Error {
  constructor(
    readonly retryAfterMs: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'Throttled';
  }
}
