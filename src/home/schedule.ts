// A connector's schedule: a cron expression read in a time zone (IANA; the
// server's own when the configuration names none). The one place that turns
// a configuration into croner's jobs, so that the scheduler, `xip connector
// list`, the API and the wizard all read the same expression the same way.
import { Cron } from 'croner';
import { isTimeZone } from '../connector/config.js';
import { XipError } from '../errors.js';

export interface Schedule {
  readonly schedule: string;
  readonly timezone?: string | undefined;
}

const EXAMPLE = '(a cron expression such as "0 2 * * *", every day at 02:00)';

/** The zone a schedule is read in: its own, else this process's. */
export function zoneOf(s: Schedule): string {
  return s.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** CONFIG_INVALID naming the field (`label`: how the caller calls it, e.g. "--schedule") when the zone is unknown or croner does not take the expression. */
export function checkSchedule(s: Schedule, label = 'schedule'): void {
  if (s.timezone !== undefined && !isTimeZone(s.timezone)) {
    throw new XipError('CONFIG_INVALID', `timezone "${s.timezone.slice(0, 64)}": not a time zone of the IANA database (such as UTC or Europe/Paris)`);
  }
  try {
    new Cron(s.schedule, { paused: true, timezone: zoneOf(s) }).stop();
  } catch (e) {
    throw new XipError('CONFIG_INVALID', `${label} "${s.schedule.slice(0, 80)}": ${(e as Error).message} ${EXAMPLE}`);
  }
}

/** The next `count` runs after `from`. */
export function nextRuns(s: Schedule, count: number, from: Date = new Date()): Date[] {
  const cron = new Cron(s.schedule, { paused: true, timezone: zoneOf(s) });
  try {
    return cron.nextRuns(count, from);
  } finally {
    cron.stop();
  }
}

/** The next run after `from`, or null when the expression has none left. */
export function nextRun(s: Schedule, from: Date = new Date()): Date | null {
  return nextRuns(s, 1, from)[0] ?? null;
}

/** A job firing on the schedule (the scheduler's). */
export function scheduleJob(s: Schedule, fire: () => void): Cron {
  return new Cron(s.schedule, { timezone: zoneOf(s) }, fire);
}

/** What identifies a schedule: a job is replaced when this changes. */
export function scheduleKey(s: Schedule): string {
  return `${s.schedule}\u0000${s.timezone ?? ''}`;
}
