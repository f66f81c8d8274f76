// A container staged and verified, ready to hand out its data entries
// (xip-format.md §4: "copy the file to storage it controls first; never
// verify one file and then reopen it by name"). The file is copied once into a
// private staging directory while its SHA-256 is computed; the copy is opened
// once, verified, and every later read of an entry goes through that same
// handle. Implements the items/ port (VerifiedEntries).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { XipError } from '../errors.js';
import type { DataEntry, VerifiedEntries } from '../items/ports.js';
import { showPath } from './show-path.js';
import { openForReading, verifyHandle, type VerifyOptions, type VerifyReport } from './verify.js';

export interface StageOptions extends Omit<VerifyOptions, 'sink'> {
  /** Where the private copy goes (a directory of its own is made inside); default: the system's temporary directory. */
  readonly stagingDir?: string;
}

export interface OpenedContainer extends VerifiedEntries {
  readonly report: VerifyReport;
  /** Name of the file as received. */
  readonly file: string;
  readonly size: number;
  /** Closes the handle and removes the private copy. */
  close(): Promise<void>;
}

/** A rejected container, with the SHA-256 of the file as received (for the run's log and the evidence). */
export class RejectedContainer extends XipError {
  constructor(
    error: XipError,
    readonly sha256: string | undefined,
  ) {
    super(error.code, error.detail, { entry: error.entry, cause: error });
  }
}

class HashingCount extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/** A container to stage: a file path, or a name with the bytes to read once (a ContainerSource's ref). */
export type ContainerInput = string | { readonly name: string; open(): Promise<Readable> };

/** Copies the input into a fresh private directory, computing its SHA-256 on the way. */
async function stage(input: ContainerInput, stagingDir: string): Promise<{ dir: string; copy: string; sha256: string; size: number }> {
  const name = typeof input === 'string' ? input : input.name;
  // A path is checked and opened before anything is made (a FIFO would block the copy forever).
  const source = typeof input === 'string' ? await openForReading(input) : undefined;
  try {
    await mkdir(stagingDir, { recursive: true });
  } catch (e) {
    await source?.close();
    const err = e as NodeJS.ErrnoException;
    throw new XipError('IO_ERROR', `cannot use ${showPath(stagingDir)} for staging: ${err.code ?? err.message}`, { cause: e });
  }
  const dir = await mkdtemp(join(stagingDir, 'xip-stage-'));
  await chmod(dir, 0o700);
  // The copy's name is ours: the source's name may hold anything.
  const copy = join(dir, 'container.xip');
  const hashing = new HashingCount();
  try {
    const bytes =
      typeof input === 'string' ? source!.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false }) : await input.open();
    await pipeline(bytes, hashing, createWriteStream(copy, { flags: 'wx', mode: 0o600 }));
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    if (e instanceof XipError) throw e; // the source's own verdict (a FIFO refused…), as it said it
    const err = e as NodeJS.ErrnoException;
    throw new XipError('IO_ERROR', `cannot stage ${showPath(name)}: ${err.code ?? err.message}`, { cause: e });
  } finally {
    await source?.close();
  }
  return { dir, copy, sha256: hashing.hash.digest('hex'), size: hashing.bytes };
}

/**
 * Stages, then verifies. Throws RejectedContainer (an XipError with the file's
 * SHA-256) when a verification step fails, XipError IO_ERROR when the file
 * cannot be read.
 */
export async function openVerifiedContainer(input: ContainerInput, options: StageOptions): Promise<OpenedContainer> {
  const path = typeof input === 'string' ? input : input.name;
  const staged = await stage(input, options.stagingDir ?? tmpdir());
  let handle: FileHandle | undefined;
  try {
    handle = await openForReading(staged.copy);
    const { report, archive, dataEntries } = await verifyHandle(handle, options);
    const opened = handle;
    const entries: DataEntry[] = report.entries.map((e) => ({ name: e.name, size: e.size, sha256: e.sha256, mimeType: e.mimeType }));
    return {
      report,
      file: path,
      size: staged.size,
      sha256: staged.sha256,
      signer: report.signer,
      packageSource: report.package?.source,
      packageItems: report.package?.items,
      entries,
      openEntry(name: string): Readable {
        const entry = dataEntries.get(name);
        if (!entry) throw new XipError('ENTRY_MISSING', `no data entry "${name}"`, { entry: name });
        return archive.openEntry(entry);
      },
      async close(): Promise<void> {
        await opened.close();
        await rm(staged.dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await handle?.close();
    await rm(staged.dir, { recursive: true, force: true });
    if (e instanceof XipError && !(e instanceof RejectedContainer) && e.code !== 'IO_ERROR') throw new RejectedContainer(e, staged.sha256);
    throw e;
  }
}
