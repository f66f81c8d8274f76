// Archives for the tests: written to a private temporary directory and
// opened read-only, so the reader works on a real fd as in production.
import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { XipError } from '../../../errors.js';
import { resolveZipLimits, type ZipLimits } from '../../../limits.js';
import { openZip, type ZipArchive } from '../reader.js';

/** Writes `bytes` to a temporary file and hands `fn` an open handle; closes and removes it after. */
export async function withZipFile<T>(bytes: Buffer, fn: (handle: FileHandle, path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'xip-zip-test-'));
  const path = join(dir, 'test.zip');
  try {
    await writeFile(path, bytes);
    const handle = await open(path, 'r');
    try {
      return await fn(handle, path);
    } finally {
      await handle.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opens `bytes` with openZip and runs `fn` on the archive while the handle is open. */
export function withArchive<T>(bytes: Buffer, fn: (archive: ZipArchive) => Promise<T>, limits: Partial<ZipLimits> = {}): Promise<T> {
  return withZipFile(bytes, async (handle) => fn(await openZip(handle, resolveZipLimits(limits))));
}

/** The XipError openZip throws for `bytes`; fails the test if it opens. */
export async function openError(bytes: Buffer, limits: Partial<ZipLimits> = {}): Promise<XipError> {
  return withZipFile(bytes, async (handle) => {
    try {
      await openZip(handle, resolveZipLimits(limits));
    } catch (error) {
      if (error instanceof XipError) return error;
      throw error;
    }
    throw new Error('openZip accepted the archive');
  });
}

export interface YazlEntry {
  readonly name: string;
  readonly data?: Buffer | string;
  readonly compress?: boolean;
  /** Stream the data (yazl then writes a data descriptor, flag bit 3). */
  readonly stream?: boolean;
  readonly directory?: boolean;
  readonly mode?: number;
  readonly forceZip64Format?: boolean;
}

/** An archive written by yazl, the way the project's writer makes them. */
export async function yazlZip(entries: readonly YazlEntry[], options: { forceZip64Format?: boolean; comment?: string } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    const common = { mtime: new Date('2024-05-17T12:30:00Z'), mode: e.mode, forceZip64Format: e.forceZip64Format };
    if (e.directory) {
      zip.addEmptyDirectory(e.name, common);
      continue;
    }
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    if (e.stream) {
      zip.addReadStream(Readable.from([data]), e.name, { ...common, compress: e.compress ?? false });
    } else {
      zip.addBuffer(data, e.name, { ...common, compress: e.compress ?? false });
    }
  }
  zip.end({ forceZip64Format: options.forceZip64Format ?? false, comment: options.comment ?? '' });
  const chunks: Buffer[] = [];
  await pipeline(
    zip.outputStream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(chunks);
}
