// The embedded default source of a connector: a local folder where the sender
// drops `*.xip` files. Only regular files directly in the folder are offered;
// a FIFO, device or directory with a `.xip` name is never opened (opening a
// FIFO for reading waits for a writer), and dot-files are the usual names of
// uploads in progress (`.foo.xip.part`, rsync's `.foo.xip.XXXXXX`). Like every
// source, it never moves, renames or deletes what it lists.
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { XipError } from '../errors.js';
import type { ConnectorSource, SourceFile } from '../ports/container-source.js';
import { showPath } from '../xip/show-path.js';
import { openForReading } from '../xip/verify.js';

export function folderSource(dir: string): ConnectorSource {
  const folder = resolve(dir);
  return {
    description: folder,
    list: () => listFolder(folder),
    open: (file) => openFile(folder, file),
    // Nothing is held between calls: each open() stream closes its own file.
    close: async () => {},
  };
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? err.message;
}

async function listFolder(folder: string): Promise<SourceFile[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (e) {
    // ENOENT, ENOTDIR (a file named as the folder), EACCES: all mean the
    // connector's --source must be fixed, so they are one code with the reason.
    throw new XipError('SOURCE_NOT_FOUND', `cannot list the folder ${showPath(folder)}: ${reason(e)}`, { cause: e });
  }
  const files: SourceFile[] = [];
  for (const name of names) {
    if (name.startsWith('.') || !name.toLowerCase().endsWith('.xip')) continue;
    const st = await statEntry(folder, name);
    // stat() follows a symbolic link, so a link is offered only when what it
    // resolves to is a regular file (its size and time are the target's).
    if (st?.isFile()) files.push({ name, size: st.size, modified: st.mtime });
  }
  // Code-unit order, not the locale's: the same order on every host.
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The entry's stat, or undefined when it is gone or a link that leads nowhere. */
async function statEntry(folder: string, name: string): Promise<Stats | undefined> {
  try {
    return await stat(join(folder, name));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Removed since readdir, a dangling link or a loop of links: not a file to offer.
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return undefined;
    // Anything else (EACCES on a folder that can be read but not searched)
    // would hide a file the sender dropped: say so rather than skip it.
    throw new XipError('SOURCE_NOT_FOUND', `cannot look at ${showPath(name)} in the folder ${showPath(folder)}: ${reason(e)}`, { cause: e });
  }
}

async function openFile(folder: string, file: SourceFile): Promise<Readable> {
  // The name comes back from the connector (and its ledger): it must still be
  // a name in this folder, never a path that leads out of it.
  if (file.name === '' || file.name === '.' || file.name === '..' || /[/\\\0]/.test(file.name)) {
    throw new XipError('SOURCE_READ_FAILED', `${showPath(file.name)} is not the name of a file directly in ${showPath(folder)}`);
  }
  const path = join(folder, file.name);
  let bytes: Readable;
  try {
    bytes = (await openForReading(path)).createReadStream({ highWaterMark: 1024 * 1024 });
  } catch (e) {
    // Removed, replaced by a FIFO or made unreadable since the listing.
    const detail = e instanceof XipError ? (e.detail ?? e.message) : reason(e);
    throw new XipError('SOURCE_READ_FAILED', detail, { cause: e });
  }
  return sizeChecked(bytes, file, path);
}

/**
 * Passes the bytes through, and fails with SOURCE_READ_FAILED when the file
 * does not hold exactly the size listed: a file that grew or shrank since the
 * listing is still being written (or was replaced), and a short or long copy
 * must never pass for the file. A read error becomes SOURCE_READ_FAILED too.
 */
function sizeChecked(bytes: Readable, file: SourceFile, path: string): Readable {
  let seen = 0;
  const changed = (what: string) =>
    new XipError('SOURCE_READ_FAILED', `${showPath(path)} ${what} (listed with ${file.size} bytes): it changed since it was listed`);
  const out = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      seen += chunk.length;
      // Fail as soon as it is too long, rather than copy a growing file to its end.
      if (seen > file.size) done(changed(`holds more than ${file.size} bytes`));
      else done(null, chunk);
    },
    flush(done: TransformCallback) {
      done(seen === file.size ? null : changed(`ended after ${seen} bytes`));
    },
  });
  bytes.on('error', (e) => out.destroy(new XipError('SOURCE_READ_FAILED', `reading ${showPath(path)} failed: ${reason(e)}`, { cause: e })));
  // A consumer that stops early (or an error above) releases the file handle.
  out.on('close', () => bytes.destroy());
  return bytes.pipe(out);
}
