// The evidence store on the file system (ports/evidence-store.ts): every file
// a connector fetched, named by its SHA-256, read-only, under
//
//   root/sha256/ab/abcdef…   (the first two hex digits fan out, so that no
//                             directory grows to a million entries)
//   root/tmp/                (files being written: same file system, so
//                             publishing one is a link, never a copy)
//
// A file appears under its final name only whole, flushed and read-only: it
// is written to a private temporary file while hashed, fsynced, made 0444,
// then hard-linked to its name. link(2), unlike rename(2), fails when the name
// exists, so of two puts of the same bytes (in this process or another)
// exactly one reports created, and a stored file is never replaced.
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { XipError } from '../errors.js';
import type { EvidenceFile, EvidenceStore } from '../ports/evidence-store.js';

const SHA256 = /^[0-9a-f]{64}$/;
const FAN_OUT = /^[0-9a-f]{2}$/;

/** The store under `root`. Nothing is read or created until the first call. */
export function fileEvidenceStore(root: string): EvidenceStore {
  const files = join(root, 'sha256');
  const pathOf = (sha256: string) => join(files, sha256.slice(0, 2), sha256);
  return {
    put: (bytes) => put(root, files, bytes),
    stat: async (sha256) => (SHA256.test(sha256) ? statStored(sha256, pathOf(sha256)) : undefined),
    open: async (sha256) => (await openStored(sha256, pathOf)).createReadStream({ highWaterMark: 1024 * 1024 }),
    list: () => listStored(files),
    check: (sha256) => checkStored(sha256, pathOf),
  };
}

function evidence(sha256: string, st: Stats): EvidenceFile {
  // A stored file is never written again, so its mtime is when it was stored.
  return { sha256, size: st.size, storedAt: st.mtime };
}

async function put(root: string, files: string, bytes: Readable): Promise<EvidenceFile & { readonly created: boolean }> {
  const tmpDir = join(root, 'tmp');
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = join(tmpDir, `${process.pid}-${randomBytes(12).toString('hex')}.part`);
  const handle = await open(tmp, 'wx', 0o600);
  let sha256: string;
  try {
    sha256 = await writeHashed(handle, bytes);
  } catch (e) {
    await handle.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    // The stream's own error, as it came: the caller tells a broken source
    // from a full disk by it.
    throw e;
  }
  try {
    return await publish(files, tmp, sha256);
  } finally {
    // Once linked (or found stored already), the temporary name is not needed.
    await unlink(tmp).catch(() => {});
  }
}

/** Writes the stream to the handle while hashing it; flushes, makes the file read-only and closes it. */
async function writeHashed(handle: FileHandle, bytes: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of bytes) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    hash.update(buf);
    for (let at = 0; at < buf.length; ) at += (await handle.write(buf, at, buf.length - at)).bytesWritten;
  }
  await handle.chmod(0o444);
  await handle.sync();
  await handle.close();
  return hash.digest('hex');
}

async function publish(files: string, tmp: string, sha256: string): Promise<EvidenceFile & { readonly created: boolean }> {
  const dir = join(files, sha256.slice(0, 2));
  const made = await mkdir(dir, { recursive: true, mode: 0o700 });
  const final = join(dir, sha256);
  let created = true;
  try {
    await link(tmp, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') created = false;
    // A file system without hard links (EPERM on Linux, ENOTSUP elsewhere):
    // rename, after looking. Two puts of the same bytes at once may then both
    // say created, but either way the stored bytes are the same.
    else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') created = await renameUnlessStored(tmp, final);
    else throw e;
  }
  if (created) {
    // The new name (and any directory just made) must survive a crash too.
    await syncDir(dir);
    if (made !== undefined) {
      await syncDir(files);
      await syncDir(join(files, '..'));
    }
  }
  return { ...evidence(sha256, await stat(final)), created };
}

async function renameUnlessStored(tmp: string, final: string): Promise<boolean> {
  try {
    await stat(final);
    return false;
  } catch {
    await rename(tmp, final);
    return true;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function statStored(sha256: string, path: string): Promise<EvidenceFile | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? evidence(sha256, st) : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The stored file opened for reading; EVIDENCE_NOT_FOUND for a malformed SHA-256 or an absent file. */
async function openStored(sha256: string, pathOf: (sha256: string) => string): Promise<FileHandle> {
  // The argument may come from a command line or the API: it only becomes a
  // path once it is known to be 64 hex digits, never `../../etc/passwd`.
  if (!SHA256.test(sha256)) {
    const shown = JSON.stringify(sha256.length > 80 ? `${sha256.slice(0, 80)}…` : sha256);
    throw new XipError('EVIDENCE_NOT_FOUND', `${shown} is not a SHA-256: expected 64 lower-case hex digits`);
  }
  try {
    return await open(pathOf(sha256), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new XipError('EVIDENCE_NOT_FOUND', `no stored file has the SHA-256 ${sha256}`, { cause: e });
    throw e;
  }
}

async function checkStored(sha256: string, pathOf: (sha256: string) => string): Promise<boolean> {
  const handle = await openStored(sha256, pathOf);
  const hash = createHash('sha256');
  // The stream closes the handle when it ends or fails.
  for await (const chunk of handle.createReadStream({ highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex') === sha256;
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    // A store nothing was put in yet has no directory: it is empty.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

async function* listStored(files: string): AsyncIterable<EvidenceFile> {
  const found: EvidenceFile[] = [];
  for (const prefix of await namesIn(files)) {
    if (!FAN_OUT.test(prefix)) continue;
    for (const name of await namesIn(join(files, prefix))) {
      // Only names the store gives; anything else is not evidence.
      if (!SHA256.test(name) || !name.startsWith(prefix)) continue;
      const file = await statStored(name, join(files, prefix, name));
      if (file) found.push(file);
    }
  }
  // Oldest first; files stored in the same instant in a stable order.
  found.sort((a, b) => a.storedAt.getTime() - b.storedAt.getTime() || (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  yield* found;
}
