// The OData query options a contract double of Microsoft Graph understands:
//
// - $filter: exactly `<property> eq '<string literal>'`. String literals are
//   single-quoted and a quote inside is doubled,
//   https://learn.microsoft.com/en-us/graph/query-parameters#escaping-single-quotes
//   and https://learn.microsoft.com/en-us/graph/filter-query-parameter; the
//   query string is decoded as a form (`+` is a space, so a literal `+` must
//   be sent as %2B, as to the service). Anything else: 400 BadRequest
//   "Invalid filter clause".
// - $select: a comma-separated property list; `id` always comes back.
// - $top and paging by @odata.nextLink, https://learn.microsoft.com/en-us/graph/paging:
//   the link is an absolute URL back to the double, to be followed as it is.
//   Outlook collections (folders, messages) page with $skip, as
//   https://learn.microsoft.com/en-us/graph/api/user-list-messages says ("Do
//   not try to extract the $skip value from the @odata.nextLink URL"); the
//   directory pages with an opaque $skiptoken
//   (https://learn.microsoft.com/en-us/graph/api/user-list: "$skip isn't
//   supported").
// Graph takes the options with or without the `$` (the beta endpoint always,
// v1.0 for most); so does the double.

export type Query = URLSearchParams;

export function option(q: Query, name: string): string | null {
  return q.get(`$${name}`) ?? q.get(name);
}

export interface EqFilter {
  readonly property: string;
  readonly value: string;
}

/** `prop eq 'lit''eral'` → {property, value}; undefined when there is no filter; 'invalid' otherwise. */
export function eqFilter(q: Query): EqFilter | undefined | 'invalid' {
  const text = option(q, 'filter');
  if (text === null) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(text);
  if (!m) return 'invalid';
  return { property: m[1]!, value: m[2]!.replaceAll("''", "'") };
}

/** The $select list (lowercased), or undefined for all properties. */
export function selected(q: Query): Set<string> | undefined {
  const text = option(q, 'select');
  if (text === null || text.trim() === '') return undefined;
  return new Set(text.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0));
}

/** `entity` cut to the selected properties (and id, and any @odata annotation). */
export function project(entity: Record<string, unknown>, select: Set<string> | undefined): Record<string, unknown> {
  if (!select) return entity;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entity)) if (k === 'id' || k.startsWith('@odata') || select.has(k.toLowerCase())) out[k] = v;
  return out;
}

/** A whole number in 1..max; undefined if absent; 'invalid' if not a number in range. */
export function intOption(q: Query, name: string, max: number): number | undefined | 'invalid' {
  const text = option(q, name);
  if (text === null) return undefined;
  if (!/^\d+$/.test(text.trim())) return 'invalid';
  const n = Number(text);
  return n >= 0 && n <= max ? n : 'invalid';
}

/** The nextLink: the request's own URL with `name` set to `value` (the other options kept). */
export function nextLink(base: string, pathname: string, q: Query, name: string, value: string): string {
  const next = new URLSearchParams(q);
  next.delete(name);
  next.delete(name.slice(1));
  next.set(name, value);
  return `${base}${pathname}?${next.toString()}`;
}

/** An opaque $skiptoken for an offset (the directory's paging). */
export function skipToken(offset: number): string {
  return `RFNwdAIAAQAAA${Buffer.from(JSON.stringify({ o: offset, r: Math.random().toString(36).slice(2, 8) })).toString('base64url')}`;
}

export function offsetOf(token: string): number | undefined {
  if (!token.startsWith('RFNwdAIAAQAAA')) return undefined;
  try {
    const v = JSON.parse(Buffer.from(token.slice(13), 'base64url').toString('utf8')) as { o?: unknown };
    return typeof v.o === 'number' && Number.isInteger(v.o) && v.o >= 0 ? v.o : undefined;
  } catch {
    return undefined;
  }
}
