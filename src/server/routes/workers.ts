// The installation's workers (issue 12), for every signed-in role: each
// `xip serve` on this database, alive or not answering, what it is doing and
// its last heartbeat; the same fields as `xip status --json`
// (home/worker-status.ts). Alive is judged by the server's clock and the
// heartbeat interval the wiring read (XIP_HEARTBEAT_SECONDS).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ALIVE_BEATS } from '../../home/heartbeat.js';
import { workerStatus } from '../../home/worker-status.js';
import { READ } from '../access.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import { workerList } from '../schemas.js';

export const workerRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get(
    '/workers',
    { config: { access: READ }, schema: { tags: ['workers'], summary: 'The workers (xip serve) of the installation: alive or not, what each is doing, the last heartbeat', response: { 200: workerList, ...errorResponses(401, 403) } } },
    async () => {
      const now = deps.now();
      const aliveMs = ALIVE_BEATS * deps.heartbeatMs;
      return { workers: (await deps.workers.listWorkers()).map((w) => workerStatus(w, now, aliveMs)) };
    },
  );
};
