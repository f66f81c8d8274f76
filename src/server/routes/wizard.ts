// /api/wizard: the add-connector wizard's checks, one per step, before the
// connector is saved (wizard.ts). For connector-admin, as adding is; a POST
// needs the session's CSRF token like every change, though the checks change
// nothing: they store nothing and so write no audit entry. A step that fails
// is a 200 answer naming the code; only a request that cannot be checked is
// an error (400).
//
// The test delivery (test-delivery.ts) is the exception: it writes a message
// into a mailbox, so it is audited (wizard-test-delivery: the target's
// address, the mailbox and folder, the outcome; never a secret), and a copy
// not delivered is an error with the target's code.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DEFAULT_FOLDER } from '../../connector/config.js';
import { XipError } from '../../errors.js';
import { ADMIN } from '../access.js';
import { audit } from '../audit-trail.js';
import { targetFromRequest } from '../connector-input.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import { csvText } from '../schemas.js';
import { deliverTest } from '../test-delivery.js';
import { checkMapping, checkSource, checkTrust, MAPPING_TEMPLATE, nextRuns } from '../wizard.js';
import {
  wizardDeliveryAnswer,
  wizardDeliveryBody,
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

  app.post(
    '/wizard/delivery',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Deliver a test message into one mailbox’s folder through the target given, as a connector would (audited: wizard-test-delivery); a copy not delivered is the target’s code',
        body: wizardDeliveryBody,
        response: { 200: wizardDeliveryAnswer, ...errorResponses(400, 401, 403, 404, 415, 422, 502, 507) },
      },
    },
    async (request) => {
      const { target, mailbox } = request.body;
      const folder = request.body.folder ?? DEFAULT_FOLDER;
      const spec = targetFromRequest(deps.home, target); // 400 CONFIG_INVALID: nothing tried, nothing audited
      const fact = { action: 'wizard-test-delivery', target: spec.description };
      try {
        const done = await deliverTest(spec, { mailbox, folder, actor: request.session!.account, at: deps.now() });
        await audit(deps, request, { ...fact, detail: { mailbox, folder, ok: true, messageId: done.messageId } });
        return done;
      } catch (e) {
        await audit(deps, request, { ...fact, detail: { mailbox, folder, ok: false, code: e instanceof XipError ? e.code : 'INTERNAL_ERROR' } });
        throw e;
      }
    },
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
