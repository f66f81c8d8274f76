// Extraction: verify, then write the data entries under a destination.
// Single pass: step 5 writes each entry into a private staging directory
// inside the destination while digesting it, so the bytes placed are the
// bytes verified; only when every step has passed are they moved into place.
// Nothing is written outside the destination and no existing file is replaced.
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, mkdtemp, realpath, rm, rmdir, unlink, utimes, constants as fsConstants } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { XipError } from '../errors.js';
import { openForReading, verifyHandle, type VerifyOptions, type VerifyReport } from './verify.js';
import type { ZipEntry } from './zip/reader.js';

export interface ExtractOptions extends Omit<VerifyOptions, 'sink'> {
  /** The destination directory; created when missing. */
  readonly dest: string;
}

export interface ExtractResult {
  readonly report: VerifyReport;
  /** Absolute paths written, in manifest order. */
  readonly written: readonly string[];
}

interface Staged {
  readonly entry: ZipEntry;
  readonly path: string;
}

export async function extractFile(path: string, options: ExtractOptions): Promise<ExtractResult> {
  const dest = await prepareDestination(options.dest);
  const staging = await mkdtemp(join(dest, '.xip-extract-'));
  const staged = new Map<string, Staged>();
  const handle = await openForReading(path);
  try {
    let n = 0;
    const { report } = await verifyHandle(handle, {
      ...options,
      sink: (entry) => {
        const stagedPath = join(staging, String(n++));
        staged.set(entry.name, { entry, path: stagedPath });
        // 0600 until verified: nobody else reads what is not yet proven.
        return createWriteStream(stagedPath, { flags: 'wx', mode: 0o600 });
      },
    });
    const written = await place(dest, report.entries.map((e) => staged.get(e.name)!));
    return { report, written };
  } finally {
    await handle.close();
    await rm(staging, { recursive: true, force: true });
  }
}

async function prepareDestination(dir: string): Promise<string> {
  try {
    await mkdir(resolve(dir), { recursive: true });
    return await realpath(resolve(dir));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new XipError('IO_ERROR', `cannot use ${dir} as the destination: ${err.code ?? err.message}`, { cause: e });
  }
}

/** What is at `path`: nothing, a directory, a symbolic link, or something else. */
async function kindOf(path: string): Promise<'none' | 'dir' | 'link' | 'other'> {
  try {
    const st = await lstat(path);
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw e;
  }
}

/** Checks every target first, so that a conflict is found before anything is placed. */
async function checkTargets(dest: string, names: readonly string[]): Promise<void> {
  const checkedDirs = new Set<string>();
  for (const name of names) {
    const segments = name.split('/');
    let dir = dest;
    for (const segment of segments.slice(0, -1)) {
      dir = join(dir, segment);
      if (checkedDirs.has(dir)) continue;
      const kind = await kindOf(dir);
      if (kind === 'link') throw new XipError('EXTRACT_OUTSIDE', `${dir} is a symbolic link`, { entry: name });
      if (kind === 'other') throw new XipError('EXTRACT_TARGET_EXISTS', `${dir} exists and is not a directory`, { entry: name });
      checkedDirs.add(dir);
    }
    const target = join(dest, ...segments);
    if ((await kindOf(target)) !== 'none') throw new XipError('EXTRACT_TARGET_EXISTS', `${target} exists`, { entry: name });
  }
}

async function place(dest: string, entries: readonly Staged[]): Promise<string[]> {
  await checkTargets(dest, entries.map((s) => s.entry.name));
  const placed: string[] = [];
  const createdDirs: string[] = [];
  try {
    for (const { entry, path } of entries) {
      const segments = entry.name.split('/');
      let dir = dest;
      for (const segment of segments.slice(0, -1)) {
        dir = join(dir, segment);
        try {
          await mkdir(dir);
          createdDirs.push(dir);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        // Re-checked after mkdir: a link swapped in meanwhile must not be followed.
        if ((await kindOf(dir)) !== 'dir') throw new XipError('EXTRACT_OUTSIDE', `${dir} is not a plain directory`, { entry: entry.name });
      }
      const target = join(dest, ...segments);
      await placeOne(path, target, entry.name);
      placed.push(target);
      await chmod(target, 0o644);
      await utimes(target, entry.lastModified, entry.lastModified);
    }
    return placed;
  } catch (e) {
    // All or nothing: take back what this call placed.
    for (const p of placed) await unlink(p).catch(() => undefined);
    for (const d of createdDirs.reverse()) await rmdir(d).catch(() => undefined);
    if (e instanceof XipError) throw e;
    throw new XipError('IO_ERROR', `cannot write under ${dest}: ${(e as Error).message}`, { cause: e });
  }
}

/** Moves a staged file to its target without ever replacing an existing file. */
async function placeOne(staged: string, target: string, name: string): Promise<void> {
  try {
    // link(2) fails with EEXIST instead of replacing, unlike rename(2).
    await link(staged, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new XipError('EXTRACT_TARGET_EXISTS', `${target} exists`, { entry: name });
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw e;
    try {
      await copyFile(staged, target, fsConstants.COPYFILE_EXCL);
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') throw new XipError('EXTRACT_TARGET_EXISTS', `${target} exists`, { entry: name });
      throw e2;
    }
  }
}
