// Issue 8, fault 6: a directory CSV costs memory in proportion to its rows,
// and little per row. It was read into an array of records, then an array of
// rows, then the mailboxes, then a copy of their index: 1.88 GB of peak
// memory for 1,000,000 rows (87 MB of CSV), about 2 KB a row. Now rows are
// read one at a time and only the directory is kept.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../src/xip/test-support/container.js';
import { ROOT } from './support/cli.js';

let dir: string;

function writeDirectory(path: string, rows: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, 'email,name,aliases,litigationHold\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += `user${i}@corp.example,"User ${i}",u${i}@corp.example;user.${i}@corp.example,${i % 2 ? 'true' : 'false'}\n`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
}

async function peak(path: string): Promise<{ mailboxes: number; maxRssBytes: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/measure-directory.ts'), path], { cwd: ROOT });
  return JSON.parse(stdout);
}

describe('a large directory CSV', { timeout: 300_000 }, () => {
  before(async () => {
    dir = await tempDir('xip-directory-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('costs under 1.2 KB of peak memory a row (200,000 rows against 20,000), not 1.7 KB', async (t) => {
    const small = join(dir, 'small.csv');
    const large = join(dir, 'large.csv');
    writeDirectory(small, 20_000);
    writeDirectory(large, 200_000);
    const a = await peak(small);
    const b = await peak(large);
    assert.equal(a.mailboxes, 20_000);
    assert.equal(b.mailboxes, 200_000);
    const perRow = (b.maxRssBytes - a.maxRssBytes) / 180_000;
    t.diagnostic(`peak RSS ${(a.maxRssBytes / 2 ** 20).toFixed(0)} MiB for 20,000 rows, ${(b.maxRssBytes / 2 ** 20).toFixed(0)} MiB for 200,000: ${perRow.toFixed(0)} bytes a row`);
    assert.ok(perRow < 1200, `${perRow.toFixed(0)} bytes of peak memory a row`);
  });
});
