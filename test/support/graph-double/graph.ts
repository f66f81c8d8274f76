// The Graph host of a contract double of Microsoft Graph: every request goes
// through the same steps, in the order the service's layers apply them.
//
// 1. Authentication, https://learn.microsoft.com/en-us/graph/auth/auth-concepts
//    and https://learn.microsoft.com/en-us/graph/errors (401 "Required
//    authentication information is either missing or not valid for the
//    resource"): `Authorization: Bearer` with a token the double's identity
//    platform issued for Graph (aud https://graph.microsoft.com). Missing,
//    unknown, for another audience (e.g. Exchange Online's IMAP scope) or past
//    its lifetime: 401 InvalidAuthenticationToken ("Access token is empty.",
//    "Access token validation failure.", "… Invalid audience.", "Lifetime
//    validation failed, the token is expired.") with a WWW-Authenticate
//    header. No clock skew: a token is dead at expires_in.
// 2. The route (OData segments, case-insensitive): unknown: 400 BadRequest
//    "Resource not found for the segment '…'." (so is importMime on v1.0: it
//    is a beta API); /me: 400, there is no signed-in user in app-only calls
//    (https://learn.microsoft.com/en-us/graph/auth-v2-service).
// 3. The mailbox: `users/{u}` is matched without regard to case against the
//    user id, the userPrincipalName and the SMTP proxy addresses. Unknown:
//    404 ErrorInvalidUser "The requested user '…' is invalid."; a user without
//    an Exchange Online mailbox: 404 MailboxNotEnabledForRESTAPI "The mailbox
//    is either inactive, soft-deleted, or is hosted on-premise."
//    (https://learn.microsoft.com/en-us/exchange/troubleshoot/user-and-shared-mailboxes/rest-api-is-not-yet-supported-for-this-mailbox-error:
//    HTTP 404, MailboxNotEnabledForRESTAPI).
// 4. The Outlook limits per app and mailbox (throttle.ts): folder and lookup
//    requests count as much as imports.
// 5. Injected faults (faults.ts).
// 6. The body, at most maxRequestBytes (default 4 MiB: Graph's request size
//    limit for Outlook, https://learn.microsoft.com/en-us/graph/api/user-post-messages
//    "payloads are currently limited to 4 MB … will result in an HTTP 413
//    Request Entity Too Large error response", and the 4 MB per request of
//    https://learn.microsoft.com/en-us/graph/api/attachment-createuploadsession).
//    Larger: 413 with code BadRequest "The maximum request length supported
//    is 4MB." (what the service is publicly seen answering), answered as
//    soon as the length is known; the rest is read and discarded, unbuffered,
//    so that the connection stays usable and the answer is not lost to a reset.
// 7. The service time (latencyMs), then the operation (mail.ts, users.ts).
import type { Directory, Mailbox } from './state.js';
import type { TokenStore } from './tokens.js';
import { GRAPH_AUDIENCE } from './tokens.js';
import type { OutlookThrottle } from './throttle.js';
import type { Faults, FailRule } from './faults.js';
import { faultError } from './faults.js';
import { errorBody, graphError, readBody, sendJson, sleep, type Exchange } from './respond.js';
import { createFolder, folderOr404, getFolder, importMime, listFolders, listMessages } from './mail.js';
import { getUser, listUsers } from './users.js';

export interface GraphContext {
  /** https://127.0.0.1:PORT, the Graph root. */
  readonly url: string;
  readonly loginUrl: string;
  readonly directory: Directory;
  readonly tokens: TokenStore;
  readonly throttle: OutlookThrottle;
  readonly faults: Faults;
  readonly maxRequestBytes: number;
  readonly maxMessageBytes: number;
  readonly latencyMs: number;
}

export interface MailRequest {
  readonly x: Exchange;
  readonly version: 'v1.0' | 'beta';
  readonly query: URLSearchParams;
  readonly pathname: string;
  /** The user as the URL names it (decoded). */
  readonly userSegment: string;
  readonly mailbox: Mailbox;
}

type MailOp = 'folders' | 'createFolder' | 'folder' | 'childFolders' | 'createChild' | 'messages' | 'importMime';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function unauthorized(ctx: GraphContext, x: Exchange, message: string): void {
  graphError(x, 401, 'InvalidAuthenticationToken', message, {
    'www-authenticate': `Bearer realm="", authorization_uri="${ctx.loginUrl}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
  });
}

/** Why the request's token is refused, or undefined when it is good for Graph. */
function tokenProblem(ctx: GraphContext, x: Exchange): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(x.req.headers.authorization ?? '');
  if (!m) return 'Access token is empty.';
  const t = ctx.tokens.find(m[1]!);
  if (!t) return 'Access token validation failure.';
  if (t.aud !== GRAPH_AUDIENCE) return 'Access token validation failure. Invalid audience.';
  if (Date.now() >= t.expiresAt) return 'Lifetime validation failed, the token is expired.';
  return undefined;
}

/** "4MB" for whole MiB, else the octets. */
function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024}MB` : `${bytes} bytes`;
}

const segmentError = (x: Exchange, segment: string): void => graphError(x, 400, 'BadRequest', `Resource not found for the segment '${segment}'.`);

/** Which mail operation the segments after users/{u}/mailFolders name; undefined: a 400/405 was sent. */
function mailOp(x: Exchange, version: string, rest: readonly string[], method: string): MailOp | undefined {
  const want = (m: string, op: MailOp): MailOp | undefined => {
    if (method === m) return op;
    graphError(x, 405, 'BadRequest', `The HTTP method '${method}' is not supported on this resource.`);
    return undefined;
  };
  if (rest.length === 0) return method === 'POST' ? 'createFolder' : want('GET', 'folders');
  if (rest.length === 1) return want('GET', 'folder');
  const tail = rest[1]!.toLowerCase();
  if (rest.length === 2 && tail === 'childfolders') return method === 'POST' ? 'createChild' : want('GET', 'childFolders');
  if (rest.length === 2 && tail === 'messages') return want('GET', 'messages');
  if (rest.length === 2 && tail === 'importmime' && version === 'beta') return want('POST', 'importMime');
  segmentError(x, rest[1]!);
  return undefined;
}

/** Answers an injected fault; true when the request is done with (answered or dropped). */
export function applyFault(x: Exchange, rule: FailRule | undefined): boolean {
  if (!rule) return false;
  if (rule.drop === 'before-store') {
    x.res.destroy();
    x.req.socket.destroy();
    return true;
  }
  if (rule.drop === 'after-store') {
    x.dropAnswer = true;
    return false;
  }
  const status = rule.status ?? 503;
  const { code, message } = faultError(status);
  sendJson(x, status, rule.body ?? errorBody(x, code, message), rule.retryAfterSeconds !== undefined ? { 'retry-after': String(rule.retryAfterSeconds) } : {});
  return true;
}

async function mail(ctx: GraphContext, r: MailRequest, op: MailOp, folderSegment: string | undefined): Promise<void> {
  const { x } = r;
  const method = x.req.method ?? 'GET';
  const declared = Number(x.req.headers['content-length'] ?? NaN);
  const hasBody = BODY_METHODS.has(method);
  const admission = ctx.throttle.arrive(r.mailbox.address, hasBody && Number.isFinite(declared) ? declared : 0);
  // The slot is the service's until its answer is written ('finish'), not until the socket's later 'close'
  // event: a client that read the answer may send its next request before Node emits 'close'.
  // A dropped connection never finishes: 'close' frees it then.
  let freed = false;
  const free = (): void => {
    if (!freed) {
      freed = true;
      admission.done();
    }
  };
  x.res.once('finish', free);
  x.res.once('close', free);
  if (!admission.ok) return graphError(x, 429, 'ApplicationThrottled', admission.message, { 'retry-after': String(admission.retryAfterSeconds) });
  if (applyFault(x, ctx.faults.take(method, x.req.url ?? '', r.mailbox.address))) return;
  let body: Buffer = Buffer.alloc(0);
  if (hasBody) {
    const read = await readBody(x.req, ctx.maxRequestBytes);
    if (read === 'too-large') {
      return graphError(x, 413, 'BadRequest', `The maximum request length supported is ${sizeText(ctx.maxRequestBytes)}.`);
    }
    body = read;
    if (!Number.isFinite(declared)) ctx.throttle.addUpload(r.mailbox.address, body.length);
  }
  if (ctx.latencyMs > 0) await sleep(ctx.latencyMs);
  if (op === 'folders') return listFolders(ctx, r, r.mailbox.root);
  if (op === 'createFolder') return createFolder(ctx, r, r.mailbox.root, body);
  const folder = folderOr404(r, folderSegment!);
  if (!folder) return;
  if (op === 'folder') return getFolder(ctx, r, folder);
  if (op === 'childFolders') return listFolders(ctx, r, folder);
  if (op === 'createChild') return createFolder(ctx, r, folder, body);
  if (op === 'messages') return listMessages(ctx, r, folder);
  return importMime(ctx, r, folder, body);
}

/** Answers one request to the Graph host. */
export async function handleGraph(ctx: GraphContext, x: Exchange): Promise<void> {
  const url = new URL(x.req.url ?? '/', ctx.url);
  let seg: string[];
  try {
    seg = url.pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  } catch {
    return graphError(x, 400, 'BadRequest', 'The request URL is not validly percent-encoded.');
  }
  const problem = tokenProblem(ctx, x);
  if (problem) return unauthorized(ctx, x, problem);
  const method = x.req.method ?? 'GET';
  const version = seg[0];
  if (version !== 'v1.0' && version !== 'beta') return graphError(x, 400, 'BadRequest', `Invalid version: ${version ?? ''}`);
  const collection = seg[1]?.toLowerCase();
  if (collection === 'me') return graphError(x, 400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
  if (collection !== 'users') return segmentError(x, seg[1] ?? '');
  if (seg.length <= 3) {
    if (applyFault(x, ctx.faults.take(method, x.req.url ?? '', undefined))) return;
    if (method !== 'GET') return graphError(x, 405, 'BadRequest', `The HTTP method '${method}' is not supported on this resource.`);
    return seg.length === 2 ? listUsers(ctx, x, url.searchParams, url.pathname) : getUser(ctx, x, url.searchParams, seg[2]!);
  }
  if (seg[3]!.toLowerCase() !== 'mailfolders') return segmentError(x, seg[3]!);
  const op = mailOp(x, version, seg.slice(4), method);
  if (!op) return;
  const userSegment = seg[2]!;
  const mailbox = ctx.directory.forMail(userSegment);
  if (!mailbox) return graphError(x, 404, 'ErrorInvalidUser', `The requested user '${userSegment}' is invalid.`);
  if (!mailbox.mailboxEnabled) return graphError(x, 404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
  x.mailbox = mailbox.address;
  await mail(ctx, { x, version, query: url.searchParams, pathname: url.pathname, userSegment, mailbox }, op, seg[4]);
}
