// Turns the demo's export specs into signed XIP files the way a platform's
// exporter would: its items and attachments laid out in a folder, packed and
// signed by src/xip/pack.ts, and one copy tampered with after signing.
import type { KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { resolveZipLimits } from '../limits.js';
import type { X509 } from '../xip/cms/index.js';
import { packDirectory } from '../xip/pack.js';
import { openZip } from '../xip/zip/reader.js';
import type { ExportSpec } from './exports.js';

export interface Signer {
  readonly certificate: X509;
  readonly privateKey: KeyObject;
}

export interface PackedExport {
  readonly name: string;
  readonly day: string;
  readonly tampered: boolean;
  /** As the container declares it (xip:Package items): every item line and .json entry. */
  readonly items: number;
}

export const exportName = (spec: ExportSpec) => `${spec.source}-${spec.day}.xip`;

/** The exact size of the generated blotter: 12 MiB, over the 10 MB per message a commercial service takes. */
export const BLOTTER_BYTES = 12 * 1024 * 1024;

/** xorshift32: the same "random" trades on every run, so the attachment is byte for byte the same for a day. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const PAIRS: readonly [string, number][] = [['EURCHF', 0.94], ['USDCHF', 0.88], ['EURUSD', 1.07], ['GBPCHF', 1.11], ['EURGBP', 0.85]];
const BOOKS = ['FX-SPOT', 'FX-FWD', 'FX-SWAP'];
const TRADERS = ['ana.ruiz@corp.example', 'bo.chen@corp.example', 'dev.patel@corp.example'];
/** Longer than any row written (about 150 characters). */
const MAX_ROW = 256;
const COUNTERPARTIES = ['Helvetia AM', 'Alpine Broker AG', 'Nordhafen Bank', 'Lakeside Pension Fund', 'Custody Bank SA'];

/**
 * A realistic trade blotter CSV, trades going back from the end of `day`,
 * its last line's comment column padded so that it is exactly BLOTTER_BYTES
 * long.
 */
export function tradeBlotter(day: string): Buffer {
  const random = prng(0x7f3a9c);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const end = Date.parse(`${day}T23:59:59Z`);
  const rows = ['tradeId,tradeTime,book,trader,pair,side,notional,rate,valueDate,counterparty,status,comment\n'];
  let size = rows[0]!.length;
  for (let i = 0; ; i++) {
    const time = new Date(end - i * 41_000);
    const [pair, mid] = pick(PAIRS);
    const value = new Date(time.getTime() + 2 * 86_400_000).toISOString().slice(0, 10);
    const notional = (1 + Math.floor(random() * 500)) * 100_000;
    const rate = (mid * (1 + (random() - 0.5) / 50)).toFixed(5);
    const row = `FX-${day.replaceAll('-', '')}-${String(i).padStart(6, '0')},${time.toISOString()},${pick(BOOKS)},${pick(TRADERS)},${pair},${random() < 0.5 ? 'BUY' : 'SELL'},${notional},${rate},${value},${pick(COUNTERPARTIES)},${random() < 0.97 ? 'reconciled' : 'amended'},`;
    // The last row that leaves no room for another takes the rest in its comment.
    if (size + row.length + 1 + MAX_ROW > BLOTTER_BYTES) {
      rows.push(`${row}end of blotter`.padEnd(BLOTTER_BYTES - size - 1, '.'), '\n');
      break;
    }
    rows.push(row, '\n');
    size += row.length + 1;
  }
  return Buffer.from(rows.join(''), 'latin1');
}

/** Lays out one export's folder: its item entries, generated attachments and xip.json. */
async function layOut(spec: ExportSpec, folder: string): Promise<number> {
  let items = 0;
  const put = async (name: string, bytes: Buffer | string) => {
    await mkdir(dirname(join(folder, name)), { recursive: true });
    await writeFile(join(folder, name), bytes, { flag: 'wx' });
  };
  for (const [name, list] of Object.entries(spec.entries)) {
    if (name.endsWith('.json') && list.length !== 1) throw new Error(`${name}: a .json entry holds exactly one item`);
    await put(name, name.endsWith('.ndjson') ? list.map((i) => JSON.stringify(i) + '\n').join('') : JSON.stringify(list[0], null, 2) + '\n');
    items += list.length;
  }
  for (const [name, kind] of Object.entries(spec.generated ?? {})) {
    if (kind === 'trade-blotter') await put(name, tradeBlotter(spec.day));
  }
  const next = new Date(Date.parse(`${spec.day}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z');
  const facts = { source: spec.source, exportedFrom: `${spec.day}T00:00:00Z`, exportedTo: next, items };
  await put('xip.json', JSON.stringify(facts, null, 2) + '\n');
  return items;
}

/** `find` replaced by `replace` at its first occurrence; they must differ in exactly one byte, so one entry byte changes. */
function alterOneByte(bytes: Buffer, find: string, replace: string): Buffer {
  const from = Buffer.from(find);
  const to = Buffer.from(replace);
  const differing = from.length === to.length ? from.filter((b, i) => b !== to[i]).length : -1;
  const at = bytes.indexOf(from);
  if (differing !== 1 || at < 0) throw new Error(`cannot tamper: "${find}" → "${replace}" is not a one-byte change of the entry`);
  const out = Buffer.from(bytes);
  to.copy(out, at);
  return out;
}

/**
 * A copy of a signed container with one byte of one entry changed and
 * nothing else: a ZIP as valid as before (CRC and sizes rewritten), whose
 * manifest and signature no longer cover the entry. The same kind of
 * tampering as `xip demo` shows.
 */
async function tamperedCopy(signed: string, target: string, tamper: NonNullable<ExportSpec['tamper']>): Promise<void> {
  const handle = await open(signed, 'r');
  try {
    const archive = await openZip(handle, resolveZipLimits());
    const zip = new yazl.ZipFile();
    for (const entry of archive.entries) {
      const bytes = await archive.readEntry(entry, 64 * 1024 * 1024);
      const data = entry.name === tamper.entry ? alterOneByte(bytes, tamper.find, tamper.replace) : bytes;
      zip.addBuffer(data, entry.name, { compress: entry.compressionMethod === 8, forceDosTimestamp: true });
    }
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(target, { flags: 'wx' }));
  } finally {
    await handle.close();
  }
}

/**
 * Packs one export into `outDir` (in a folder of its own under `stage` first),
 * signed at `created`; the file's modification time is `created` too, as if
 * the platform had dropped it then.
 */
export async function packExport(spec: ExportSpec, dirs: { stage: string; outDir: string }, signer: Signer, created: Date): Promise<PackedExport> {
  const name = exportName(spec);
  const folder = join(dirs.stage, name.replace(/\.xip$/, ''));
  await layOut(spec, folder);
  const output = join(dirs.outDir, name);
  const signed = spec.tamper === undefined ? output : join(dirs.stage, name);
  const packed = await packDirectory({ dir: folder, output: signed, certificate: signer.certificate, privateKey: signer.privateKey, source: spec.source, created });
  if (spec.tamper !== undefined) await tamperedCopy(signed, output, spec.tamper);
  await utimes(output, created, created);
  return { name, day: spec.day, tampered: spec.tamper !== undefined, items: packed.package?.items ?? 0 };
}
