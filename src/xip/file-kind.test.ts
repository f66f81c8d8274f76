// Issue 8 fault 6: `xip verify` on a FIFO hung forever, because the file was
// opened before its kind was checked (open(2) of a FIFO for reading waits for
// a writer). Every way in (verify, extract, inspect, staging for convert and
// import) refuses a FIFO or a directory with IO_ERROR before opening it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { openVerifiedContainer } from './container.js';
import { extractFile } from './extract.js';
import { inspectFile } from './inspect.js';
import { tempDir, testIdentity } from './test-support/container.js';
import { verifyFile } from './verify.js';

let dir: string;
let fifo: string;
let directory: string;

before(async () => {
  dir = await tempDir();
  fifo = join(dir, 'container.fifo');
  execFileSync('mkfifo', [fifo]);
  directory = join(dir, 'a-directory.xip');
  await mkdir(directory);
});

// Had a reader been left waiting in open(2), a writer releases it, so that a
// regression fails its test instead of hanging the run.
after(() => {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody is waiting to read it, as it should be.
  }
});

function refused(kind: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    assert.equal(e.code, 'IO_ERROR', e.message);
    assert.match(e.detail ?? '', kind);
    assert.match(e.detail ?? '', /not a regular file: nothing was read from it/);
    return true;
  };
}

const commands: [string, (path: string) => Promise<unknown>][] = [
  ['verify', (path) => verifyFile(path, { trust: testIdentity().trust })],
  ['extract', (path) => extractFile(path, { trust: testIdentity().trust, dest: join(dir, 'out') })],
  ['inspect', (path) => inspectFile(path)],
  ['convert and import (staging)', (path) => openVerifiedContainer(path, { trust: testIdentity().trust, stagingDir: join(dir, 'staging') })],
];

describe('a container path that is not a regular file is refused with IO_ERROR before it is opened', () => {
  for (const [command, run] of commands) {
    it(`${command}: a FIFO is IO_ERROR at once, with no writer ever opening it`, { timeout: 20_000 }, async () => {
      await assert.rejects(run(fifo), refused(/is a FIFO/));
    });

    it(`${command}: a directory is IO_ERROR`, async () => {
      await assert.rejects(run(directory), refused(/is a directory/));
    });
  }

  it('extract makes no destination and staging makes no copy for a refused container', async () => {
    await assert.rejects(extractFile(fifo, { trust: testIdentity().trust, dest: join(dir, 'never') }), refused(/is a FIFO/));
    assert.equal(existsSync(join(dir, 'never')), false);
    await assert.rejects(openVerifiedContainer(fifo, { trust: testIdentity().trust, stagingDir: join(dir, 'staging-never') }), refused(/is a FIFO/));
    assert.equal(existsSync(join(dir, 'staging-never')) ? (await readdir(join(dir, 'staging-never'))).length : 0, 0);
  });

  it('a missing file is IO_ERROR naming it, and a very long path is shortened in the message', async () => {
    const long = join(dir, 'x'.repeat(70_000));
    await assert.rejects(verifyFile(long, { trust: testIdentity().trust }), (e: unknown) => {
      assert.ok(e instanceof XipError && e.code === 'IO_ERROR');
      assert.match(e.detail ?? '', /^cannot open .*…x+ \(\d{5} characters\): ENAMETOOLONG$/);
      assert.ok((e.detail ?? '').length < 300, `${(e.detail ?? '').length} characters`);
      return true;
    });
  });
});
