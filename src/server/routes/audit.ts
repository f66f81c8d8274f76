// The audit trail, for auditors: a page at a time as JSON (newest first,
// `before` = the seq to continue from), or every matching entry as CSV
// (formula-safe fields: connector/connector-log.ts csvField).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { csvField } from '../../connector/connector-log.js';
import type { AuditEntry } from '../../ports/account-store.js';
import { AUDIT } from '../access.js';
import type { Deps } from '../deps.js';
import { errorResponses } from '../errors.js';
import { auditCsvQuery, auditPage, auditQuery, csvText } from '../schemas.js';

/** Entries read per query while writing the CSV (the store's largest page). */
const CSV_PAGE = 1000;
/** The CSV stops after this many entries (the newest); narrow it with actor or target. */
export const CSV_MAX_ENTRIES = 100_000;

export const AUDIT_CSV_COLUMNS = ['seq', 'at', 'actor', 'action', 'target', 'address', 'detail'] as const;

const tags = ['audit'];

function entryJson(e: AuditEntry) {
  return { seq: e.seq, at: e.at.toISOString(), actor: e.actor, action: e.action, target: e.target, detail: { ...e.detail }, address: e.address };
}

export function auditCsvRow(e: AuditEntry): string {
  return [e.seq, e.at.toISOString(), e.actor, e.action, e.target, e.address, JSON.stringify(e.detail)].map((v) => csvField(v)).join(',');
}

export const auditRoutes: FastifyPluginAsyncZod<{ deps: Deps }> = async (app, { deps }) => {
  app.get(
    '/audit',
    { config: { access: AUDIT }, schema: { tags, summary: 'The audit trail, newest first, a page at a time', querystring: auditQuery, response: { 200: auditPage, ...errorResponses(400, 401, 403) } } },
    async (request) => {
      const { before, limit, actor, target } = request.query;
      // One more than asked, to know whether there is a next page.
      const entries = await deps.accounts.listAudit({ before, limit: limit + 1, actor, target });
      const page = entries.slice(0, limit);
      return { entries: page.map(entryJson), next: entries.length > limit ? page.at(-1)!.seq : null };
    },
  );

  app.get(
    '/audit.csv',
    {
      config: { access: AUDIT },
      schema: {
        tags,
        summary: 'The audit trail as CSV (newest first), optionally for one actor or target',
        querystring: auditCsvQuery,
        response: { 200: { description: 'text/csv, an attachment', content: { 'text/csv': { schema: csvText } } }, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { actor, target } = request.query;
      const rows: string[] = [AUDIT_CSV_COLUMNS.join(',')];
      let before: number | undefined;
      while (rows.length - 1 < CSV_MAX_ENTRIES) {
        const entries = await deps.accounts.listAudit({ before, limit: CSV_PAGE, actor, target });
        for (const e of entries) rows.push(auditCsvRow(e));
        if (entries.length < CSV_PAGE) break;
        before = entries.at(-1)!.seq;
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="audit.csv"')
        .send(rows.join('\r\n') + '\r\n');
    },
  );
};
