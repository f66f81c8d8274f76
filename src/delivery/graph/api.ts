// One request to a mailbox through Microsoft Graph: a token, the mailbox's
// gate (throttle.ts), the request, and its answer sorted into what the
// callers act on. Error bodies follow https://learn.microsoft.com/en-us/graph/errors:
// {"error":{"code","message","innerError":{…}}}.
import { DeliveryError } from '../errors.js';
import { HttpFault, jsonOf, retryAfterMs, type HttpClient, type HttpRequest, type HttpResponse } from './http.js';
import type { Gates } from './throttle.js';
import type { TokenSource } from './token.js';

export type Answer =
  | { readonly kind: 'ok'; readonly status: number; readonly json: unknown }
  | { readonly kind: 'throttled'; readonly status: number; readonly retryAfterMs: number | undefined; readonly code: string; readonly message: string }
  | { readonly kind: 'error'; readonly status: number; readonly code: string; readonly message: string };

/** The mailbox cannot be used (no such user, no Exchange Online mailbox, or the app may not act for it). */
export class MailboxUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'MailboxUnavailable';
  }
}

export interface ApiSettings {
  /** The Graph root, e.g. https://graph.microsoft.com (national clouds: graph.microsoft.us, microsoftgraph.chinacloudapi.cn). */
  readonly graphUrl: string;
  readonly http: HttpClient;
  readonly tokens: TokenSource;
  readonly gates: Gates;
}

/** Codes Graph answers for a mailbox that cannot be reached by this app (404, 403). */
const MAILBOX_CODES = new Set(['ErrorInvalidUser', 'MailboxNotEnabledForRESTAPI', 'MailboxNotSupportedForRESTAPI', 'ErrorAccessDenied', 'ErrorNonExistentMailbox', 'Authorization_RequestDenied']);

export class GraphApi {
  readonly graphUrl: string;
  readonly scope: string;
  readonly #s: ApiSettings;

  constructor(settings: ApiSettings) {
    this.#s = settings;
    this.graphUrl = settings.graphUrl.replace(/\/+$/, '');
    this.scope = `${this.graphUrl}/.default`;
  }

  /** `/v1.0/users/{mailbox}` + rest, as an absolute URL. */
  userUrl(version: 'v1.0' | 'beta', mailbox: string, rest: string): string {
    return `${this.graphUrl}/${version}/users/${encodeURIComponent(mailbox)}${rest}`;
  }

  /**
   * One request for `mailbox` through its gate (`bytes` counted against the
   * upload budget). A 401 is retried once with a new token; a second one is
   * TARGET_AUTH_FAILED. A Retry-After closes the mailbox's gate for that long.
   * Throws HttpFault (no whole answer), MailboxUnavailable, DeliveryError.
   */
  async call(mailbox: string, req: HttpRequest, bytes = 0): Promise<Answer> {
    this.#checkOrigin(req.url);
    for (let authRetry = 0; ; authRetry++) {
      const token = await this.#s.tokens.token(this.scope);
      const res = await this.#s.gates.run(mailbox, bytes, (sent) =>
        this.#s.http.send({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}`, prefer: 'IdType="ImmutableId"' }, onSent: sent }),
      );
      const answer = sort(res);
      if (answer.kind === 'throttled' && answer.retryAfterMs !== undefined) this.#s.gates.for(mailbox).pause(answer.retryAfterMs);
      if (answer.kind === 'error' && answer.status === 401) {
        this.#s.tokens.invalidate(this.scope, token);
        if (authRetry === 0) continue;
        throw new DeliveryError('TARGET_AUTH_FAILED', `Microsoft Graph refused the app's token twice (${answer.code}: ${answer.message})`);
      }
      if (answer.kind === 'error' && (answer.status === 404 || answer.status === 403) && MAILBOX_CODES.has(answer.code)) {
        throw new MailboxUnavailable(`${mailbox}: ${answer.code}: ${answer.message}${answer.status === 403 ? ' (is the app allowed this mailbox by the application access policy or RBAC for Applications, with Mail-Advanced.ReadWrite.All consented?)' : ''}`);
      }
      return answer;
    }
  }

  /** GET, following nothing; JSON or an error answer. */
  get(mailbox: string, url: string): Promise<Answer> {
    return this.call(mailbox, { method: 'GET', url, headers: { accept: 'application/json' } });
  }

  /** A link the service gave (@odata.nextLink) is followed only to the Graph root, so that the token never goes elsewhere. */
  #checkOrigin(url: string): void {
    if (new URL(url).origin !== new URL(this.graphUrl).origin) throw new DeliveryError('TARGET_REJECTED', `Microsoft Graph pointed to ${new URL(url).origin}, outside ${this.graphUrl}; not followed`);
  }
}

function sort(res: HttpResponse): Answer {
  if (res.status >= 200 && res.status < 300) return { kind: 'ok', status: res.status, json: res.body.length > 0 ? jsonOf(res) : undefined };
  const body = jsonOf(res) as { error?: { code?: unknown; message?: unknown } } | undefined;
  const code = typeof body?.error?.code === 'string' ? body.error.code : `HTTP ${res.status}`;
  const message = typeof body?.error?.message === 'string' ? body.error.message.slice(0, 500) : res.body.toString('utf8', 0, Math.min(res.body.length, 200));
  if (res.status === 429 || res.status === 503) return { kind: 'throttled', status: res.status, retryAfterMs: retryAfterMs(res), code, message };
  return { kind: 'error', status: res.status, code, message };
}

export { HttpFault };
