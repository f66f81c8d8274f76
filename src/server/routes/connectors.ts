// /api/connectors: list, show, create, edit, run now, pause, resume, remove.
// Reading is for every role; changing is for connector-admin (access.ts).
// Secrets arrive in the clear (over TLS), are sealed before they are stored
// (home/connectors.ts) and never leave again: answers show "(set)".
// Every change is audited with the actor, the connector and the address.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { XipError } from '../../errors.js';
import { loadConnector, sealConfig } from '../../home/connectors.js';
import type { ConnectorRow } from '../../ports/connector-store.js';
import { ADMIN, READ } from '../access.js';
import { audit } from '../audit-trail.js';
import { configFromRequest } from '../connector-input.js';
import { connectorDetail, connectorListItem, type ViewContext } from '../connector-views.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import type { RunTally } from '../run-tally.js';
import { connectorCreateBody, connectorDetail as detailSchema, connectorEditBody, connectorList, connectorName, pausedAnswer, removeBody, runStarted } from '../schemas.js';

const tags = ['connectors'];

export const connectorRoutes: FastifyPluginAsyncZod<{ deps: Deps; tally: RunTally }> = async (app, { deps, tally }) => {
  const view = (): ViewContext => ({ connectors: deps.connectors, box: deps.box, home: deps.home, tally, now: deps.now() });

  async function mustGet(name: string): Promise<ConnectorRow> {
    const row = await deps.connectors.getConnector(name);
    if (!row) throw new XipError('CONNECTOR_NOT_FOUND', `there is no connector named "${name.slice(0, 80)}"`);
    return row;
  }

  app.get(
    '/connectors',
    { config: { access: READ }, schema: { tags, summary: 'Every connector, with its status and last run', response: { 200: connectorList, ...errorResponses(401, 403) } } },
    async () => {
      await tally.refresh();
      const ctx = view();
      const rows = await deps.connectors.listConnectors();
      return { connectors: await Promise.all(rows.map((row) => connectorListItem(ctx, row))) };
    },
  );

  app.get(
    '/connectors/:name',
    { config: { access: READ }, schema: { tags, summary: 'One connector: its configuration (secrets shown as "(set)") and status', params: connectorName, response: { 200: detailSchema, ...errorResponses(401, 403, 404) } } },
    async (request) => connectorDetail(view(), await mustGet(request.params.name)),
  );

  app.post(
    '/connectors',
    {
      config: { access: ADMIN },
      schema: { tags, summary: 'Add a connector (checked as xip connector add checks it; secrets sealed)', body: connectorCreateBody, response: { 201: detailSchema, ...errorResponses(400, 401, 403, 409, 415) } },
    },
    async (request, reply) => {
      const config = configFromRequest(deps.home, request.body);
      await deps.connectors.addConnector(config.name, sealConfig(config, deps.box));
      await audit(deps, request, { action: 'connector-created', target: config.name, detail: { source: config.source.kind } });
      return reply.code(201).send(await connectorDetail(view(), await mustGet(config.name)));
    },
  );

  app.put(
    '/connectors/:name',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Replace a connector’s configuration; secrets omitted (or "(set)") are kept where their server, account or app is unchanged',
        params: connectorName,
        body: connectorEditBody,
        response: { 200: detailSchema, ...errorResponses(400, 401, 403, 404, 415) },
      },
    },
    async (request) => {
      const { name } = request.params;
      if (request.body.name !== name) throw new XipError('VALIDATION_FAILED', `body.name: must be "${name.slice(0, 80)}", the connector's name (a connector cannot be renamed)`);
      const { config: current } = await loadConnector(deps.connectors, deps.box, name);
      const config = configFromRequest(deps.home, request.body, current);
      await deps.connectors.updateConnector(name, sealConfig(config, deps.box));
      await audit(deps, request, { action: 'connector-edited', target: name, detail: { fields: changedFields(current, config) } });
      return connectorDetail(view(), await mustGet(name));
    },
  );

  app.post(
    '/connectors/:name/run',
    { config: { access: ADMIN }, schema: { tags, summary: 'Run it now, in the background (202)', params: connectorName, response: { 202: runStarted, ...errorResponses(401, 403, 404, 409) } } },
    async (request, reply) => {
      const { name } = request.params;
      const row = await mustGet(name);
      if (row.paused) throw new XipError('CONNECTOR_PAUSED', `connector "${name}" is paused`);
      const started = await deps.runNow(name, request.session!.account);
      await audit(deps, request, { action: 'connector-run', target: name, detail: started.runId !== undefined ? { runId: started.runId } : {} });
      return reply.code(202).send({ name, started: true as const, ...(started.runId !== undefined ? { runId: started.runId } : {}) });
    },
  );

  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.post(
      `/connectors/:name/${verb}`,
      {
        config: { access: ADMIN },
        schema: { tags, summary: paused ? 'Stop its scheduled runs until resumed' : 'Let it run on its schedule again', params: connectorName, response: { 200: pausedAnswer, ...errorResponses(401, 403, 404) } },
      },
      async (request) => {
        const { name } = request.params;
        await deps.connectors.setPaused(name, paused);
        await audit(deps, request, { action: paused ? 'connector-paused' : 'connector-resumed', target: name });
        return { name, paused };
      },
    );
  }

  app.delete(
    '/connectors/:name',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Remove its configuration (runs, logs and evidence stay); the body must repeat its name',
        params: connectorName,
        body: removeBody,
        response: { 204: z.undefined().describe('Removed'), ...errorResponses(400, 401, 403, 404, 415) },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      if (request.body.confirm !== name) throw new XipError('VALIDATION_FAILED', `body.confirm: must be "${name.slice(0, 80)}", the connector's name, to remove it`);
      await deps.connectors.removeConnector(name);
      await audit(deps, request, { action: 'connector-removed', target: name });
      return reply.code(204).send();
    },
  );
};

/** The top-level fields an edit changed (names only: values may be secrets). */
function changedFields(before: object, after: object): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}
