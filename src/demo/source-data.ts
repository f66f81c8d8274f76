// The source data of the connector demo: a throwaway PKI, a folder of signed
// XIP exports from three platforms over the last three days (one of them
// tampered with after signing), the organisation's directory and a custom
// mapping, and the figures a run of a connector over that folder should
// show. Only data is written here; the demo creates and runs the connector.
//
// Everything is the same on every run except the keys and the dates: the
// days are the three before `today` (UTC), and the items' times, ids and the
// blotter's trades follow them.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateItem } from '../items/index.js';
import { loadDirectory, loadMapping, mappingOptions, resolveMailboxes } from '../mapping/index.js';
import { loadPrivateKey, parseCertificates } from '../xip/cms/index.js';
import { issueSigningIdentity } from '../xip/keys.js';
import { chatExports, type DemoDays, type ExportSpec } from './exports.js';
import { exportName, packExport, type Signer } from './pack-exports.js';
import { DIRECTORY_CSV, MAPPING_CSV, UNMAPPED_EMAIL } from './people.js';
import { collabExport, socialExports } from './posts.js';

export interface DemoSource {
  /** Path of the demo CA certificate (PEM) to pass as --trust. */
  trustPem: string;
  /** Path of the directory of users (xip-items.md §4). */
  directoryCsv: string;
  /** Path of the custom mapping sourceId,mailbox; one user is mapped by source id only. */
  mappingCsv: string;
  /** The folder holding the *.xip exports (dir/source). */
  sourceDir: string;
  files: { name: string; day: string /* YYYY-MM-DD */; tampered: boolean; items: number }[];
  expected: {
    /** Items in the files that verify (the tampered one excluded). */
    itemsFromSource: number;
    /** Copies planned after fan-out: one per distinct mailbox per item (§4), holdOnly off, no catch-all needed. */
    copies: number;
    /** A participant no directory address, alias or mapping covers: written into its messages, no copy. */
    unmappedEmail: string;
    /** The XIP error code verification gives the tampered file. */
    tamperedCode: string;
  };
}

/**
 * Verification step 5 (xip-format.md §4): the tampered copy is a well-formed
 * ZIP whose manifest and signature are untouched, so the signature still
 * verifies over the manifest and the changed entry's digest is what differs.
 */
const TAMPERED_CODE = 'DIGEST_MISMATCH';

const DAY_MS = 86_400_000;

/** `back` days before `today`'s UTC date, as YYYY-MM-DD. */
function utcDay(today: Date, back: number): string {
  return new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - back)).toISOString().slice(0, 10);
}

/**
 * CA and signer under `pki`, valid from before the first exported day (each
 * export is signed at the time it was made) until a year after both the
 * clock and `today`, so that a `today` in the past or future still verifies
 * now. The CA key is kept here, never in the source folder.
 */
async function writePki(pki: string, today: Date, days: DemoDays): Promise<{ trustPem: string; signer: Signer }> {
  const now = Date.now();
  const notBefore = new Date(Math.min(now - 60_000, Date.parse(`${days.d1}T00:00:00Z`) - 3_600_000));
  const validDays = Math.ceil((Math.max(now, today.getTime()) - notBefore.getTime()) / DAY_MS) + 365;
  const id = issueSigningIdentity({ caName: 'Corp Example demo archive CA', signerName: 'Demo platforms export signer', organization: 'Corp Example', notBefore, days: validDays });
  await mkdir(pki);
  const trustPem = join(pki, 'ca.pem');
  const secret = async (name: string, pem: string) => {
    await writeFile(join(pki, name), pem, { flag: 'wx', mode: 0o600 });
    await chmod(join(pki, name), 0o600); // whatever the umask
  };
  await writeFile(trustPem, id.caCertificatePem, { flag: 'wx' });
  await secret('ca.key', id.caPrivateKeyPem);
  await writeFile(join(pki, 'signer.pem'), id.certificatePem, { flag: 'wx' });
  await secret('signer.key', id.privateKeyPem);
  const signer = {
    certificate: parseCertificates(Buffer.from(id.certificatePem), 'signer.pem')[0]!,
    privateKey: loadPrivateKey(Buffer.from(id.privateKeyPem), 'signer.key'),
  };
  return { trustPem, signer };
}

/**
 * The copies the connector plans for these exports, by the project's own
 * mapping: each item as the reader validates it, resolved against the
 * directory and mapping the demo writes (holdOnly off, no catch-all).
 */
export function plannedCopies(specs: readonly ExportSpec[]): number {
  const directory = loadDirectory(DIRECTORY_CSV, 'directory.csv');
  const options = mappingOptions({ directory, mapping: loadMapping(MAPPING_CSV, 'mapping.csv', directory) });
  let copies = 0;
  for (const spec of specs) {
    for (const item of Object.values(spec.entries).flat()) {
      const checked = validateItem(JSON.parse(JSON.stringify(item)));
      if (!checked.ok) throw new Error(`demo item ${item.id} is invalid: ${checked.message}`);
      copies += resolveMailboxes(checked.item, options).mailboxes.length;
    }
  }
  return copies;
}

/** The exports of the three days sorted by file name (code units): the order a folder source lists them (sources/folder.ts). */
export function demoExports(days: DemoDays): ExportSpec[] {
  const all = [...chatExports(days), ...socialExports(days), collabExport(days)];
  return all.sort((a, b) => (exportName(a) < exportName(b) ? -1 : exportName(a) > exportName(b) ? 1 : 0));
}

/** The time a day's export was made: a quarter past midnight after it, but never after `today`. */
const exportedAt = (day: string, today: Date) => new Date(Math.min(Date.parse(`${day}T00:15:00Z`) + DAY_MS, today.getTime()));

export async function writeDemoSource(options: { dir: string; today?: Date }): Promise<DemoSource> {
  const { dir } = options;
  const today = options.today ?? new Date();
  const days: DemoDays = { d1: utcDay(today, 3), d2: utcDay(today, 2), d3: utcDay(today, 1) };
  const { trustPem, signer } = await writePki(join(dir, 'pki'), today, days);
  const directoryCsv = join(dir, 'directory.csv');
  const mappingCsv = join(dir, 'mapping.csv');
  await writeFile(directoryCsv, DIRECTORY_CSV, { flag: 'wx' });
  await writeFile(mappingCsv, MAPPING_CSV, { flag: 'wx' });

  const sourceDir = join(dir, 'source');
  await mkdir(sourceDir);
  const specs = demoExports(days);
  // The exporters' working folders: next to the source folder (never in it,
  // where a connector would see them), and gone once the files are packed.
  const stage = await mkdtemp(join(dir, '.exporting-'));
  const files: DemoSource['files'] = [];
  try {
    for (const spec of specs) files.push(await packExport(spec, { stage, outDir: sourceDir }, signer, exportedAt(spec.day, today)));
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  const verified = specs.filter((s) => s.tamper === undefined);
  return {
    trustPem,
    directoryCsv,
    mappingCsv,
    sourceDir,
    files,
    expected: {
      itemsFromSource: files.filter((f) => !f.tampered).reduce((n, f) => n + f.items, 0),
      copies: plannedCopies(verified),
      unmappedEmail: UNMAPPED_EMAIL,
      tamperedCode: TAMPERED_CODE,
    },
  };
}
