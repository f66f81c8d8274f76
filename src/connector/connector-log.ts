// A connector run's log as an admin reads it: the figures Microsoft 365's
// connector log shows, with the same meanings, then the containers, failures
// and unmapped users; as text for a terminal and as CSV to download.
//
// Microsoft's figures count copies (an item after fan-out to each mailbox):
//   items available from source   items read from verified containers
//   items available for import    copies planned, plus each item that could not
//                                 become copies at all (invalid, duplicate id,
//                                 mapped to nobody) or a container whose item
//                                 count differs from what it declares (one each)
//   imported                      copies delivered by this run
//   partially imported            copies stored with part of them missing: always
//                                 0 here, a message is stored whole or not at all
//   skipped as duplicates         copies already in their mailbox, or being
//                                 delivered by another run at the same time
//   failed                        the rest: copies not delivered (failed, or
//                                 unknown: looked up before any resend), copies
//                                 not attempted because the run stopped, and
//                                 the items counted above that could not be planned
// and available for import = imported + partially imported + skipped + failed,
// checked in code (summarize), so that no copy goes unaccounted for.
import { XipError } from '../errors.js';
import { failureSubject, oneLine, type FailureLine, type RunLogJson } from './run-log.js';

export interface RunSummary {
  readonly itemsAvailableFromSource: number;
  readonly itemsAvailableForImport: number;
  readonly imported: number;
  readonly partiallyImported: number;
  readonly skippedDuplicates: number;
  readonly failed: number;
}

export interface ConnectorRunLog {
  readonly runId: number;
  readonly connector: string;
  readonly trigger: string | null;
  readonly startedAt: Date;
  /** Null while running, or when the run died before finishing. */
  readonly completedAt: Date | null;
  readonly ok: boolean | null;
  readonly code: string | null;
  readonly log: RunLogJson | null;
}

export function summarize(log: RunLogJson): RunSummary {
  const failedItems = log.failedItems ?? 0;
  const notAttempted = log.notAttempted ?? 0;
  const summary: RunSummary = {
    itemsAvailableFromSource: log.itemsFromSource,
    itemsAvailableForImport: log.itemsForImport + failedItems,
    imported: log.imported,
    partiallyImported: 0,
    skippedDuplicates: log.skippedDuplicates + log.inProgressElsewhere,
    failed: log.failed + notAttempted,
  };
  const sum = summary.imported + summary.partiallyImported + summary.skippedDuplicates + summary.failed;
  if (sum !== summary.itemsAvailableForImport) {
    throw new XipError('RUN_FAILED', `the run's figures do not add up: ${summary.itemsAvailableForImport} copies available for import, but ${sum} imported, partially imported, skipped or failed`);
  }
  return summary;
}

const FIGURES: readonly [keyof RunSummary, string][] = [
  ['itemsAvailableFromSource', 'Items available from source'],
  ['itemsAvailableForImport', 'Items available for import'],
  ['imported', 'Imported'],
  ['partiallyImported', 'Partially imported'],
  ['skippedDuplicates', 'Skipped as duplicates'],
  ['failed', 'Failed'],
];

/** "No items ingested on DATE": a day when the source offered nothing new. */
export function nothingIngested(run: ConnectorRunLog): string | undefined {
  if (!run.log || run.log.itemsFromSource > 0 || run.log.containers.some((c) => c.ok)) return undefined;
  return `No items ingested on ${(run.completedAt ?? run.startedAt).toISOString().slice(0, 10)}`;
}


/** The log of one run for a terminal: status, the figures, containers, failures (all of them, as given), unmapped users. */
export function formatConnectorLog(run: ConnectorRunLog, failures: readonly FailureLine[]): string[] {
  const status = run.completedAt === null ? 'not finished (running, or stopped by a crash: the next run resumes it)' : run.ok ? 'succeeded' : run.code ? `failed (${run.code})` : 'completed with errors (a file rejected, or copies failed)';
  const lines = [
    `Run ${run.runId} of ${run.connector}${run.trigger ? ` (${run.trigger})` : ''}`,
    `Started      ${run.startedAt.toISOString()}`,
    `Completed    ${run.completedAt ? run.completedAt.toISOString() : '—'}`,
    `Status       ${status}`,
  ];
  if (!run.log) {
    lines.push(run.completedAt ? 'Its log was pruned.' : 'No log yet.');
    return lines;
  }
  const quiet = nothingIngested(run);
  if (quiet) lines.push(quiet);
  const s = summarize(run.log);
  const width = Math.max(...FIGURES.map(([, label]) => label.length));
  for (const [key, label] of FIGURES) lines.push(`${label.padEnd(width)}  ${s[key]}`);
  for (const c of run.log.containers) {
    lines.push(oneLine(`${c.ok ? 'verified' : 'rejected'} ${c.file}${c.sha256 ? ` sha256:${c.sha256}` : ''}${c.ok ? `, ${c.items ?? 0} items` : `: ${c.code}${c.message ? ` — ${c.message}` : ''}`}`));
  }
  for (const f of failures) {
    lines.push(oneLine(`${f.outcome === 'unknown' ? 'unknown' : 'failed'} ${failureSubject(f)}${f.sourceUserId ? ` (${f.sourceUserId})` : ''}${f.mailbox ? ` → ${f.mailbox}` : ''}: ${f.code}: ${f.reason}`));
  }
  for (const u of run.log.unmapped) lines.push(oneLine(`unmapped user ${u.email ?? ''}${u.sourceId ? ` (${u.sourceId})` : ''}: ${u.items} ${u.items === 1 ? 'item' : 'items'}`));
  return lines;
}

export const CSV_COLUMNS = ['runId', 'completedAt', 'record', 'name', 'value', 'itemId', 'sourceUserId', 'mailbox', 'file', 'sha256', 'code', 'reason'] as const;
type CsvRow = Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null | undefined>>;

/**
 * A field as RFC 4180 writes it, made safe for spreadsheets: text that starts
 * with "=", "+", "-", "@" (or a tab or carriage return, which some read as
 * the same) gets a leading apostrophe, so that a cell holding an item's id or
 * a reason quoting the source is shown, never run as a formula (OWASP, CSV
 * injection). Numbers are written as numbers.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The downloadable log of runs (newest first, as given), one table: a row per figure, container, failure and unmapped user. */
export function connectorLogCsv(runs: readonly { run: ConnectorRunLog; failures: readonly FailureLine[] }[]): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  const add = (row: CsvRow) => rows.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(','));
  for (const { run, failures } of runs) {
    const base = { runId: run.runId, completedAt: run.completedAt?.toISOString() ?? '' };
    add({ ...base, record: 'status', name: run.completedAt === null ? 'not finished' : run.ok ? 'succeeded' : run.code ? 'failed' : 'completed with errors', code: run.code, reason: run.log ? undefined : run.completedAt ? 'log pruned' : undefined });
    if (!run.log) continue;
    const quiet = nothingIngested(run);
    if (quiet) add({ ...base, record: 'note', reason: quiet });
    const s = summarize(run.log);
    for (const [key, label] of FIGURES) add({ ...base, record: 'count', name: label, value: s[key] });
    for (const c of run.log.containers) add({ ...base, record: 'container', name: c.ok ? 'verified' : 'rejected', value: c.items, file: c.file, sha256: c.sha256, code: c.code, reason: c.message });
    for (const f of failures) add({ ...base, record: f.outcome === 'unknown' ? 'unknown' : 'failure', itemId: f.itemId, sourceUserId: f.sourceUserId, mailbox: f.mailbox, file: f.file ?? f.entry, code: f.code, reason: f.reason });
    for (const u of run.log.unmapped) add({ ...base, record: 'unmapped', name: u.email, value: u.items, sourceUserId: u.sourceId, code: 'ITEM_UNMAPPED' });
  }
  return rows.join('\r\n') + '\r\n';
}
