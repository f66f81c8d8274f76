// A connector's runs and its items per day, one run's log, and that log as
// the CSV `xip connector log --csv` writes (connector/connector-log.ts), for
// every role.
//
// A run is found by its id alone (getRunById: a removed connector's runs
// too), and a connector's runs are paged newest first by id (listRuns with
// `before`).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { connectorLogCsv } from '../../connector/connector-log.js';
import { XipError } from '../../errors.js';
import type { ConnectorRun } from '../../ports/connector-store.js';
import { READ } from '../access.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import { dailyFigures } from '../daily.js';
import { asRunLog, runHead, runLog } from '../run-views.js';
import { connectorName, csvText, dailyFigures as dailySchema, dailyQuery, runDetail, runId, runList, runsQuery } from '../schemas.js';

/** Failure lines in a run's JSON answer; the CSV has them all. */
export const FAILURES_SHOWN = 1000;

const tags = ['runs'];

export const runRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  async function findRun(id: number): Promise<ConnectorRun> {
    const run = await deps.connectors.getRunById(id);
    if (!run) throw new XipError('NOT_FOUND', `no connector run ${id}`);
    return run;
  }

  app.get(
    '/connectors/:name/runs',
    {
      config: { access: READ },
      schema: { tags, summary: 'Its runs, newest first, a page at a time', params: connectorName, querystring: runsQuery, response: { 200: runList, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request) => {
      const { name } = request.params;
      const { limit, before } = request.query;
      const page = await deps.connectors.listRuns(name, limit + 1, before);
      if (page.length === 0 && before === undefined && !(await deps.connectors.getConnector(name))) throw new XipError('CONNECTOR_NOT_FOUND', `there is no connector named "${name.slice(0, 80)}"`);
      const runs = page.slice(0, limit);
      const now = deps.now();
      return {
        name,
        runs: runs.map((run) => {
          const log = runLog(run);
          return {
            ...runHead(run, now),
            containers: log ? { verified: log.containers.filter((c) => c.ok).length, rejected: log.containers.filter((c) => !c.ok).length } : null,
          };
        }),
        next: page.length > limit ? runs.at(-1)!.id : null,
      };
    },
  );

  app.get(
    '/connectors/:name/daily',
    {
      config: { access: READ },
      schema: { tags, summary: 'Items per UTC day (imported, duplicates, failed) and runs, from its runs’ logs, the oldest day first', params: connectorName, querystring: dailyQuery, response: { 200: dailySchema, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request) => {
      const { name } = request.params;
      // A removed connector's runs stay, and so do its figures.
      if (!(await deps.connectors.getConnector(name)) && (await deps.connectors.listRuns(name, 1)).length === 0) throw new XipError('CONNECTOR_NOT_FOUND', `there is no connector named "${name.slice(0, 80)}"`);
      return { days: await dailyFigures(deps.connectors, name, deps.now(), request.query.days) };
    },
  );

  app.get(
    '/runs/:id',
    { config: { access: READ }, schema: { tags, summary: 'One run: its figures, containers, failures and unmapped users', params: runId, response: { 200: runDetail, ...errorResponses(400, 401, 403, 404) } } },
    async (request) => {
      const run = await findRun(request.params.id);
      const log = runLog(run);
      const failures = log ? await deps.ledger.getFailures(run.id) : [];
      return {
        ...runHead(run, deps.now()),
        connector: run.connector,
        stoppedBy: log?.stoppedBy ?? null,
        containers: (log?.containers ?? []).map((c) => ({ file: c.file, sha256: c.sha256, signer: c.signer ?? null, ok: c.ok, code: c.code, message: c.message ?? null, items: c.items ?? null })),
        failures: failures.slice(0, FAILURES_SHOWN).map((f) => ({
          itemId: f.itemId,
          sourceUserId: f.sourceUserId,
          mailbox: f.mailbox,
          file: f.file ?? null,
          entry: f.entry ?? null,
          line: f.line ?? null,
          code: f.code,
          reason: f.reason,
        })),
        failuresTotal: failures.length,
        unmapped: (log?.unmapped ?? []).map((u) => ({ sourceId: u.sourceId, email: u.email, items: u.items })),
      };
    },
  );

  app.get(
    '/runs/:id/log.csv',
    {
      config: { access: READ },
      schema: {
        tags,
        summary: 'The run’s log as CSV: the same file as xip connector log --csv',
        params: runId,
        response: { 200: { description: 'text/csv, an attachment', content: { 'text/csv': { schema: csvText } } }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const run = await findRun(request.params.id);
      const failures = run.log ? await deps.ledger.getFailures(run.id) : [];
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${run.connector}-run-${run.id}.csv"`)
        .send(connectorLogCsv([{ run: asRunLog(run), failures }]));
    },
  );
};

