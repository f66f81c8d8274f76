// The APPENDUID response code of UIDPLUS (RFC 4315 §3): "APPENDUID
// <uidvalidity> <uid-set>", where for a MULTIAPPEND the uid-set lists the new
// UIDs in the order the messages were appended.
import type { ImapResponse } from 'imapflow';

export interface AppendUid {
  readonly uidValidity: string;
  readonly uids: number[];
}

const MAX_UID = 0xffffffff;

function uidOf(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_UID ? n : undefined;
}

/** Expands a uid-set ("5:7,9") in order; undefined when it is malformed. */
export function expandUidSet(set: string, limit: number): number[] | undefined {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b, ...rest] = part.split(':');
    if (rest.length > 0 || a === undefined) return undefined;
    const from = uidOf(a);
    const to = b === undefined ? from : uidOf(b);
    if (from === undefined || to === undefined) return undefined;
    const step = from <= to ? 1 : -1;
    if (Math.abs(to - from) + 1 + out.length > limit) return undefined; // more UIDs than messages: not ours
    for (let uid = from; ; uid += step) {
      out.push(uid);
      if (uid === to) break;
    }
  }
  return out;
}

/** The APPENDUID of a tagged OK, or undefined when there is none (no UIDPLUS) or it is malformed. */
export function appendUidOf(response: ImapResponse, expected: number): AppendUid | undefined {
  const first = response.attributes?.[0];
  const section = first && !Array.isArray(first) ? first.section : undefined;
  if (!section || section.length < 3) return undefined;
  const [code, validity, set] = section;
  const text = (a: typeof code): string | undefined => (a && !Array.isArray(a) && (typeof a.value === 'string' || typeof a.value === 'number') ? String(a.value) : undefined);
  if (text(code)?.toUpperCase() !== 'APPENDUID') return undefined;
  const uidValidity = text(validity);
  const setText = text(set);
  if (uidValidity === undefined || !/^[1-9][0-9]{0,9}$/.test(uidValidity) || setText === undefined) return undefined;
  const uids = expandUidSet(setText, expected);
  if (!uids || uids.length !== expected) return undefined;
  return { uidValidity, uids };
}
