// Items per day of a connector, for the chart of its page: the figures of
// its runs' logs (run-views.ts: runSummary, the meanings of Microsoft's
// connector log) added up per UTC day on which each run started.
//
//   imported     copies delivered
//   duplicates   copies already in their mailbox (or delivered by another run at the same time)
//   failed       copies not delivered, and items that could not become copies
//   runs         runs started that day, finished or not (a run without a log adds to runs only)
//
// Only the runs of the range are read: listRuns pages newest first by id,
// and ids are given in the order runs start, so the paging stops at the
// first page that reaches back before the range. (Runs started by two hosts
// whose clocks disagree may be out of order by that disagreement: a run
// seconds before midnight may then be missed at the range's far edge.)
import type { ConnectorRun, ConnectorStore } from '../ports/connector-store.js';
import { runSummary } from './run-views.js';

export interface DayFigures {
  readonly day: string;
  imported: number;
  duplicates: number;
  failed: number;
  runs: number;
}

const DAY_MS = 86_400_000;
/** Runs read per query. */
export const DAILY_PAGE = 200;

/** The first instant of the oldest of `days` UTC days that end with today's. */
export function rangeStart(now: Date, days: number): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS);
}

/** Every day of the range, oldest first, each with zeros. */
function emptyDays(start: Date, days: number): DayFigures[] {
  return Array.from({ length: days }, (_, i) => ({ day: new Date(start.getTime() + i * DAY_MS).toISOString().slice(0, 10), imported: 0, duplicates: 0, failed: 0, runs: 0 }));
}

function add(day: DayFigures, run: ConnectorRun): void {
  day.runs++;
  const s = runSummary(run);
  if (!s) return;
  day.imported += s.imported;
  day.duplicates += s.skippedDuplicates;
  day.failed += s.failed;
}

/** The connector's figures for each of the last `days` UTC days (today included), oldest first. */
export async function dailyFigures(store: ConnectorStore, connector: string, now: Date, days: number, page = DAILY_PAGE): Promise<DayFigures[]> {
  const start = rangeStart(now, days);
  const out = emptyDays(start, days);
  const byDay = new Map(out.map((d) => [d.day, d]));
  let before: number | undefined;
  for (;;) {
    const runs = await store.listRuns(connector, page, before);
    for (const run of runs) {
      const day = byDay.get(run.startedAt.toISOString().slice(0, 10));
      if (day) add(day, run);
    }
    const last = runs.at(-1);
    if (!last || runs.length < page || last.startedAt < start) return out;
    before = last.id;
  }
}
