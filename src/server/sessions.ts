// Opening a session, the one way for every kind of sign-in (a password:
// routes/session.ts; single sign-on: oidc/routes.ts), so that they cannot
// drift apart: the same cookie (xip_session, HttpOnly, SameSite=Strict,
// Path=/, Secure with secureCookies, expiring with the session), the same
// lifetime (sessionTtlMs from sign-in), a CSRF secret made by
// @fastify/csrf-protection and kept in the session's row, and a `sign-in`
// entry in the audit trail saying how.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../ports/account-store.js';
import { audit } from './audit-trail.js';
import type { Deps } from './deps.js';
import type { ServerOptions } from './options.js';
import { SESSION_COOKIE, type SignedIn } from './plugins/auth.js';
import { newToken, sha256Hex } from './secrets.js';

export function sessionCookieOptions(options: Pick<ServerOptions, 'secureCookies'>) {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure: options.secureCookies } as const;
}

/**
 * Makes a session for the account, sets its cookie on the reply and audits
 * the sign-in (`method`: password or oidc). The reply must have
 * @fastify/csrf-protection's generateCsrf (plugins/csrf.ts's useCsrf in its
 * scope); the request's `session` becomes the new one.
 */
export async function openSession(
  deps: Deps,
  options: Pick<ServerOptions, 'secureCookies' | 'sessionTtlMs'>,
  request: FastifyRequest,
  reply: FastifyReply,
  account: { readonly name: string; readonly role: Role },
  method: 'password' | 'oidc',
): Promise<{ session: SignedIn; csrfToken: string }> {
  const now = deps.now();
  const id = newToken();
  const expiresAt = new Date(now.getTime() + options.sessionTtlMs);
  const session: SignedIn = { idHash: sha256Hex(id), account: account.name, role: account.role, expiresAt, csrfSecret: undefined };
  request.session = session;
  // @fastify/csrf-protection makes the secret, stores it in request.session.csrfSecret (its sessionKey), and returns a token for it.
  const csrfToken = reply.generateCsrf({ userInfo: session.idHash });
  await deps.accounts.createSession({ idHash: session.idHash, account: account.name, role: account.role, csrfSecret: session.csrfSecret!, createdAt: now, expiresAt, address: request.ip });
  reply.setCookie(SESSION_COOKIE, id, { ...sessionCookieOptions(options), expires: expiresAt });
  await audit(deps, request, { action: 'sign-in', target: account.name, detail: { role: account.role, method } });
  return { session, csrfToken };
}
