// The plain-HTTP side of a contract double of Microsoft Graph. NOT a
// Microsoft endpoint (Microsoft offers no token introspection): a double-only
// RFC 7662 token introspection endpoint, so that a local Dovecot (oauth2
// passdb) can check the tokens this double's identity platform issued, the
// way Exchange Online checks the app-only tokens an IMAP client presents.
//
// https://www.rfc-editor.org/rfc/rfc7662 §2.1: the token comes as the form
// field `token` of a POST (Dovecot's `introspection_mode = post`); Dovecot's
// other modes are taken too: `auth` (its default: GET with
// `Authorization: Bearer <token>`) and `get` (the token appended to the URL:
// introspection_url = http://…/introspect?token=). §2.2: the answer is
// {"active":true,…} for a live token, {"active":false} for anything else
// (unknown, expired). Members: active, client_id, scope (as asked for at the
// token endpoint, e.g. "https://outlook.office365.com/.default"), aud (its
// resource), token_type, iat, nbf, exp, iss, sub (the client id).
//
// Dovecot (2.3 db-oauth2) checks `active` when `active_attribute = active`
// and `active_value = true` are set; it also REQUIRES its
// `username_attribute` in the answer and compares it with the login's user
// through `username_format` — an app token names no user, so point
// username_attribute at `client_id` and use a username_format without
// variables (see test/support/dovecot-oauth2.ts). Its `scope` setting is
// matched against `scope` or `aud`. No client authentication is asked of the
// caller (loopback, tests only).
//
// Also here, for a double started in a child process (main.ts), a control API
// under /_double/ (stats, fail): see index.ts.
import type { IssuedToken, TokenStore } from './tokens.js';
import { readForm, sendJson, type Exchange } from './respond.js';

export interface IntrospectionConfig {
  readonly tokens: TokenStore;
  readonly issuer: string;
  /** Requests under /_double/; resolves false when it is not one of its routes. */
  readonly control: (x: Exchange, url: URL) => Promise<boolean>;
}

const PLAIN_JSON = 'application/json; charset=utf-8';

export function introspection(t: IssuedToken | undefined, issuer: string, now = Date.now()): Record<string, unknown> {
  if (!t || now >= t.expiresAt) return { active: false };
  const s = (ms: number): number => Math.floor(ms / 1000);
  return { active: true, client_id: t.clientId, scope: t.scope, aud: t.aud, token_type: 'Bearer', iat: s(t.issuedAt), nbf: s(t.issuedAt), exp: s(t.expiresAt), iss: issuer, sub: t.clientId };
}

async function tokenOf(x: Exchange, url: URL): Promise<string | null | 'too-large'> {
  if (x.req.method === 'POST' && /^application\/x-www-form-urlencoded\b/i.test(x.req.headers['content-type'] ?? '')) {
    const form = await readForm(x.req, 64 * 1024);
    if (form === 'too-large') return form;
    const token = form.get('token');
    if (token) return token;
  } else {
    x.req.resume();
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(x.req.headers.authorization ?? '');
  if (bearer) return bearer[1]!;
  return url.searchParams.get('token');
}

export async function handlePlain(cfg: IntrospectionConfig, x: Exchange): Promise<void> {
  const url = new URL(x.req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname.startsWith('/_double/')) {
    if (await cfg.control(x, url)) return;
  } else if (url.pathname === '/introspect' && (x.req.method === 'POST' || x.req.method === 'GET')) {
    const token = await tokenOf(x, url);
    if (token === 'too-large') return sendJson(x, 413, { error: 'invalid_request', error_description: 'request too large' }, {}, PLAIN_JSON);
    if (!token) return sendJson(x, 400, { error: 'invalid_request', error_description: 'no token: send token=… (form), Authorization: Bearer, or ?token=' }, {}, PLAIN_JSON);
    return sendJson(x, 200, introspection(cfg.tokens.find(token), cfg.issuer), { 'cache-control': 'no-store' }, PLAIN_JSON);
  }
  x.req.resume();
  sendJson(x, 404, { error: 'not_found' }, {}, PLAIN_JSON);
}
