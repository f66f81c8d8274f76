// The zod schemas of the add-connector wizard's checks (routes/wizard.ts):
// each step of a connector's configuration tried before it is saved. They
// take the parts of a configuration as connector/config.ts does, so a step
// that passes here passes POST /api/connectors too.
import { z } from 'zod';
import { ADDRESS, connectorConfig, DEFAULT_FOLDER, sourceConfig } from '../connector/config.js';

const isoTime = z.string().describe('RFC 3339 time, UTC');
const textFile = z.strictObject({ file: z.string().min(1).max(256), text: z.string() });

/** What the wizard lists at most; `total` says how many there are. */
export const FILES_SHOWN = 100;

export const wizardSourceBody = z
  .strictObject({ source: sourceConfig.describe('The "source" of a connector configuration; a folder path absolute or "$XIP_HOME/…"') })
  .meta({ id: 'WizardSource' });

const failed = z.object({ ok: z.literal(false), code: z.string().describe('SOURCE_UNREACHABLE, SOURCE_AUTH_FAILED, SOURCE_HOST_KEY_MISMATCH, SOURCE_NOT_FOUND… (the catalogue)'), message: z.string() });

export const wizardSourceAnswer = z
  .union([
    z.object({
      ok: z.literal(true),
      files: z.array(z.object({ name: z.string(), size: z.number().int(), modified: isoTime })).describe(`The newest first, at most ${FILES_SHOWN}`),
      total: z.number().int().describe('Every *.xip file the source holds'),
    }),
    failed,
  ])
  .meta({ id: 'WizardSourceAnswer' });

export const wizardTrustBody = z
  .strictObject({
    source: sourceConfig,
    trust: z.array(textFile).min(1, 'must hold at least one certificate file (PEM or DER as text)').max(32),
  })
  .meta({ id: 'WizardTrust' });

export const wizardTrustAnswer = z
  .object({
    file: z.string().nullable().describe('The newest *.xip file of the source, null when it holds none (or cannot be listed: then code says why)'),
    signer: z.object({ subject: z.string(), issuer: z.string(), notAfter: isoTime }).nullable().describe('The signer certificate, once verified'),
    verified: z.boolean(),
    code: z.string().optional().describe('Why it did not verify (CERT_UNTRUSTED, DIGEST_MISMATCH, SOURCE_…: the catalogue)'),
    message: z.string().optional(),
  })
  .meta({ id: 'WizardTrustAnswer' });

export const wizardMappingBody = z
  .strictObject({
    directory: z
      .union([textFile, z.strictObject({ graph: z.string() })])
      .describe('The directory CSV (a Microsoft Graph directory is read at run time only, so not checked here: 400)'),
    mapping: textFile,
  })
  .meta({ id: 'WizardMapping' });

export const wizardMappingAnswer = z
  .union([z.object({ ok: z.literal(true), rows: z.number().int().describe('Source users the mapping maps') }), failed.extend({ code: z.string().describe('DIRECTORY_INVALID or MAPPING_INVALID; the message names the line') })])
  .meta({ id: 'WizardMappingAnswer' });

export const wizardScheduleBody = z
  .strictObject({
    schedule: z.string().max(256).describe('A cron expression, as a connector\'s schedule ("0 2 * * *": every day at 02:00)'),
    timezone: z.string().max(64).optional().describe("An IANA time zone to read it in (UTC, Europe/Paris); default: the server's, in which the scheduler reads connectors' schedules"),
  })
  .meta({ id: 'WizardSchedule' });

export const wizardScheduleAnswer = z
  .object({
    nextRuns: z.array(isoTime).describe('The next three runs after now'),
    timezone: z.string().describe('The time zone the expression was read in'),
  })
  .meta({ id: 'WizardScheduleAnswer' });

export const wizardDeliveryBody = z
  .strictObject({
    target: connectorConfig.shape.target.describe('The "target" of a connector configuration, its secrets in the clear: a maildir path absolute or "$XIP_HOME/…"'),
    folder: z.string().min(1, 'must not be empty').max(256).optional().describe(`The connector's folder; default "${DEFAULT_FOLDER}"`),
    mailbox: z.string().max(320).regex(ADDRESS, 'must be an email address').describe('The one mailbox to deliver the test message into'),
  })
  .meta({ id: 'WizardDelivery' });

export const wizardDeliveryAnswer = z
  .object({
    mailbox: z.string(),
    folder: z.string(),
    messageId: z.string().describe('The test message\'s Message-ID, new each time'),
    ref: z.string().describe('Where the target stored it: Maildir "folder/cur/file", IMAP "uidvalidity:uid", Graph the message id'),
  })
  .meta({ id: 'WizardDeliveryAnswer' });
