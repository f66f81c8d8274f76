// Sessions and roles for everything under /api. Applied to the /api scope
// itself (not a child), so that its hooks cascade to every route registered
// there: a route states who may call it in `config.access` (access.ts), and
// one without that declaration stops the server at start-up.
//
// The session is the cookie `xip_session`: 32 random bytes (base64url) that
// the store knows only by their SHA-256 (ports/account-store.ts). Each
// request looks it up (liveSession: unrevoked, unexpired, account enabled,
// with the account's current role, so that a role taken away or an account
// disabled acts at once).
//
// Order of the checks (onRequest, before the body is read or validated):
// no live session → 401 AUTH_REQUIRED; a role the route does not allow →
// 403 FORBIDDEN; then plugins/csrf.ts. Unknown URLs under /api need a
// session too, so that the API cannot be mapped without one.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { XipError } from '../../errors.js';
import type { Role } from '../../ports/account-store.js';
import { allows, isPublic } from '../access.js';
import type { Deps } from '../deps.js';
import { isTokenForm, sha256Hex } from '../secrets.js';

export const SESSION_COOKIE = 'xip_session';

/** The request's live session. `csrfSecret` is read (and, at sign-in, set) by @fastify/csrf-protection through its sessionKey. */
export interface SignedIn {
  readonly idHash: string;
  readonly account: string;
  readonly role: Role;
  readonly expiresAt: Date;
  csrfSecret: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    session: SignedIn | null;
  }
}

/** The live session the request's cookie names, if any. */
export async function sessionOf(deps: Deps, request: FastifyRequest): Promise<SignedIn | null> {
  const id = request.cookies[SESSION_COOKIE];
  if (id === undefined || !isTokenForm(id)) return null;
  const session = await deps.accounts.liveSession(sha256Hex(id), deps.now());
  if (!session) return null;
  return { idHash: session.idHash, account: session.account, role: session.role, expiresAt: session.expiresAt, csrfSecret: session.csrfSecret };
}

export function useAuth(app: FastifyInstance, deps: Deps): void {
  app.decorateRequest('session', null);

  app.addHook('onRoute', (route) => {
    if (!route.config?.access) throw new Error(`${String(route.method)} ${route.url}: no config.access; say who may call it (src/server/access.ts)`);
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    request.session = await sessionOf(deps, request);
    if (access && isPublic(access)) return;
    if (!request.session) throw new XipError('AUTH_REQUIRED');
    if (access && !allows(access, request.session.role)) throw new XipError('FORBIDDEN', `${request.session.role} may not ${request.method} ${request.routeOptions.url}`);
  });
}
