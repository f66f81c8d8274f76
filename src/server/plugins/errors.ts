// The one error handler and the 404 handler (fastify/demo's pattern): every
// error becomes {"code","message"} with its status from errors.ts; a server
// fault is logged with its stack and shown only as its catalogue sentence.
// The 404 handler is rate-limited per address, so URLs cannot be probed for
// free.
import type { FastifyInstance } from 'fastify';
import { XipError } from '../../errors.js';
import { errorAnswer } from '../errors.js';

/** 404s allowed per address and minute. */
export const NOT_FOUND_PER_MINUTE = 60;

export function useErrors(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const answer = errorAnswer(error);
    if (answer.fault) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: answer.body.code, status: answer.status }, 'request refused');
    return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
  });
  useNotFound(app);
}

/** The 404 handler of a scope: its hooks (auth, under /api) run first. */
export function useNotFound(app: FastifyInstance): void {
  app.setNotFoundHandler({ preHandler: app.rateLimit({ max: NOT_FOUND_PER_MINUTE, timeWindow: 60_000 }) }, () => {
    throw new XipError('NOT_FOUND');
  });
}
