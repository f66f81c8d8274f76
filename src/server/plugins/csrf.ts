// CSRF for the /api scope, with @fastify/csrf-protection in its
// session-bound mode: the secret lives server-side in the session's row
// (Session.csrfSecret), never in a cookie, and each token is also bound to
// the session id (getUserInfo), so a token works for its own session only.
// The plugin's '@fastify/session' mode reads `request.session[sessionKey]`:
// our request.session (plugins/auth.ts) gives it, with sessionKey
// 'csrfSecret'.
//
// Every POST, PUT, PATCH and DELETE of a non-public route needs the header
// x-csrf-token (the token only from that header: not from the body or a
// query, OWASP "custom request headers"). Missing or forged → 403
// CSRF_INVALID, checked in onRequest, before the body is read, so nothing
// changes. The two public POSTs (sign-in, first account) have no session to
// bind a token to: SameSite=Strict and a body that must be
// application/json (no HTML form can send one cross-site without a CORS
// preflight, which this server never grants) protect them.
import fastifyCsrf from '@fastify/csrf-protection';
import type { FastifyInstance } from 'fastify';
import { changesState, isPublic } from '../access.js';

export const CSRF_HEADER = 'x-csrf-token';

export async function useCsrf(app: FastifyInstance): Promise<void> {
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/session',
    sessionKey: 'csrfSecret',
    getToken: (request) => {
      const token = request.headers[CSRF_HEADER];
      return typeof token === 'string' ? token : undefined;
    },
    getUserInfo: (request) => request.session?.idHash ?? '',
    logLevel: 'info',
  });

  app.addHook('onRequest', (request, reply, done) => {
    const access = request.routeOptions.config.access;
    if (!access || isPublic(access) || !changesState(request.method)) return done();
    app.csrfProtection(request, reply, done);
  });
}
