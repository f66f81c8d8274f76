// Single sign-on with OpenID Connect, for browsers: outside /api, because
// these are navigations (redirects to and from the identity provider), not
// JSON calls. Registered only when xip serve has --oidc-issuer; hidden from
// the OpenAPI document (docs/console.md lists them); public, GET only.
//
//   GET /auth/oidc/start     302 to the provider's authorization endpoint (PKCE S256, state, nonce);
//                            the sign-in is kept in the database (pending.ts: any worker may finish
//                            it) under a random handle set as the cookie xip_oidc: HttpOnly,
//                            SameSite=Lax (the provider's redirect back is a cross-site navigation,
//                            which Strict would strip), Path the callback's folder, 10 minutes.
//   GET /auth/oidc/callback  takes that sign-in (once), has openid-client check the answer and the
//                            ID token, finds or makes the account (sign-in.ts), opens the same session
//                            as a password sign-in (sessions.ts) and sends the browser to /connectors;
//                            refused: to /login?error=CODE, with `sso-refused` in the audit trail.
//
// And in the /api scope: GET /api/sso, whether it is enabled, for the sign-in page.
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { XipError } from '../../errors.js';
import { PUBLIC } from '../access.js';
import { audit } from '../audit-trail.js';
import type { Deps } from '../deps.js';
import type { ServerOptions } from '../options.js';
import { useCsrf } from '../plugins/csrf.js';
import { isTokenForm, newToken, sameSecret } from '../secrets.js';
import { openSession } from '../sessions.js';
import { CALLBACK_PATH, START_PATH } from './options.js';
import { PENDING_TTL_MS, PendingSignIns } from './pending.js';
import type { OidcProvider } from './provider.js';
import { ssoInfo } from './schemas.js';
import { ssoSignIn, SsoRefusal } from './sign-in.js';

export const FLOW_COOKIE = 'xip_oidc';
/** Who acts in the audit trail when single sign-on makes an account or changes its role. */
export const SSO_ACTOR = 'sso';
const ANONYMOUS = 'anonymous';
/** Starts and callbacks per address and minute: each start keeps a sign-in in the database, each callback may call the provider. */
export const SSO_PER_MINUTE = 30;

/** The path prefix the server is reached under, from the redirect URL (a proxy may serve it under /xip): "" when at the root. */
export function basePath(redirectUrl: string): string {
  return new URL(redirectUrl).pathname.slice(0, -CALLBACK_PATH.length);
}

export const ssoInfoRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  const provider = deps.oidc;
  const answer = provider
    ? { enabled: true, label: provider.options.label, startUrl: basePath(provider.options.redirectUrl) + START_PATH }
    : { enabled: false, label: null, startUrl: null };
  app.get('/sso', { config: { access: PUBLIC }, schema: { tags: ['session'], summary: 'Whether single sign-on is offered, and where it starts', response: { 200: ssoInfo } } }, async () => answer);
};

export interface OidcRoutesOptions {
  readonly deps: Deps;
  readonly options: ServerOptions;
  readonly provider: OidcProvider;
}

export const oidcRoutes: FastifyPluginAsyncZod<OidcRoutesOptions> = async (app, { deps, options, provider }) => {
  const base = basePath(provider.options.redirectUrl);
  const flowCookie = { httpOnly: true, sameSite: 'lax', path: `${base}/auth/oidc`, secure: options.secureCookies } as const;
  const pending = new PendingSignIns(deps.accounts);
  // The session's CSRF secret is made by @fastify/csrf-protection, as at a password sign-in: its generateCsrf in this scope too.
  app.decorateRequest('session', null);
  await useCsrf(app as unknown as FastifyInstance);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  const config = { access: PUBLIC, rateLimit: { max: SSO_PER_MINUTE, timeWindow: 60_000 } };

  app.get('/start', { config, schema: { hide: true } }, async (_request, reply) => {
    const { url, pending: signIn } = await provider.begin();
    const handle = newToken();
    await pending.put(handle, signIn, deps.now());
    reply.setCookie(FLOW_COOKIE, handle, { ...flowCookie, maxAge: PENDING_TTL_MS / 1000 });
    return reply.redirect(url.href, 302);
  });

  app.get('/callback', { config, schema: { hide: true } }, async (request, reply) => {
    const handle = request.cookies[FLOW_COOKIE];
    reply.clearCookie(FLOW_COOKIE, flowCookie);
    const search = new URL(request.url, 'http://callback.invalid').search;
    try {
      const signIn = handle !== undefined && isTokenForm(handle) ? await pending.take(handle, deps.now()) : undefined;
      if (!signIn) throw new SsoRefusal('SSO_STATE_INVALID', handle === undefined ? 'no-flow-cookie' : 'sign-in-unknown', null);
      const state = new URLSearchParams(search).get('state');
      if (state === null || !sameSecret(state, signIn.state)) throw new SsoRefusal('SSO_STATE_INVALID', 'state-mismatch', null);
      let claims;
      try {
        claims = await provider.finish(search, signIn);
      } catch (e) {
        if (e instanceof XipError && e.code === 'SSO_FAILED') throw new SsoRefusal('SSO_FAILED', 'check-failed', null, { check: e.detail });
        throw e;
      }
      const who = await ssoSignIn(deps, provider.options, claims);
      const identity = { issuer: claims.iss, subject: claims.sub };
      if (who.created) await audit(deps, request, { actor: SSO_ACTOR, action: 'user-added', target: who.account.name, detail: { role: who.role, method: 'oidc', group: who.group, ...identity } });
      if (who.previousRole) await audit(deps, request, { actor: SSO_ACTOR, action: 'user-role-changed', target: who.account.name, detail: { from: who.previousRole, to: who.role, group: who.group } });
      await openSession(deps, options, request, reply, who.account, 'oidc');
      return reply.redirect(`${base}/connectors`, 302);
    } catch (e) {
      if (!(e instanceof SsoRefusal)) throw e;
      request.log.info({ code: e.code, reason: e.reason, ...e.facts }, 'single sign-on refused');
      await audit(deps, request, { actor: ANONYMOUS, action: 'sso-refused', target: e.target, detail: { reason: e.reason, code: e.code, ...e.facts } });
      return reply.redirect(`${base}/login?error=${e.code}`, 302);
    }
  });
};
