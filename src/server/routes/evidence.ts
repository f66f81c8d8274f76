// /api/evidence: the evidence store for auditors (issue 11) — the files
// connectors fetched, kept as received, as `xip evidence list | show |
// export` shows them (evidence/view.ts: the same fields).
//
// A download is checked twice against its SHA-256: before the answer starts
// (the whole file read once: a file altered on disk is a clean 500
// EVIDENCE_CORRUPT, nothing sent), and while it streams (a file altered in
// between ends the transfer with an error instead of its last bytes, so a
// client never receives a complete file that does not hash to its name).
import { createHash } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { XipError } from '../../errors.js';
import { evidenceDetailJson, evidenceJson } from '../../evidence/view.js';
import type { EvidenceRow } from '../../ports/connector-store.js';
import { AUDIT } from '../access.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import { evidenceDetail, evidencePage, evidenceQuery, sha256Param } from '../schemas.js';

const tags = ['evidence'];

/** The bytes passed on as they come; the stream fails at its end, instead of ending, when they do not hash to `sha256`. */
export function hashChecked(bytes: Readable, sha256: string): Readable {
  const hash = createHash('sha256');
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      done(hash.digest('hex') === sha256 ? null : new XipError('EVIDENCE_CORRUPT', `the stored bytes of ${sha256} changed while they were sent`));
    },
  });
  // pipeline, not pipe: a read error of the file fails the stream handed on too.
  return pipeline(bytes, check, () => undefined);
}

export const evidenceRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  async function mustGet(sha256: string): Promise<EvidenceRow> {
    const row = await deps.connectors.getEvidence(sha256);
    if (!row) throw new XipError('EVIDENCE_NOT_FOUND', `no file ${sha256} in the evidence store`);
    return row;
  }

  /** Whether the stored bytes still hash to their name; false when they are gone. */
  async function intact(sha256: string): Promise<boolean> {
    try {
      return await deps.evidence.check(sha256);
    } catch (e) {
      if (e instanceof XipError && e.code === 'EVIDENCE_NOT_FOUND') return false;
      throw e;
    }
  }

  app.get(
    '/evidence',
    {
      config: { access: AUDIT },
      schema: { tags, summary: 'The files connectors fetched, newest first, a page at a time (as xip evidence list --json)', querystring: evidenceQuery, response: { 200: evidencePage, ...errorResponses(400, 401, 403) } },
    },
    async (request) => {
      const { limit, before } = request.query;
      const page = await deps.connectors.evidencePage(limit + 1, before);
      const files = page.slice(0, limit);
      return { files: files.map(evidenceJson), next: page.length > limit ? files.at(-1)!.sha256 : null };
    },
  );

  app.get(
    '/evidence/:sha256',
    {
      config: { access: AUDIT },
      schema: { tags, summary: 'One file: what is known of it, whether its bytes still hash to its name, the verdict on it (as xip evidence show --json)', params: sha256Param, response: { 200: evidenceDetail, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request) => {
      const row = await mustGet(request.params.sha256);
      return evidenceDetailJson(row, await intact(row.sha256), await deps.ledger.getContainer(row.sha256));
    },
  );

  app.get(
    '/evidence/:sha256/file',
    {
      config: { access: AUDIT },
      schema: {
        tags,
        summary: 'The file exactly as received: an attachment named SHA256.xip, checked against its SHA-256 before and while it is sent (500 EVIDENCE_CORRUPT when altered)',
        params: sha256Param,
        response: { 200: { description: 'application/zip, an attachment', content: { 'application/zip': { schema: z.string().describe('The container’s bytes') } } }, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const { sha256 } = await mustGet(request.params.sha256);
      if (!(await deps.evidence.check(sha256))) throw new XipError('EVIDENCE_CORRUPT', `the stored bytes of ${sha256} no longer hash to it; nothing was sent`);
      const stored = await deps.evidence.stat(sha256);
      if (!stored) throw new XipError('EVIDENCE_NOT_FOUND', `the stored file ${sha256} is gone`);
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${sha256}.xip"`)
        .header('content-length', stored.size)
        // A stream: Fastify sends it as it is (the schema documents the bytes as a string, the type provider takes it at its word).
        .send(hashChecked(await deps.evidence.open(sha256), sha256) as unknown as string);
    },
  );
};
