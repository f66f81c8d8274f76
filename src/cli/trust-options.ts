// Loading what --trust, --crl, --at and the limit options name, for every command that verifies.
import { readFile } from 'node:fs/promises';
import { XipError } from '../errors.js';
import type { ZipLimits } from '../limits.js';
import { parseCertificates, parseCrls, type Crl, type X509 } from '../xip/cms/index.js';
import { shortPath } from './paths.js';

export interface TrustFlags {
  trust?: string[];
  crl?: string[];
  at?: string;
  maxEntries?: string;
  maxTotalSize?: string;
  maxRatio?: string;
}

export interface LoadedTrust {
  trust: X509[];
  crls: Crl[];
  at?: Date;
  limits: Partial<ZipLimits>;
}

async function readInput(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new XipError('IO_ERROR', `cannot read ${shortPath(path)}: ${err.code ?? err.message}`, { cause: e });
  }
}

/** RFC 3339 with a time zone ("2019-07-30T12:00:00Z"); a bare date is taken as midnight UTC. */
export function parseTime(value: string, flag: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2}))?$/.test(value);
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (!ok || Number.isNaN(date.getTime())) throw new XipError('USAGE', `${flag} "${shortPath(value)}" is not an RFC 3339 time such as 2026-11-22T14:03:11Z`);
  return date;
}

function parseCount(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  // Beyond 2^53 a number would not be the one written: refused rather than rounded.
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new XipError('USAGE', `${flag} must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got "${shortPath(value)}"`);
  return Number(value);
}

export async function loadTrust(flags: TrustFlags): Promise<LoadedTrust> {
  if (!flags.trust || flags.trust.length === 0) throw new XipError('USAGE', 'give at least one --trust PEM: the certificates you trust to sign containers');
  const trust: X509[] = [];
  for (const path of flags.trust) trust.push(...parseCertificates(await readInput(path), path));
  const crls: Crl[] = [];
  for (const path of flags.crl ?? []) crls.push(...parseCrls(await readInput(path), path));
  const limits: Partial<ZipLimits> = {};
  const maxEntries = parseCount(flags.maxEntries, '--max-entries');
  const maxTotal = parseCount(flags.maxTotalSize, '--max-total-size');
  const maxRatio = parseCount(flags.maxRatio, '--max-ratio');
  if (maxEntries !== undefined) Object.assign(limits, { maxEntries });
  if (maxTotal !== undefined) Object.assign(limits, { maxTotalUncompressed: maxTotal });
  if (maxRatio !== undefined) Object.assign(limits, { maxCompressionRatio: maxRatio });
  return { trust, crls, ...(flags.at !== undefined ? { at: parseTime(flags.at, '--at') } : {}), limits };
}

export { readInput };
