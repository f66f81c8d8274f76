// A VerifiedEntries over a plain directory, for tests and benchmarks: what the
// container layer hands over after verification, without a container. It is a
// fake of the port, not of a container: nothing here is verified.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { detectMimeType } from 'nodemailer/lib/mime-funcs';
import type { DataEntry, VerifiedEntries } from '../ports.js';

export interface DirEntriesOptions {
  /** Entry names in "manifest" order; default: every file under the directory, sorted. */
  readonly order?: readonly string[];
  readonly packageSource?: string | undefined;
  readonly signer?: { readonly subject: string; readonly sha256: string };
  /** Skip hashing (large benchmark files): the entry's sha256 is then a placeholder. */
  readonly hash?: boolean;
}

async function walk(dir: string, root: string, out: string[]): Promise<string[]> {
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, d.name);
    if (d.isDirectory()) await walk(path, root, out);
    else if (d.isFile()) out.push(relative(root, path).split(sep).join('/'));
  }
  return out;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function dirEntries(dir: string, opts: DirEntriesOptions = {}): Promise<VerifiedEntries> {
  const names = opts.order ?? (await walk(dir, dir, [])).sort();
  const entries: DataEntry[] = [];
  const container = createHash('sha256');
  for (const name of names) {
    const path = join(dir, ...name.split('/'));
    const { size } = await stat(path);
    const sha256 = opts.hash === false ? '0'.repeat(64) : await sha256Of(path);
    container.update(`${name}\0${sha256}\n`);
    entries.push(Object.freeze({ name, size, sha256, mimeType: detectMimeType(name) }));
  }
  const known = new Set(names);
  return Object.freeze({
    sha256: container.digest('hex'),
    signer: opts.signer ?? { subject: 'CN=Test Source,O=Example', sha256: 'ab'.repeat(32) },
    packageSource: opts.packageSource,
    entries: Object.freeze(entries),
    openEntry(name: string): Readable {
      if (!known.has(name)) throw new Error(`no entry ${JSON.stringify(name)}`);
      return createReadStream(join(dir, ...name.split('/')));
    },
  });
}

export interface TempContainer {
  readonly dir: string;
  readonly entries: VerifiedEntries;
  remove(): Promise<void>;
}

/**
 * Writes `files` (entry name -> content) into a fresh temporary directory and
 * returns it as VerifiedEntries, in the order the files are given.
 */
export async function tempEntries(files: Readonly<Record<string, string | Buffer>>, opts: Omit<DirEntriesOptions, 'order'> = {}): Promise<TempContainer> {
  const dir = await mkdtemp(join(tmpdir(), 'xip-items-'));
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, ...name.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
  const entries = await dirEntries(dir, { ...opts, order: Object.keys(files) });
  return { dir, entries, remove: () => rm(dir, { recursive: true, force: true }) };
}
