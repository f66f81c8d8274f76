// The mail resources of a contract double of Microsoft Graph: folders, the
// messages of a folder, and importMime.
//
// Folders (v1.0 and beta):
// - GET …/mailFolders/{id | well-known name},
//   https://learn.microsoft.com/en-us/graph/api/mailfolder-get; names per
//   https://learn.microsoft.com/en-us/graph/api/resources/mailfolder
//   ("Well-known folder names"). Unknown: 404 ErrorItemNotFound.
// - GET …/mailFolders and …/mailFolders/{id}/childFolders,
//   https://learn.microsoft.com/en-us/graph/api/user-list-mailfolders and
//   https://learn.microsoft.com/en-us/graph/api/mailfolder-list-childfolders:
//   hidden folders only with includeHiddenFolders=true; $filter displayName
//   eq '…', $select, $top, paging by @odata.nextLink (odata.ts). Decision:
//   a page is 10 folders unless $top says (Outlook's default), $top ≤ 1000.
// - POST …/mailFolders and …/childFolders {"displayName","isHidden"?},
//   https://learn.microsoft.com/en-us/graph/api/mailfolder-post-childfolders
//   and https://learn.microsoft.com/en-us/graph/api/user-post-mailfolders:
//   201 Created and the mailFolder. A name the parent already has: 409
//   ErrorFolderExists "A folder with the specified name already exists." —
//   the code is Exchange's, https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode
//   ("an attempt is made to create a folder that has the same name as another
//   folder in the same parent"); the 409 status is what the service is
//   publicly seen answering (the Graph page does not say).
//
// Messages (v1.0): GET …/mailFolders/{id}/messages,
// https://learn.microsoft.com/en-us/graph/api/mailfolder-list-messages and
// https://learn.microsoft.com/en-us/graph/api/user-list-messages: page of 10
// by default, $top from 1 to 1000, newest first, pages by @odata.nextLink with
// $skip; $filter internetMessageId eq '<…>' (the property,
// https://learn.microsoft.com/en-us/graph/api/resources/message: "The message
// ID in the format specified by RFC2822"), matched exactly as stored.
//
// importMime (beta): POST …/mailFolders/{id}/importMime,
// https://learn.microsoft.com/en-us/graph/api/mailfolder-importmime?view=graph-rest-beta:
// Content-Type text/plain, the body the whole MIME message in base64 and
// nothing else; "a non-draft message … as if it was delivered"; 201 Created
// and the message, isDraft false. The decoded octets are stored exactly.
// Errors:
// - body not base64: 400 ErrorMimeContentInvalidBase64String "Invalid base64
//   string for MIME content." (the text the MIME-taking message APIs document,
//   https://learn.microsoft.com/en-us/graph/api/user-post-messages; the code is
//   Exchange's for it, responsecode page above); empty: 400 ErrorMimeContentInvalid.
// - Content-Type not text/plain: 415 (https://learn.microsoft.com/en-us/graph/errors
//   "The content type of the request is a format that is not supported").
// - decoded message larger than the mailbox's own limit (Exchange Online's
//   default 35 MB, https://learn.microsoft.com/en-us/graph/api/attachment-createuploadsession
//   "By default, this message size limit is 35 MB"): 413
//   ErrorMessageSizeExceeded "The message exceeds the maximum supported size."
//   (Exchange's code, "the message … exceeds the allowed limits").
// Decisions where the page is silent: isRead false (delivered mail is
// unread); receivedDateTime the time of the import; sentDateTime the Date
// field (else the import time); no Message-ID field: internetMessageId null.
// Permissions (Mail-Advanced.ReadWrite.All, Mail.ReadWrite) are not modelled:
// any valid Graph token may call every route.
import { randomBytes } from 'node:crypto';
import { addChildFolder, itemId, storeMessage, type Folder, type Mailbox, type StoredMessage } from './state.js';
import { graphDate, summarize } from './mime.js';
import { eqFilter, intOption, nextLink, option, project, selected } from './odata.js';
import { graphError, sendJson } from './respond.js';
import type { GraphContext, MailRequest } from './graph.js';

export function folderJson(f: Folder): Record<string, unknown> {
  return {
    id: f.id,
    displayName: f.displayName,
    parentFolderId: f.parentFolderId,
    childFolderCount: f.children.length,
    unreadItemCount: f.messages.reduce((n, m) => n + (m.isRead ? 0 : 1), 0),
    totalItemCount: f.messages.length,
    sizeInBytes: f.messages.reduce((n, m) => n + m.mime.length, 0),
    isHidden: f.isHidden,
  };
}

export function messageJson(m: StoredMessage): Record<string, unknown> {
  return {
    '@odata.etag': `W/"${m.changeKey}"`,
    id: m.id,
    createdDateTime: m.createdDateTime,
    lastModifiedDateTime: m.createdDateTime,
    changeKey: m.changeKey,
    categories: [],
    receivedDateTime: m.receivedDateTime,
    sentDateTime: m.sentDateTime,
    hasAttachments: m.hasAttachments,
    internetMessageId: m.internetMessageId ?? null,
    subject: m.subject,
    importance: 'normal',
    parentFolderId: m.parentFolderId,
    conversationId: m.conversationId,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: m.isRead,
    isDraft: m.isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(m.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: 'focused',
    sender: m.from ?? null,
    from: m.from ?? null,
    toRecipients: m.toRecipients,
    ccRecipients: m.ccRecipients,
    bccRecipients: [],
    replyTo: [],
    flag: { flagStatus: 'notFlagged' },
  };
}

function context(ctx: GraphContext, r: MailRequest, tail: string): string {
  return `${ctx.url}/${r.version}/$metadata#users('${encodeURIComponent(r.userSegment)}')/${tail}`;
}

/** A folder named in a URL, or the 404 already sent. */
export function folderOr404(r: MailRequest, idOrName: string): Folder | undefined {
  const f = r.mailbox.folders.get(idOrName) ?? r.mailbox.wellKnown.get(idOrName.toLowerCase());
  if (!f) graphError(r.x, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
  return f;
}

export function getFolder(ctx: GraphContext, r: MailRequest, folder: Folder): void {
  sendJson(r.x, 200, { '@odata.context': context(ctx, r, 'mailFolders/$entity'), ...project(folderJson(folder), selected(r.query)) });
}

/** A page of `items` (newest or first as given) with $top/$skip, or the 400 already sent. */
function page<T>(ctx: GraphContext, r: MailRequest, items: readonly T[], max: number): { items: T[]; next?: string } | undefined {
  const top = intOption(r.query, 'top', max);
  if (top === 'invalid' || top === 0) {
    graphError(r.x, 400, 'ErrorInvalidUrlQuery', `The value of the query parameter '$top' is invalid: it must be a whole number from 1 to ${max}.`);
    return undefined;
  }
  const skip = intOption(r.query, 'skip', Number.MAX_SAFE_INTEGER);
  if (skip === 'invalid') {
    graphError(r.x, 400, 'ErrorInvalidUrlQuery', "The value of the query parameter '$skip' is invalid.");
    return undefined;
  }
  const from = skip ?? 0;
  const size = top ?? 10;
  const slice = items.slice(from, from + size);
  return from + size < items.length ? { items: slice, next: nextLink(ctx.url, r.pathname, r.query, '$skip', String(from + size)) } : { items: slice };
}

export function listFolders(ctx: GraphContext, r: MailRequest, parent: Folder): void {
  const filter = eqFilter(r.query);
  if (filter === 'invalid' || (filter && filter.property.toLowerCase() !== 'displayname')) return graphError(r.x, 400, 'BadRequest', `Invalid filter clause: ${option(r.query, 'filter')}`);
  const hidden = /^true$/i.test(option(r.query, 'includeHiddenFolders') ?? '');
  const folders = parent.children.filter((f) => (hidden || !f.isHidden) && (!filter || f.displayName.toLowerCase() === filter.value.toLowerCase()));
  const p = page(ctx, r, folders, 1000);
  if (!p) return;
  const select = selected(r.query);
  const body: Record<string, unknown> = { '@odata.context': context(ctx, r, parent === r.mailbox.root ? 'mailFolders' : `mailFolders('${parent.id}')/childFolders`) };
  if (p.next) body['@odata.nextLink'] = p.next;
  body.value = p.items.map((f) => project(folderJson(f), select));
  sendJson(r.x, 200, body);
}

export function createFolder(ctx: GraphContext, r: MailRequest, parent: Folder, body: Buffer): void {
  if (!/^application\/json\b/i.test(r.x.req.headers['content-type'] ?? '')) return graphError(r.x, 415, 'UnsupportedMediaType', 'A mailFolder is created from application/json.');
  let spec: unknown;
  try {
    spec = JSON.parse(body.toString('utf8'));
  } catch {
    return graphError(r.x, 400, 'BadRequest', 'Invalid JSON in the request body.');
  }
  const { displayName, isHidden } = (spec ?? {}) as { displayName?: unknown; isHidden?: unknown };
  if (typeof displayName !== 'string' || displayName.trim() === '') return graphError(r.x, 400, 'ErrorInvalidArgument', "The property 'displayName' is required and must be a non-empty string.");
  if (isHidden !== undefined && typeof isHidden !== 'boolean') return graphError(r.x, 400, 'BadRequest', "The property 'isHidden' must be a boolean.");
  const made = addChildFolder(r.mailbox, parent, displayName, isHidden === true);
  if (made === 'exists') return graphError(r.x, 409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  sendJson(r.x, 201, { '@odata.context': context(ctx, r, `mailFolders('${parent.id}')/childFolders/$entity`), ...folderJson(made) });
}

export function listMessages(ctx: GraphContext, r: MailRequest, folder: Folder): void {
  const filter = eqFilter(r.query);
  if (filter === 'invalid' || (filter && filter.property.toLowerCase() !== 'internetmessageid')) return graphError(r.x, 400, 'BadRequest', `Invalid filter clause: ${option(r.query, 'filter')}`);
  const all = filter ? [...(folder.byMessageId.get(filter.value) ?? [])].reverse() : [...folder.messages].reverse();
  const p = page(ctx, r, all, 1000);
  if (!p) return;
  const select = selected(r.query);
  const body: Record<string, unknown> = { '@odata.context': context(ctx, r, `mailFolders('${folder.id}')/messages`) };
  if (p.next) body['@odata.nextLink'] = p.next;
  body.value = p.items.map((m) => project(messageJson(m), select));
  sendJson(r.x, 200, body);
}

/** The MIME octets a base64 text holds, or undefined when it is not base64 (whitespace between groups allowed). */
export function strictBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n\t ]+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** A message in `folder` as importMime (or a test's addMessage) makes it. */
export function newMessage(mb: Mailbox, folder: Folder, mime: Buffer, now = Date.now()): StoredMessage {
  const s = summarize(mime);
  const at = graphDate(now);
  return {
    id: itemId(mb, 2),
    internetMessageId: s.internetMessageId,
    isDraft: false,
    isRead: false,
    parentFolderId: folder.id,
    mime,
    createdDateTime: at,
    receivedDateTime: at,
    sentDateTime: s.sentAt === undefined ? at : graphDate(s.sentAt),
    subject: s.subject,
    from: s.from,
    toRecipients: s.toRecipients,
    ccRecipients: s.ccRecipients,
    hasAttachments: s.hasAttachments,
    changeKey: `CQAAABYAAA${randomBytes(12).toString('base64url')}`,
    conversationId: `AAQk${mb.idStem}${randomBytes(12).toString('base64url')}=`,
  };
}

export function importMime(ctx: GraphContext, r: MailRequest, folder: Folder, body: Buffer): void {
  const type = r.x.req.headers['content-type'] ?? '';
  if (!/^text\/plain\s*(;|$)/i.test(type)) return graphError(r.x, 415, 'UnsupportedMediaType', `importMime takes the MIME message in base64 as text/plain, not '${type}'.`);
  const mime = strictBase64(body.toString('latin1'));
  if (!mime) return graphError(r.x, 400, 'ErrorMimeContentInvalidBase64String', 'Invalid base64 string for MIME content.');
  if (mime.length === 0) return graphError(r.x, 400, 'ErrorMimeContentInvalid', 'The MIME content is empty.');
  if (mime.length > ctx.maxMessageBytes) return graphError(r.x, 413, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
  const m = newMessage(r.mailbox, folder, mime);
  storeMessage(folder, m);
  sendJson(r.x, 201, { '@odata.context': context(ctx, r, `mailFolders('${folder.id}')/messages/$entity`), ...messageJson(m) });
}
