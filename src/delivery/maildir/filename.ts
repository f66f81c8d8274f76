// Unique Maildir file names (https://cr.yp.to/proto/maildir.html, and the
// Dovecot extension ",S=<size>" so that Dovecot need not stat the file to know
// its physical size): `<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>` in tmp/, and
// the same plus the info ":2,S" (seen) once moved into cur/.
import { hostname } from 'node:os';

let sequence = 0; // Q<n>: unique within this process, whatever the clock does

/** The host part, with the characters that carry meaning in a Maildir name escaped as Dovecot does. */
export function maildirHost(host: string = hostname()): string {
  return host.replace(/[/:,\\]/g, (ch) => '\\' + ch.charCodeAt(0).toString(8).padStart(3, '0')) || 'localhost';
}

export interface UniqueName {
  /** The name in tmp/ (and the part of the name in cur/ that never changes). */
  readonly base: string;
  /** The name in cur/: base + ":2,S" (\Seen). */
  readonly cur: string;
}

export function uniqueName(size: number, host: string, now: number = performance.timeOrigin + performance.now()): UniqueName {
  sequence += 1;
  const seconds = Math.floor(now / 1000);
  const micros = Math.floor((now - seconds * 1000) * 1000);
  const base = `${seconds}.M${micros}P${process.pid}Q${sequence}.${host},S=${size}`;
  return { base, cur: `${base}:2,S` };
}

/** The part of a file name in cur/ or new/ that flag changes leave alone. */
export function baseOf(fileName: string): string {
  const colon = fileName.indexOf(':');
  return colon < 0 ? fileName : fileName.slice(0, colon);
}
