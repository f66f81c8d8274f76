// The folder `xip demo` works in. The demo runs again and again in the same
// folder, so it clears what it made before; but `--dir` is typed by a person,
// and `--dir .` or `--dir ~` must never cost them a file. So:
//
// - a folder that does not exist, or is empty, becomes a demo folder: a marker
//   file (MARKER) is written into it first;
// - a folder with the marker is cleared of exactly the files the marker lists
//   (recorded after each demo by device, inode and birth time, so a file put
//   in their place since is not theirs), then of the folders it lists, if
//   empty;
// - anything else is refused (DEMO_DIR_IN_USE) and nothing is removed: a
//   folder without the marker, a file, a symbolic link, a marker another user
//   owns, or a demo folder that still holds files the demo did not make once
//   its own are gone.
import { lstat, mkdir, readdir, readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join, sep } from 'node:path';
import { XipError } from '../errors.js';
import { shortPath } from './paths.js';

export const MARKER = '.xip-demo.json';
const MAX_MARKER_BYTES = 4 * 1024 * 1024;

interface MarkerFile {
  readonly madeBy: 'xip demo';
  /** Files the demo made: path relative to the folder ('/'-separated), and which file it was (fileId). */
  readonly files: readonly { readonly path: string; readonly id: string }[];
  /** Folders the demo made, relative; removed only when empty. */
  readonly dirs: readonly string[];
}

function inUse(root: string, why: string): XipError {
  return new XipError('DEMO_DIR_IN_USE', `${shortPath(root)} ${why}`);
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** A recorded relative path, checked: no absolute path, no "." or ".." part, nothing outside the folder. */
function safeRelative(path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '' || path.includes('\0') || path.includes('\\')) return undefined;
  const parts = path.split('/');
  return parts.every((p) => p !== '' && p !== '.' && p !== '..') ? path : undefined;
}

/** True when every folder on the way from root to `rel`'s parent is a real folder (no symbolic link leads elsewhere). */
async function parentsAreFolders(root: string, rel: string): Promise<boolean> {
  const parts = rel.split('/').slice(0, -1);
  let at = root;
  for (const part of parts) {
    at = join(at, part);
    const st = await lstat(at).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return true;
}

/**
 * Which file this is: device, inode and time of birth (statx), so that a file
 * put in place of the demo's since, which may get the freed inode back, is
 * another file; and one the demo made and the printed commands changed since
 * (the ledger) is still the demo's. Where the file system keeps no birth
 * time (0), device and inode alone.
 */
function fileId(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.birthtimeNs}`;
}

/** Every file and folder under root but the marker, relative, folders before what they hold. */
async function walk(root: string): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    for (const d of await readdir(abs, { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (r === MARKER) continue;
      if (d.isDirectory()) {
        dirs.push(r);
        await visit(join(abs, d.name), r);
      } else files.push(r);
    }
  };
  await visit(root, '');
  return { files, dirs };
}

async function readMarker(root: string): Promise<MarkerFile> {
  const path = join(root, MARKER);
  const st = await lstat(path);
  if (!st.isFile()) throw inUse(root, `holds ${MARKER}, but it is not a regular file; nothing was removed`);
  // A marker someone else wrote could list this user's files: only one's own counts.
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw inUse(root, `holds a ${MARKER} owned by another user; nothing was removed`);
  if (st.size > MAX_MARKER_BYTES) throw inUse(root, `holds a ${MARKER} too large to be the demo's; nothing was removed`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw inUse(root, `holds a ${MARKER} that is not the demo's (not JSON); nothing was removed`);
  }
  const m = parsed as Partial<MarkerFile> | null;
  if (m?.madeBy !== 'xip demo' || !Array.isArray(m.files) || !Array.isArray(m.dirs)) throw inUse(root, `holds a ${MARKER} that is not the demo's; nothing was removed`);
  return m as MarkerFile;
}

async function writeMarker(root: string, files: MarkerFile['files'], dirs: readonly string[]): Promise<void> {
  const marker: MarkerFile = { madeBy: 'xip demo', files, dirs };
  await writeFile(join(root, MARKER), JSON.stringify(marker, null, 1) + '\n');
}

/**
 * Makes `root` an empty demo folder (but for its marker), or throws
 * DEMO_DIR_IN_USE having removed nothing that the demo did not make.
 */
export async function prepareDemoDir(root: string): Promise<void> {
  const st = await lstat(root).catch((e: unknown) => {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  });
  if (st === undefined) {
    await mkdir(root, { recursive: true });
    await writeMarker(root, [], []);
    return;
  }
  if (st.isSymbolicLink()) throw inUse(root, 'is a symbolic link; nothing was removed');
  if (!st.isDirectory()) throw inUse(root, 'is not a folder; nothing was removed');
  const names = await readdir(root);
  if (names.length === 0) {
    await writeMarker(root, [], []);
    return;
  }
  if (!names.includes(MARKER)) throw inUse(root, `is not empty and was not made by xip demo (it has no ${MARKER}); nothing was removed`);

  const marker = await readMarker(root);
  for (const f of marker.files) {
    const rel = safeRelative(f?.path);
    if (rel === undefined || rel === MARKER || !(await parentsAreFolders(root, rel))) continue;
    const path = join(root, ...rel.split('/'));
    const now = await lstat(path, { bigint: true }).catch(() => undefined);
    // Only the very file the demo made: not a file, folder or link put in its place since.
    if (now && !now.isDirectory() && fileId(now) === f.id) await unlink(path);
  }
  const dirs = marker.dirs.map(safeRelative).filter((d): d is string => d !== undefined);
  dirs.sort((a, b) => b.split('/').length - a.split('/').length);
  for (const rel of dirs) {
    if (!(await parentsAreFolders(root, rel))) continue;
    const path = join(root, ...rel.split('/'));
    const now = await lstat(path).catch(() => undefined);
    if (now?.isDirectory()) {
      await rmdir(path).catch((e: unknown) => {
        if (errno(e) !== 'ENOTEMPTY' && errno(e) !== 'EEXIST') throw e;
      });
    }
  }
  const left = await walk(root);
  // The files left are not the demo's; folders it made that still hold them stay its own.
  const leftDirs = new Set(left.dirs);
  await writeMarker(root, [], dirs.filter((d) => leftDirs.has(d)));
  if (left.files.length + left.dirs.length > 0) {
    const all = left.files.length > 0 ? left.files : left.dirs;
    const shown = all.slice(0, 3).map((p) => p.split('/').join(sep));
    const more = all.length - shown.length;
    throw inUse(root, `holds files the demo did not make: ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''} (the demo's own files were removed, these were left)`);
  }
}

/** Records every file and folder now in `root` as the demo's, for the next demo to clear. */
export async function recordDemoFiles(root: string): Promise<void> {
  const { files, dirs } = await walk(root);
  const recorded: { path: string; id: string }[] = [];
  for (const path of files) recorded.push({ path, id: fileId(await lstat(join(root, ...path.split('/')), { bigint: true })) });
  await writeMarker(root, recorded, dirs);
}
