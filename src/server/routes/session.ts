// POST /api/session signs in, GET says who is signed in (with a fresh CSRF
// token), DELETE signs out. Every sign-in, failure and sign-out is audited.
//
// A failed sign-in is 401 AUTH_FAILED whether the account is unknown, the
// password wrong or the account disabled, and takes the same time: the
// password is always checked, against a dummy hash when there is no account
// (PasswordHasher.verify = verifyOrDummy). Failures are counted per account
// name and per address (login-limiter.ts); past the limit, 429 RATE_LIMITED
// with Retry-After, without checking the password.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { XipError } from '../../errors.js';
import { PUBLIC, SIGNED_IN } from '../access.js';
import { audit } from '../audit-trail.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import { LoginLimiter } from '../login-limiter.js';
import type { ServerOptions } from '../options.js';
import { sessionOf, SESSION_COOKIE } from '../plugins/auth.js';
import { sessionInfo, signInBody } from '../schemas.js';
import { openSession, sessionCookieOptions } from '../sessions.js';

export interface SessionRoutesOptions {
  readonly deps: Deps;
  readonly options: ServerOptions;
  readonly limiter: LoginLimiter;
}

const tags = ['session'];
/** Who acted, when no one is signed in: the name tried is the target, never the actor (it could be anyone's). */
const ANONYMOUS = 'anonymous';

export const sessionRoutes: FastifyPluginAsyncZod<SessionRoutesOptions> = async (app, { deps, options, limiter }) => {
  const cookieOptions = sessionCookieOptions(options);

  app.post(
    '/session',
    {
      config: { access: PUBLIC },
      schema: { tags, summary: 'Sign in: sets the session cookie and returns the CSRF token', body: signInBody, response: { 200: sessionInfo, ...errorResponses(400, 401, 415, 429) } },
    },
    async (request, reply) => {
      const { name, password } = request.body;
      const now = deps.now();
      const keys = [LoginLimiter.accountKey(name), LoginLimiter.addressKey(request.ip)];
      const verdict = limiter.check(keys, now);
      if (!verdict.allowed) {
        // Audited once per lock-out, not per refused attempt: a flood must not fill the trail.
        if (verdict.firstRefusal) await audit(deps, request, { actor: ANONYMOUS, action: 'sign-in-rate-limited', target: name, detail: { on: verdict.key.split(':')[0] } });
        reply.header('retry-after', Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
        throw new XipError('RATE_LIMITED');
      }
      const account = await deps.accounts.getAccount(name);
      // Always verify, against no hash when there is no account: the same work either way.
      const matches = await deps.passwords.verify(account?.passwordHash ?? null, password);
      if (!account || account.disabled || !matches) {
        limiter.fail(keys, now);
        await audit(deps, request, { actor: ANONYMOUS, action: 'sign-in-failed', target: name, detail: { reason: !account ? 'unknown-account' : account.disabled ? 'disabled' : 'wrong-password' } });
        throw new XipError('AUTH_FAILED');
      }
      limiter.clear(keys[0]!);
      // A sign-in replaces the session the browser had, if any.
      const previous = await sessionOf(deps, request);
      if (previous) await deps.accounts.revokeSession(previous.idHash, now);

      const { session, csrfToken } = await openSession(deps, options, request, reply, account, 'password');
      return { name: account.name, role: account.role, csrfToken, expiresAt: session.expiresAt.toISOString() };
    },
  );

  app.get(
    '/session',
    { config: { access: SIGNED_IN }, schema: { tags, summary: 'Who is signed in, with a fresh CSRF token', response: { 200: sessionInfo, ...errorResponses(401) } } },
    async (request, reply) => {
      const session = request.session!;
      return { name: session.account, role: session.role, csrfToken: reply.generateCsrf({ userInfo: session.idHash }), expiresAt: session.expiresAt.toISOString() };
    },
  );

  app.delete(
    '/session',
    { config: { access: SIGNED_IN }, schema: { tags, summary: 'Sign out: the session is revoked', response: { 204: z.undefined(), ...errorResponses(401, 403) } } },
    async (request, reply) => {
      const session = request.session!;
      await deps.accounts.revokeSession(session.idHash, deps.now());
      await audit(deps, request, { action: 'sign-out', target: session.account });
      reply.clearCookie(SESSION_COOKIE, cookieOptions);
      return reply.code(204).send();
    },
  );
};
