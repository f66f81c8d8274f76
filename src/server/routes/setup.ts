// POST /api/setup: the first account, a connector-admin, made with the
// one-time token xip serve printed at start (setup-token.ts). Public (there
// is no account to sign in with yet) and rate-limited per address; the
// password is checked against the policy before the token is spent.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { XipError } from '../../errors.js';
import { PUBLIC } from '../access.js';
import { audit } from '../audit-trail.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import { accountInfo, setupBody } from '../schemas.js';
import { sha256Hex } from '../secrets.js';

/** Attempts allowed per address in 15 minutes (the token is 256 random bits: this only keeps noise down). */
export const SETUP_ATTEMPTS = 10;

export const setupRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.post(
    '/setup',
    {
      config: { access: PUBLIC, rateLimit: { max: SETUP_ATTEMPTS, timeWindow: 15 * 60_000 } },
      schema: {
        tags: ['session'],
        summary: 'Create the first account (a connector-admin) with the setup token',
        body: setupBody,
        response: { 201: accountInfo, ...errorResponses(400, 403, 415, 429) },
      },
    },
    async (request, reply) => {
      const { token, name, password } = request.body;
      try {
        deps.passwords.check(password);
      } catch (e) {
        if (!(e instanceof XipError)) throw e;
        throw new XipError('VALIDATION_FAILED', `body.password: ${e.detail ?? e.message}`);
      }
      const passwordHash = await deps.passwords.hash(password);
      if (!(await deps.accounts.consumeSetupToken(sha256Hex(token)))) {
        await audit(deps, request, { actor: 'setup', action: 'setup-refused', target: name });
        throw new XipError('SETUP_TOKEN_INVALID');
      }
      await deps.accounts.createAccount({ name, role: 'connector-admin', passwordHash, at: deps.now() });
      await audit(deps, request, { actor: 'setup', action: 'user-added', target: name, detail: { role: 'connector-admin' } });
      return reply.code(201).send({ name, role: 'connector-admin' as const });
    },
  );
};
