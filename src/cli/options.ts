// Option declarations and flag readers shared by the commands.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { XipError } from '../errors.js';
import { shortPath } from './paths.js';

/** A count flag from 1 to 999999 (USAGE otherwise). */
export function wholeFlag(name: string, value: string | undefined): number {
  if (!/^[1-9]\d{0,5}$/.test(value ?? '')) throw new XipError('USAGE', `${name} must be a whole number from 1 to 999999, got "${shortPath(value ?? '')}"`);
  return Number(value);
}

/** A text file a flag names (a directory, a mapping, a trust file…), IO_ERROR naming `what` when it cannot be read. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new XipError('IO_ERROR', `cannot read the ${what} ${shortPath(path)}: ${err.code ?? err.message}`, { cause: e });
  }
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addTrustOptions(cmd: Command): Command {
  return cmd
    .option('--trust <pem>', 'a trusted certificate file (PEM or DER; repeat for more); every one is a trust anchor', collect)
    .option('--crl <crl>', 'a CRL file (PEM or DER; repeat for more)', collect)
    .option('--at <time>', 'validate at this RFC 3339 time instead of a time-stamp or now')
    .option('--max-entries <n>', 'refuse containers with more entries (default 1000000)')
    .option('--max-total-size <bytes>', 'refuse containers with more uncompressed bytes (default 68719476736 = 64 GiB)')
    .option('--max-ratio <n>', 'refuse entries over 1 MiB compressed more than this (default 200)');
}

/** `--auth MODE` as the URL's auth= option of an IMAP target. */
export function withAuth(to: string, auth: string | undefined): string {
  if (auth === undefined) return to;
  if (!/^imaps?:/i.test(to)) throw new XipError('USAGE', `--auth is for an IMAP target (imap:// or imaps://), not ${to.split(':')[0]}:`);
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    return to; // parseTarget says what is wrong with it
  }
  url.searchParams.set('auth', auth);
  return url.toString().replace(/\/\?/, '?').replace(/\/$/, '');
}
