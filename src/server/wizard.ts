// The add-connector wizard's checks (issue 11), each on one step of a
// configuration, before anything is saved: list the source, verify its
// newest container against the trust anchors given, load the directory and
// mapping, show the schedule's next runs. They change nothing (no store, no audit entry); the only file
// written is the container fetched for the trust check, in a private folder
// under XIP_HOME's staging space, removed before the answer.
//
// A step that fails is an answer ({ok:false, code, message} with a code of
// the catalogue), not an HTTP error; a request that cannot be checked at all
// (a relative folder path, a Graph directory, unreadable certificates) is,
// and so is a schedule that is not one (400 CONFIG_INVALID, as POST
// /api/connectors answers it).
// Messages are the sources' and loaders' own, which never hold a secret.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SourceConfig } from '../connector/config.js';
import { SOURCE_CODES, XipError, XIP_CODES, type ErrorCode } from '../errors.js';
import type { Home } from '../home/home.js';
import { checkSchedule, nextRuns as nextRunsOf, zoneOf } from '../home/schedule.js';
import { buildSource } from '../home/wiring.js';
import { loadDirectory, loadMapping } from '../mapping/index.js';
import type { ConnectorSource, SourceFile } from '../ports/container-source.js';
import { parseCertificates } from '../xip/cms/index.js';
import { verifyFile } from '../xip/verify.js';
import { localPath } from './connector-input.js';
import { FILES_SHOWN } from './wizard-schemas.js';

export interface Failed {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: string;
}

export type SourceCheck = { readonly ok: true; readonly files: { name: string; size: number; modified: string }[]; readonly total: number } | Failed;

export interface TrustCheck {
  readonly file: string | null;
  readonly signer: { subject: string; issuer: string; notAfter: string } | null;
  readonly verified: boolean;
  readonly code?: string;
  readonly message?: string;
}

export type MappingCheck = { readonly ok: true; readonly rows: number } | Failed;

const isSourceCode = (code: ErrorCode) => code in SOURCE_CODES;

/** The error as an answer when `answers` takes its code; anything else is thrown on. */
function failed(e: unknown, answers: (code: ErrorCode) => boolean): Failed {
  if (e instanceof XipError && answers(e.code)) return { ok: false, code: e.code, message: e.explanation };
  throw e;
}

/** A folder path as POST /api/connectors takes it (connector-input.ts): absolute or "$XIP_HOME/…". */
function sourceOf(home: Home, source: SourceConfig): SourceConfig {
  return source.kind === 'folder' ? { ...source, path: localPath(home, source.path, 'source.path') } : source;
}

async function withSource<T>(home: Home, config: SourceConfig, f: (source: ConnectorSource) => Promise<T>): Promise<T> {
  const source = await buildSource(home, sourceOf(home, config));
  try {
    return await f(source);
  } finally {
    await source.close().catch(() => undefined);
  }
}

/** Newest first; the same time: by name, the last first. */
function newestFirst(files: readonly SourceFile[]): SourceFile[] {
  return [...files].sort((a, b) => b.modified.getTime() - a.modified.getTime() || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

/** POST /api/wizard/source: what the source holds now. */
export async function checkSource(home: Home, config: SourceConfig): Promise<SourceCheck> {
  try {
    const files = await withSource(home, config, (s) => s.list());
    return {
      ok: true,
      files: newestFirst(files)
        .slice(0, FILES_SHOWN)
        .map((f) => ({ name: f.name, size: f.size, modified: f.modified.toISOString() })),
      total: files.length,
    };
  } catch (e) {
    return failed(e, isSourceCode);
  }
}

/** POST /api/wizard/trust: the newest container of the source, verified against these anchors. */
export async function checkTrust(home: Home, config: SourceConfig, trustFiles: readonly { file: string; text: string }[]): Promise<TrustCheck> {
  const trust = trustFiles.flatMap((t) => parseCertificates(Buffer.from(t.text), t.file)); // TRUST_INVALID: 400
  let file: string | null = null;
  try {
    return await withSource(home, config, async (source) => {
      const newest = newestFirst(await source.list())[0];
      if (!newest) return { file: null, signer: null, verified: false, message: 'the source holds no *.xip file yet: drop one there to check the trust anchors' };
      file = newest.name;
      await mkdir(home.staging, { recursive: true });
      const dir = await mkdtemp(join(home.staging, 'wizard-'));
      try {
        const path = join(dir, 'container.xip');
        await pipeline(await source.open(newest), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
        const report = await verifyFile(path, { trust });
        const signer = report.chain[0];
        return { file, signer: signer ? { subject: signer.subject, issuer: signer.issuer, notAfter: signer.notAfter } : null, verified: true };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  } catch (e) {
    const answer = failed(e, (code) => isSourceCode(code) || code in XIP_CODES || code === 'IO_ERROR');
    return { file, signer: null, verified: false, code: answer.code, message: answer.message };
  }
}

/** POST /api/wizard/mapping: the directory and mapping loaded as a run loads them. */
export function checkMapping(directory: { file: string; text: string } | { graph: string }, mapping: { file: string; text: string }): MappingCheck {
  if ('graph' in directory) throw new XipError('VALIDATION_FAILED', 'body.directory: a Microsoft Graph directory is read at run time, so a mapping cannot be checked against it here; give the directory CSV');
  try {
    return { ok: true, rows: loadMapping(mapping.text, mapping.file, loadDirectory(directory.text, directory.file)).size };
  } catch (e) {
    return failed(e, (code) => code === 'DIRECTORY_INVALID' || code === 'MAPPING_INVALID');
  }
}

/** How many next runs the schedule step shows. */
export const NEXT_RUNS = 3;

/**
 * POST /api/wizard/schedule: the schedule checked as a connector's is
 * (home/schedule.ts), and its next runs after `now`, read in `timezone` (IANA,
 * e.g. Europe/Paris) or, when none is given, in the server's own zone, as
 * the scheduler reads a connector that names none.
 */
export function nextRuns(schedule: string, timezone: string | undefined, now: Date): { nextRuns: string[]; timezone: string } {
  const s = { schedule, timezone };
  checkSchedule(s);
  return { nextRuns: nextRunsOf(s, NEXT_RUNS, now).map((d) => d.toISOString()), timezone: zoneOf(s) };
}

/** GET /api/wizard/mapping-template.csv: the header and two example rows. */
export const MAPPING_TEMPLATE = 'sourceId,mailbox\r\nU0123ABCD,ana@corp.example\r\nslack:U0456EFGH,bo@corp.example\r\n';
