// The one error handler and the 404 handler (fastify/demo's pattern): every
// error becomes {"code","message"} with its status from errors.ts; a server
// fault is logged with its stack and shown only as its catalogue sentence.
// The 404 handler is rate-limited per address, so URLs cannot be probed for
// free; outside /api it first offers the request to the console (its pages
// are not counted as probes).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { XipError } from '../../errors.js';
import { errorAnswer } from '../errors.js';

/** 404s allowed per address and minute. */
export const NOT_FOUND_PER_MINUTE = 60;

/** What no route took but the console may have (plugins/console.ts): its pages and top-level files. */
export interface PageFallback {
  /** A page of the console (a browser's navigation): not counted against the 404 limit. */
  isPage(request: FastifyRequest): boolean;
  /** Answers the request when the console has it; undefined otherwise (then 404 NOT_FOUND). */
  serve(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
}

export function useErrors(app: FastifyInstance, pages?: PageFallback): void {
  app.setErrorHandler((error, request, reply) => {
    const answer = errorAnswer(error);
    if (answer.fault) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: answer.body.code, status: answer.status }, 'request refused');
    return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
  });
  useNotFound(app, pages);
}

/** The 404 handler of a scope: its hooks (auth, under /api) run first. */
export function useNotFound(app: FastifyInstance, pages?: PageFallback): void {
  const limit = app.rateLimit({ max: NOT_FOUND_PER_MINUTE, timeWindow: 60_000, ...(pages ? { allowList: (request: FastifyRequest) => pages.isPage(request) } : {}) });
  app.setNotFoundHandler({ preHandler: limit }, async (request, reply) => {
    const served = pages && (await pages.serve(request, reply));
    if (served) return served;
    throw new XipError('NOT_FOUND');
  });
}
