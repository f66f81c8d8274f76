// Extraction: verify, then write the data entries under a destination.
// Single pass: step 5 writes each entry into a private staging directory
// inside the destination while digesting it, so the bytes placed are the
// bytes verified; only when every step has passed are they moved into place.
// Nothing is written outside the destination and no existing file is replaced.
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, mkdtemp, realpath, rm, rmdir, unlink, utimes, constants as fsConstants } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { XipError } from '../errors.js';
import { showPath } from './show-path.js';
import { openForReading, verifyHandle, type VerifyOptions, type VerifyReport } from './verify.js';
import { duplicateKey } from './zip/names.js';
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
  // The container first: a FIFO, a directory or a missing file is refused before the destination is made.
  const handle = await openForReading(path);
  let staging: string | undefined;
  try {
    const dest = await prepareDestination(options.dest);
    staging = await mkdtemp(join(dest, '.xip-extract-'));
    const staged = new Map<string, Staged>();
    const stagingDir = staging;
    let n = 0;
    const { report } = await verifyHandle(handle, {
      ...options,
      sink: (entry) => {
        const stagedPath = join(stagingDir, String(n++));
        staged.set(entry.name, { entry, path: stagedPath });
        // 0600 until verified: nobody else reads what is not yet proven.
        return createWriteStream(stagedPath, { flags: 'wx', mode: 0o600 });
      },
    });
    const written = await place(dest, report.entries.map((e) => staged.get(e.name)!));
    return { report, written };
  } finally {
    await handle.close();
    if (staging !== undefined) await rm(staging, { recursive: true, force: true });
  }
}

async function prepareDestination(dir: string): Promise<string> {
  try {
    await mkdir(resolve(dir), { recursive: true });
    return await realpath(resolve(dir));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new XipError('IO_ERROR', `cannot use ${showPath(dir)} as the destination: ${err.code ?? err.message}`, { cause: e });
  }
}

/**
 * A file system error as IO_ERROR naming the path (shortened) and the errno
 * code, never Node's message, which repeats the whole path: an entry name may
 * be 65,535 bytes, and "ENAMETOOLONG: ENAMETOOLONG, lstat '…'" said nothing else.
 */
function fileSystemError(e: unknown, what: string, path: string, entry: string): XipError {
  if (e instanceof XipError) return e;
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENAMETOOLONG' ? 'the name is too long for this file system (ENAMETOOLONG)' : (err.code ?? err.message);
  return new XipError('IO_ERROR', `cannot ${what} ${showPath(path)}: ${why}`, { entry, cause: e });
}

/** What is at `path`: nothing, a directory, a symbolic link, or something else. */
async function kindOf(path: string, entry: string): Promise<'none' | 'dir' | 'link' | 'other'> {
  try {
    const st = await lstat(path);
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw fileSystemError(e, 'check', path, entry);
  }
}

/**
 * Entries that need another entry, a file, as their directory ("a" and
 * "a/b"), compared as the file system may (case-folded, NFC): they cannot both
 * be extracted. Found before the destination is looked at, so the message
 * says so, not that a symbolic link was in the way.
 */
function checkFileDirectoryConflicts(names: readonly string[]): void {
  // Sorted keys: the names under "a/" follow "a/" itself, so one binary
  // search per name finds them, in time proportional to the names' length
  // (a name may have 30,000 segments).
  const keyed = names.map((name) => ({ name, key: duplicateKey(name) })).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  for (const file of keyed) {
    const prefix = `${file.key}/`;
    let low = 0;
    let high = keyed.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (keyed[mid]!.key < prefix) low = mid + 1;
      else high = mid;
    }
    const under = keyed[low];
    if (under !== undefined && under.key.startsWith(prefix)) {
      throw new XipError(
        'EXTRACT_TARGET_EXISTS',
        `entry ${JSON.stringify(showPath(under.name))} needs ${JSON.stringify(showPath(file.name))} as a directory, but the container's entry ${JSON.stringify(showPath(file.name))} is a file: they cannot both be extracted`,
        { entry: under.name },
      );
    }
  }
}

/** Checks every target first, so that a conflict is found before anything is placed. */
async function checkTargets(dest: string, names: readonly string[]): Promise<void> {
  checkFileDirectoryConflicts(names);
  const checkedDirs = new Set<string>();
  for (const name of names) {
    const segments = name.split('/');
    let dir = dest;
    for (const segment of segments.slice(0, -1)) {
      dir = join(dir, segment);
      if (checkedDirs.has(dir)) continue;
      const kind = await kindOf(dir, name);
      if (kind === 'link') throw new XipError('EXTRACT_OUTSIDE', `${showPath(dir)} is a symbolic link`, { entry: name });
      if (kind === 'other') throw new XipError('EXTRACT_TARGET_EXISTS', `${showPath(dir)} exists and is not a directory`, { entry: name });
      checkedDirs.add(dir);
    }
    const target = join(dest, ...segments);
    if ((await kindOf(target, name)) !== 'none') throw new XipError('EXTRACT_TARGET_EXISTS', `${showPath(target)} exists`, { entry: name });
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
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fileSystemError(e, 'make the directory', dir, entry.name);
        }
        // Re-checked after mkdir: a link swapped in meanwhile must not be followed.
        const kind = await kindOf(dir, entry.name);
        if (kind === 'link') throw new XipError('EXTRACT_OUTSIDE', `${showPath(dir)} became a symbolic link during extraction`, { entry: entry.name });
        if (kind !== 'dir') throw new XipError('EXTRACT_TARGET_EXISTS', `${showPath(dir)} appeared during extraction and is not a directory`, { entry: entry.name });
      }
      const target = join(dest, ...segments);
      try {
        await placeOne(path, target, entry.name);
        placed.push(target);
        await chmod(target, 0o644);
        await utimes(target, entry.lastModified, entry.lastModified);
      } catch (e) {
        throw fileSystemError(e, 'write', target, entry.name);
      }
    }
    return placed;
  } catch (e) {
    // All or nothing: take back what this call placed.
    for (const p of placed) await unlink(p).catch(() => undefined);
    for (const d of createdDirs.reverse()) await rmdir(d).catch(() => undefined);
    if (e instanceof XipError) throw e;
    throw new XipError('IO_ERROR', `cannot write under ${showPath(dest)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** Moves a staged file to its target without ever replacing an existing file. */
async function placeOne(staged: string, target: string, name: string): Promise<void> {
  try {
    // link(2) fails with EEXIST instead of replacing, unlike rename(2).
    await link(staged, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new XipError('EXTRACT_TARGET_EXISTS', `${showPath(target)} exists`, { entry: name });
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw e;
    try {
      await copyFile(staged, target, fsConstants.COPYFILE_EXCL);
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') throw new XipError('EXTRACT_TARGET_EXISTS', `${showPath(target)} exists`, { entry: name });
      throw e2;
    }
  }
}
