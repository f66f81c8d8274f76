// The folder source: what it lists (regular `*.xip` files directly in the
// folder, links only to regular files, never FIFOs, directories or
// dot-files), in what order, and that a file changed since its listing is
// never handed out as if it were whole.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, chmod, mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { XipError, type ErrorCode } from '../errors.js';
import { folderSource } from './folder.js';

let base: string;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'xip-folder-source-'));
});

after(async () => {
  await chmod(base, 0o700).catch(() => {});
  await rm(base, { recursive: true, force: true });
});

async function newFolder(name: string): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir);
  return dir;
}

function withCode(code: ErrorCode, detail?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (detail) assert.match(e.detail ?? '', detail);
    return true;
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('folderSource: list', () => {
  it('offers regular *.xip files (any case), and a link only when it leads to a regular file', async () => {
    const dir = await newFolder('kinds');
    const outside = await newFolder('kinds-outside');
    await writeFile(join(dir, 'a.xip'), 'aaa');
    await writeFile(join(dir, 'UPPER.XIP'), 'u');
    await writeFile(join(dir, 'notes.txt'), 'not a container');
    await writeFile(join(dir, 'a.xip.part'), 'still uploading');
    await writeFile(join(outside, 'real.bin'), 'linked bytes');
    await symlink(join(outside, 'real.bin'), join(dir, 'link.xip'));
    await symlink(outside, join(dir, 'to-a-folder.xip'));
    await symlink(join(outside, 'gone'), join(dir, 'dangling.xip'));
    await mkdir(join(dir, 'sub.xip'));
    await writeFile(join(dir, 'sub.xip', 'inner.xip'), 'in a sub-folder');
    const files = await folderSource(dir).list();
    assert.deepEqual(
      files.map((f) => [f.name, f.size]),
      [['UPPER.XIP', 1], ['a.xip', 3], ['link.xip', 'linked bytes'.length]],
    );
    for (const f of files) assert.ok(f.modified instanceof Date && !Number.isNaN(f.modified.getTime()));
  });

  it('gives each file its modification time', async () => {
    const dir = await newFolder('times');
    await writeFile(join(dir, 'x.xip'), 'x');
    const when = new Date('2024-03-01T12:00:00Z');
    execFileSync('touch', ['-d', when.toISOString(), join(dir, 'x.xip')]);
    const [file] = await folderSource(dir).list();
    assert.equal(file?.modified.getTime(), when.getTime());
  });

  it('skips a FIFO named *.xip without opening it (the listing does not hang)', { timeout: 10_000 }, async () => {
    const dir = await newFolder('fifo');
    execFileSync('mkfifo', [join(dir, 'pipe.xip')]);
    await writeFile(join(dir, 'b.xip'), 'b');
    assert.deepEqual((await folderSource(dir).list()).map((f) => f.name), ['b.xip']);
  });

  it('skips dot-files, such as uploads in progress', async () => {
    const dir = await newFolder('dots');
    await writeFile(join(dir, '.hidden.xip'), 'h');
    await writeFile(join(dir, '.foo.xip.part'), 'p');
    await writeFile(join(dir, 'c.xip'), 'c');
    assert.deepEqual((await folderSource(dir).list()).map((f) => f.name), ['c.xip']);
  });

  // The system lists in UTF-8 byte order, which differs from JavaScript's
  // code-unit order beyond U+FFFF: '😀' (U+1F600) sorts before 'ｚ' (U+FF5A).
  it('sorts by name in code-unit order, not the locale nor UTF-8 byte order', async () => {
    const dir = await newFolder('order');
    const names = ['b.xip', 'A.xip', 'é.xip', '10.xip', 'ｚ.xip', 'Z.xip', '9.xip', '😀.xip', 'a.xip', '_.xip', 'B.xip'];
    for (const name of names) await writeFile(join(dir, name), name);
    assert.deepEqual(
      (await folderSource(dir).list()).map((f) => f.name),
      ['10.xip', '9.xip', 'A.xip', 'B.xip', 'Z.xip', '_.xip', 'a.xip', 'b.xip', 'é.xip', '😀.xip', 'ｚ.xip'],
    );
  });

  it('is SOURCE_NOT_FOUND for a folder that does not exist, or a file named as the folder', async () => {
    await assert.rejects(folderSource(join(base, 'missing')).list(), withCode('SOURCE_NOT_FOUND', /ENOENT/));
    await writeFile(join(base, 'a-file'), '');
    await assert.rejects(folderSource(join(base, 'a-file')).list(), withCode('SOURCE_NOT_FOUND', /ENOTDIR/));
  });

  it('is SOURCE_NOT_FOUND, with the reason, for a folder it may not read', { skip: process.getuid?.() === 0 ? 'root may read any folder' : false }, async () => {
    const dir = await newFolder('locked');
    await chmod(dir, 0o000);
    await assert.rejects(folderSource(dir).list(), withCode('SOURCE_NOT_FOUND', /EACCES/));
  });

  it('describes itself by the absolute folder path, and closes', async () => {
    const source = folderSource(join(base, 'x', '..', 'kinds'));
    assert.equal(source.description, join(base, 'kinds'));
    await source.close();
  });
});

describe('folderSource: open', () => {
  it('reads the listed bytes, through a link too', async () => {
    const dir = await newFolder('read');
    await writeFile(join(dir, 'd.xip'), 'the bytes');
    await writeFile(join(base, 'read-target'), 'linked');
    await symlink(join(base, 'read-target'), join(dir, 'e.xip'));
    const source = folderSource(dir);
    const [d, e] = await source.list();
    assert.ok(d && e);
    assert.equal((await readAll(await source.open(d))).toString(), 'the bytes');
    assert.equal((await readAll(await source.open(e))).toString(), 'linked');
  });

  it('a file that grew after the listing is SOURCE_READ_FAILED, not a longer copy', async () => {
    const dir = await newFolder('grows');
    await writeFile(join(dir, 'f.xip'), 'first part');
    const source = folderSource(dir);
    const [file] = await source.list();
    assert.ok(file);
    await appendFile(join(dir, 'f.xip'), ' and more written since');
    await assert.rejects(readAll(await source.open(file)), withCode('SOURCE_READ_FAILED', /changed since it was listed/));
  });

  it('a file that shrank after the listing is SOURCE_READ_FAILED, not a short copy', async () => {
    const dir = await newFolder('shrinks');
    await writeFile(join(dir, 'g.xip'), 'a longer first version');
    const source = folderSource(dir);
    const [file] = await source.list();
    assert.ok(file);
    await truncate(join(dir, 'g.xip'), 4);
    await assert.rejects(readAll(await source.open(file)), withCode('SOURCE_READ_FAILED', /ended after 4 bytes/));
  });

  it('a file removed, or replaced by a FIFO, since the listing is SOURCE_READ_FAILED', { timeout: 10_000 }, async () => {
    const dir = await newFolder('removed');
    await writeFile(join(dir, 'h.xip'), 'h');
    const source = folderSource(dir);
    const [file] = await source.list();
    assert.ok(file);
    await rm(join(dir, 'h.xip'));
    await assert.rejects(source.open(file), withCode('SOURCE_READ_FAILED', /ENOENT/));
    execFileSync('mkfifo', [join(dir, 'h.xip')]);
    await assert.rejects(source.open(file), withCode('SOURCE_READ_FAILED', /FIFO/));
  });

  it('refuses a name that is not directly in the folder', async () => {
    const dir = await newFolder('escape');
    await writeFile(join(base, 'secret.xip'), 's');
    const source = folderSource(dir);
    await assert.rejects(source.open({ name: '../secret.xip', size: 1, modified: new Date() }), withCode('SOURCE_READ_FAILED', /not the name of a file directly in/));
  });
});
