// The zod schemas of the API's requests and answers: the one source of truth
// for validation, serialisation and the OpenAPI document (/openapi.json), from
// which the console's client is typed. Named ones (meta id) become
// components/schemas.
import { z } from 'zod';
import { connectorConfig } from '../connector/config.js';
import { ROLES } from '../ports/account-store.js';
import { RUN_STATES } from './run-views.js';

const isoTime = z.string().describe('RFC 3339 time, UTC');

export const role = z.enum(ROLES).meta({ id: 'Role' });

// ---- sessions and the first account

export const signInBody = z.strictObject({ name: z.string().min(1).max(256), password: z.string().min(1).max(4096) }).meta({ id: 'SignIn' });

export const sessionInfo = z
  .object({
    name: z.string(),
    role,
    csrfToken: z.string().describe('Send it back as the x-csrf-token header of every POST, PUT, PATCH and DELETE'),
    expiresAt: isoTime,
  })
  .meta({ id: 'Session' });

/** As `xip user add` takes it (cli/user.ts). */
export const ACCOUNT_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export const setupBody = z
  .strictObject({
    token: z.string().min(1).max(256).describe('The setup token xip serve printed at start'),
    name: z.string().regex(ACCOUNT_NAME, 'must be 1 to 64 letters, digits, ".", "_", "-" or "@"'),
    password: z.string().min(1).max(4096),
  })
  .meta({ id: 'Setup' });

export const accountInfo = z.object({ name: z.string(), role }).meta({ id: 'Account' });

// ---- connectors

export const connectorName = z.strictObject({ name: z.string().min(1).max(256) });

export const connectorStatus = z.enum(['healthy', 'running', 'failing', 'paused']).meta({
  id: 'ConnectorStatus',
  description: 'running: a run is going (unfinished, its lease live); paused; failing: the last finished run was not ok; healthy otherwise',
});

export const runSummary = z
  .object({
    itemsAvailableFromSource: z.number().int(),
    itemsAvailableForImport: z.number().int(),
    imported: z.number().int(),
    partiallyImported: z.number().int(),
    skippedDuplicates: z.number().int(),
    failed: z.number().int(),
  })
  .meta({ id: 'RunSummary', description: "The figures of Microsoft 365's connector log (docs/connectors.md)" });

export const lastRun = z
  .object({ id: z.number().int(), startedAt: isoTime, finishedAt: isoTime.nullable(), ok: z.boolean().nullable(), code: z.string().nullable(), imported: z.number().int().nullable() })
  .meta({ id: 'LastRun' });

const configError = z.object({ code: z.string(), message: z.string() }).nullable().describe('Set when the stored configuration cannot be opened (then source, target and schedule are null)');

export const connectorListItem = z
  .object({
    name: z.string(),
    paused: z.boolean(),
    status: connectorStatus,
    source: z.string().nullable().describe('Where files come from, without secrets'),
    target: z.string().nullable().describe('Where copies go, without secrets'),
    schedule: z.string().nullable(),
    timezone: z.string().nullable().describe('The time zone the schedule is read in: its own, else the server\'s'),
    nextRun: isoTime.nullable(),
    lastRun: lastRun.nullable(),
    itemsImportedTotal: z.number().int().describe('Copies imported by the runs whose logs are kept'),
    failuresLastRun: z.number().int().nullable().describe('Of the last finished run: items and copies failed, plus containers rejected'),
    configError,
  })
  .meta({ id: 'ConnectorListItem' });

export const connectorList = z.object({ connectors: z.array(connectorListItem) });

export const connectorDetail = z
  .object({
    name: z.string(),
    paused: z.boolean(),
    status: connectorStatus,
    createdAt: isoTime,
    updatedAt: isoTime,
    source: z.string(),
    target: z.string(),
    nextRun: isoTime.nullable(),
    lastRun: lastRun.nullable(),
    config: connectorConfig.describe('The configuration; every secret shown as "(set)"'),
  })
  .meta({ id: 'Connector' });

/** POST /api/connectors: the configuration as `checkConfig` takes it, secrets in the clear (over TLS). */
export const connectorCreateBody = connectorConfig.meta({ id: 'ConnectorConfig' });

/**
 * PUT /api/connectors/:name: a whole configuration as for POST, except that a
 * secret omitted (or sent back as "(set)") keeps its stored value — only
 * where the endpoint it unlocks is unchanged (connector-input.ts). Checked
 * by checkConfig after the merge, so the schema here is loose.
 */
export const connectorEditBody = z
  .looseObject({ version: z.literal(1), name: z.string() })
  .describe('A ConnectorConfig in which secrets may be omitted, or sent as "(set)", to keep them (where the server, account or app they are for is unchanged)');

export const removeBody = z.strictObject({ confirm: z.string().describe("The connector's name, typed again") });

export const runStarted = z.object({ name: z.string(), started: z.literal(true), runId: z.number().int().optional() });

export const pausedAnswer = z.object({ name: z.string(), paused: z.boolean() });

// ---- runs

export const runState = z.enum(RUN_STATES).meta({ id: 'RunState' });

/** What a run's line and its page both show (run-views.ts: runHead). */
const runHeadShape = {
  id: z.number().int(),
  trigger: z.string().nullable(),
  status: runState,
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  ok: z.boolean().nullable(),
  code: z.string().nullable(),
  pruned: z.boolean(),
  summary: runSummary.nullable(),
};

export const runListItem = z
  .object({
    ...runHeadShape,
    containers: z.object({ verified: z.number().int(), rejected: z.number().int() }).nullable(),
  })
  .meta({ id: 'RunListItem' });

export const runsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().min(1).optional().describe('Runs with an id below this one (the next page: the last id of this one)'),
});

export const runList = z.object({ name: z.string(), runs: z.array(runListItem), next: z.number().int().nullable() });

export const dailyQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(366).default(30).describe('How many UTC days, ending with today'),
});

export const dailyFigures = z
  .object({
    days: z
      .array(
        z.object({
          day: z.string().describe('YYYY-MM-DD, a UTC day'),
          imported: z.number().int().describe('Copies delivered by the runs started that day'),
          duplicates: z.number().int().describe('Copies skipped as already in their mailbox'),
          failed: z.number().int().describe('Copies not delivered, and items that could not become copies'),
          runs: z.number().int().describe('Runs started that day'),
        }),
      )
      .describe('Every day of the range, the oldest first; a day without runs has zeros'),
  })
  .meta({ id: 'DailyFigures' });

export const runId = z.strictObject({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

export const runDetail = z
  .object({
    ...runHeadShape,
    connector: z.string(),
    stoppedBy: z.string().nullable(),
    containers: z.array(
      z.object({
        file: z.string(),
        sha256: z.string().nullable(),
        signer: z.string().nullable().describe('The subject of the certificate that signed it ("CN=…, O=…"), once its signature verified; null when rejected before that'),
        ok: z.boolean(),
        code: z.string().nullable(),
        message: z.string().nullable(),
        items: z.number().int().nullable(),
      }),
    ),
    failures: z.array(
      z.object({
        itemId: z.string().nullable(),
        sourceUserId: z.string().nullable(),
        mailbox: z.string().nullable(),
        file: z.string().nullable(),
        entry: z.string().nullable(),
        line: z.number().int().nullable(),
        code: z.string(),
        reason: z.string(),
      }),
    ),
    failuresTotal: z.number().int().describe('Every failure line the ledger holds for the run; `failures` has the first 1,000 (log.csv has all)'),
    unmapped: z.array(z.object({ sourceId: z.string().nullable(), email: z.string().nullable(), items: z.number().int() })),
  })
  .meta({ id: 'Run' });

// ---- audit

export const auditQuery = z.strictObject({
  before: z.coerce.number().int().min(1).optional().describe('Entries with a seq below this one (the next page)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  actor: z.string().min(1).max(256).optional(),
  target: z.string().min(1).max(256).optional(),
});

export const auditCsvQuery = auditQuery.omit({ before: true, limit: true });

export const auditEntry = z
  .object({
    seq: z.number().int(),
    at: isoTime,
    actor: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    address: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export const auditPage = z.object({ entries: z.array(auditEntry), next: z.number().int().nullable() });

// ---- evidence (evidence/view.ts: the fields of xip evidence list --json)

export const sha256Param = z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256: 64 lower-case hex digits') });

export const evidenceQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256').optional().describe('Files stored before this one (the next page: the `next` of this one)'),
});

export const evidenceFile = z
  .object({
    sha256: z.string(),
    size: z.number().int(),
    storedAt: isoTime,
    firstConnector: z.string().describe('The connector that first fetched it'),
    firstName: z.string().describe('Its name at the source, when first fetched'),
    verdict: z.enum(['open', 'imported', 'rejected']).describe('open: no run has reached a final verdict on it yet'),
    code: z.string().nullable().describe('Why it was rejected'),
    processedInRun: z.number().int().nullable().describe('The run that reached the verdict'),
  })
  .meta({ id: 'EvidenceFile' });

export const evidencePage = z.object({ files: z.array(evidenceFile).describe('Newest first'), next: z.string().nullable().describe('The `before` of the next page; null on the last') });

export const evidenceDetail = z
  .object({
    ...evidenceFile.shape,
    intact: z.boolean().describe('Whether the stored bytes still hash to their SHA-256 (read again for this answer); false when they are gone'),
    container: z.object({ ok: z.boolean(), code: z.string().nullable(), firstSeen: isoTime }).nullable().describe("The ledger's verdict on it as a container; null when never verified (a fetch that broke off)"),
  })
  .meta({ id: 'Evidence' });

// ---- text answers (CSV, metrics)

export const csvText = z.string().describe('text/csv (RFC 4180), formula-safe');

// ---- workers (home/worker-status.ts: the fields of xip status --json)

export const workerInfo = z
  .object({
    id: z.string().describe('HOST-PID-random'),
    host: z.string(),
    pid: z.number().int(),
    version: z.string().describe('The xip-connector version it runs'),
    startedAt: isoTime,
    heartbeatAt: isoTime.describe('The last heartbeat (RFC 3339, UTC)'),
    heartbeatAgeSeconds: z.number().int().describe('How long ago that was, by the server\'s clock'),
    alive: z.boolean().describe('Whether that heartbeat is within 3 intervals (XIP_HEARTBEAT_SECONDS, 10 s by default); false: not answering'),
    doing: z.string().nullable().describe('"idle", or the connectors it is running'),
  })
  .meta({ id: 'Worker' });

export const workerList = z.object({ workers: z.array(workerInfo).describe('The latest heartbeat first') }).meta({ id: 'Workers' });
