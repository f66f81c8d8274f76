// Date-times as the items carry them (RFC 3339, xip-items.md §2) and as .eml
// items carry them (RFC 5322 §3.3). Both keep their own offset: §3 writes the
// Date header "keeping its offset", so the parts are kept, not just an instant.

export interface DateTimeParts {
  readonly year: number;
  readonly month: number; // 1–12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number; // 0–60 (RFC 3339 §5.7 and RFC 5322 §3.3 allow a leap second)
  readonly millisecond: number;
  /** Minutes east of UTC. */
  readonly offsetMinutes: number;
  /** RFC 3339 "-00:00" / RFC 5322 "-0000": the time is UTC and the local offset is unknown. */
  readonly offsetUnknown: boolean;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function valid(p: DateTimeParts): boolean {
  return (
    p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= daysInMonth(p.year, p.month) &&
    p.hour <= 23 && p.minute <= 59 && p.second <= 60 && Math.abs(p.offsetMinutes) < 24 * 60
  );
}

/** RFC 3339 §5.6 date-time with its offset (a "Z" or "±hh:mm"); undefined for anything else. */
export function parseRfc3339(text: string): DateTimeParts | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const n = (i: number): number => Number(m[i]);
  const sign = m[9] === '-' ? -1 : 1;
  const offsetMinutes = m[8] ? 0 : sign * (n(10) * 60 + n(11));
  if (!m[8] && n(11) > 59) return undefined;
  const parts: DateTimeParts = {
    year: n(1), month: n(2), day: n(3), hour: n(4), minute: n(5), second: n(6),
    millisecond: m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0,
    offsetMinutes: offsetMinutes === 0 ? 0 : offsetMinutes, // no -0
    offsetUnknown: m[9] === '-' && n(10) === 0 && n(11) === 0,
  };
  return valid(parts) ? parts : undefined;
}

/** The instant the parts name (a leap second counts as the next second's start). */
export function toDate(p: DateTimeParts): Date {
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month - 1, p.day); // not Date.UTC: it maps years 0–99 to 1900–1999
  d.setUTCHours(p.hour, p.minute, p.second, p.millisecond);
  return new Date(d.getTime() - p.offsetMinutes * 60_000);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function offsetText(p: DateTimeParts, separator: string): string {
  const sign = p.offsetMinutes < 0 || p.offsetUnknown ? '-' : '+';
  const abs = Math.abs(p.offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60))}${separator}${pad(abs % 60)}`;
}

/** RFC 3339 text, seconds precision plus milliseconds when there are any. */
export function formatRfc3339(p: DateTimeParts): string {
  const ms = p.millisecond ? `.${pad(p.millisecond, 3)}` : '';
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${ms}${offsetText(p, ':')}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * RFC 5322 §3.3 date-time in the parts' own offset, e.g. "Sun, 22 Nov 2026 14:03:11 +0100".
 * The format has no fraction of a second, so it is dropped (the instant is still
 * MessageSource.sentAt to the millisecond).
 */
export function formatRfc5322(p: DateTimeParts): string {
  const local = new Date(0);
  local.setUTCFullYear(p.year, p.month - 1, p.day);
  const dow = DAYS[local.getUTCDay()] as string;
  return `${dow}, ${p.day} ${MONTHS[p.month - 1] as string} ${pad(p.year, 4)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)} ${offsetText(p, '')}`;
}

// RFC 5322 §4.3 obs-zone. Military letters are treated as -0000, as §4.3 says to.
const OBS_ZONES: Record<string, number> = {
  UT: 0, UTC: 0, GMT: 0, Z: 0,
  EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420,
};

const RFC5322 = /^(?:[A-Za-z]{3}\s*,?\s*)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([+-]\d{4}|[A-Za-z]{1,5}))?$/;

/** RFC 5322 §3.3 date-time, obsolete forms (§4.3) included; comments dropped. Undefined when unreadable. */
export function parseRfc5322(text: string): DateTimeParts | undefined {
  const cleaned = stripComments(text).replace(/\s+/g, ' ').trim();
  const m = RFC5322.exec(cleaned);
  if (!m) return undefined;
  const month = MONTHS.findIndex((name) => name.toLowerCase() === (m[2] as string).toLowerCase()) + 1;
  if (month === 0) return undefined;
  let year = Number(m[3]);
  if ((m[3] as string).length === 2) year += year < 50 ? 2000 : 1900; // §4.3
  else if ((m[3] as string).length === 3) year += 1900;
  const zone = m[7] ?? '-0000';
  let offsetMinutes = 0;
  let offsetUnknown = false;
  if (/^[+-]\d{4}$/.test(zone)) {
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(3, 5));
    if (mm > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hh * 60 + mm);
    offsetUnknown = zone === '-0000';
  } else {
    const known = OBS_ZONES[zone.toUpperCase()];
    if (known === undefined) offsetUnknown = true;
    else offsetMinutes = known;
  }
  const parts: DateTimeParts = {
    year, month, day: Number(m[1]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6] ?? 0),
    millisecond: 0, offsetMinutes: offsetMinutes === 0 ? 0 : offsetMinutes, offsetUnknown,
  };
  return valid(parts) ? parts : undefined;
}

/** Removes RFC 5322 comments "( … )", nested ones included, outside quoted strings. */
export function stripComments(text: string): string {
  if (!text.includes('(')) return text; // nothing to remove: not a character-by-character copy of a long header
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    if (!quoted && c === '(') { depth++; continue; }
    if (!quoted && c === ')' && depth > 0) { depth--; if (depth === 0) out += ' '; continue; }
    if (depth === 0) out += c;
  }
  return out;
}
