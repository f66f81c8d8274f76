// /healthz for a load balancer or systemd: 200 {"ok":true} when the
// database answers (the ledger and the accounts, which share it), else 503
// LEDGER_ERROR. No auth, and nothing about the installation in the answer.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { XipError } from '../../errors.js';
import { PUBLIC } from '../access.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';

export const healthRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    { config: { access: PUBLIC }, schema: { tags: ['operations'], summary: 'Whether the server and its database answer', response: { 200: z.object({ ok: z.literal(true) }), ...errorResponses(503) } } },
    async (request) => {
      try {
        await Promise.all([deps.ledger.liveRuns(), deps.accounts.countAccounts()]);
      } catch (e) {
        request.log.error({ err: e }, 'health check: the database does not answer');
        throw new XipError('LEDGER_ERROR', 'the database does not answer');
      }
      return { ok: true as const };
    },
  );
};
