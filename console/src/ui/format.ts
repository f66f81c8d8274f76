// How times, sizes and counts read on every page: the browser's own locale
// and time zone, with the exact ISO time kept in <time dateTime>.
// 24-hour times everywhere: a schedule's "0 2 * * *" reads as 02:00, not 2:00 AM.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium', hourCycle: 'h23' });
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const numberFormat = new Intl.NumberFormat();

export function formatTime(iso: string | null | undefined, seconds = false): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return (seconds ? dateTimeSeconds : dateTime).format(d);
}

/** A time as read in a time zone, with the zone named: "Wed, Dec 2, 2026, 02:00 UTC". */
export function formatTimeIn(iso: string, timeZone: string): string {
  const d = new Date(iso);
  try {
    return `${new Intl.DateTimeFormat(undefined, { weekday: 'short', dateStyle: undefined, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }).format(d)} ${timeZone}`;
  } catch {
    return formatTime(iso);
  }
}

/** "2026-12-01" (a UTC day) as "Dec 1". */
export function formatDay(isoDay: string): string {
  const d = new Date(`${isoDay}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? isoDay : day.format(d);
}

export function formatCount(n: number | null | undefined): string {
  return n == null ? '—' : numberFormat.format(n);
}

export function formatBytes(n: number | null | undefined): string {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** How long from start to finish, "2 min 5 s". */
export function formatDuration(startIso: string, endIso: string | null): string {
  if (!endIso) return '—';
  const ms = new Date(endIso).getTime() - new Date(startIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
