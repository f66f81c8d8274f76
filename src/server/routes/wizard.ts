// /api/wizard: the add-connector wizard's checks, one per step, before the
// connector is saved (wizard.ts). For connector-admin, as adding is; a POST
// needs the session's CSRF token like every change, though these change
// nothing: they store nothing and so write no audit entry. A step that fails
// is a 200 answer naming the code; only a request that cannot be checked is
// an error (400).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ADMIN } from '../access.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import { csvText } from '../schemas.js';
import { checkMapping, checkSource, checkTrust, MAPPING_TEMPLATE, nextRuns } from '../wizard.js';
import {
  wizardMappingAnswer,
  wizardMappingBody,
  wizardScheduleAnswer,
  wizardScheduleBody,
  wizardSourceAnswer,
  wizardSourceBody,
  wizardTrustAnswer,
  wizardTrustBody,
} from '../wizard-schemas.js';

const tags = ['wizard'];

export const wizardRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.post(
    '/wizard/source',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'List the source: its *.xip files, the newest first (a source that cannot be listed is an answer with its code, not an error)',
        body: wizardSourceBody,
        response: { 200: wizardSourceAnswer, ...errorResponses(400, 401, 403, 415) },
      },
    },
    async (request) => checkSource(deps.home, request.body.source),
  );

  app.post(
    '/wizard/trust',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Verify the newest *.xip file of the source against these trust anchors (fetched to staging, removed after)',
        body: wizardTrustBody,
        response: { 200: wizardTrustAnswer, ...errorResponses(400, 401, 403, 415) },
      },
    },
    async (request) => checkTrust(deps.home, request.body.source, request.body.trust),
  );

  app.post(
    '/wizard/mapping',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Load the directory CSV and the custom mapping as a run loads them; a failure names the file and line',
        body: wizardMappingBody,
        response: { 200: wizardMappingAnswer, ...errorResponses(400, 401, 403, 415) },
      },
    },
    async (request) => checkMapping(request.body.directory, request.body.mapping),
  );

  app.post(
    '/wizard/schedule',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Check a schedule as a connector’s is checked (400 CONFIG_INVALID naming the field) and give its next three runs',
        body: wizardScheduleBody,
        response: { 200: wizardScheduleAnswer, ...errorResponses(400, 401, 403, 415) },
      },
    },
    async (request) => nextRuns(request.body.schedule, request.body.timezone, deps.now()),
  );

  app.get(
    '/wizard/mapping-template.csv',
    {
      config: { access: ADMIN },
      schema: { tags, summary: 'A custom mapping to fill in: the header sourceId,mailbox and two example rows', response: { 200: { description: 'text/csv, an attachment', content: { 'text/csv': { schema: csvText } } }, ...errorResponses(401, 403) } },
    },
    async (_request, reply) => reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="mapping.csv"').send(MAPPING_TEMPLATE),
  );
};
