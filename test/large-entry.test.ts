// A container with a 2 GiB entry is verified and extracted with peak memory
// under 200 MB (issue 2): every entry streams, nothing is held whole.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { packDirectory } from '../src/xip/pack.js';
import { tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { ROOT } from './support/cli.js';

const SIZE = 2 * 1024 ** 3;
const LIMIT = 200 * 1024 ** 2;
let dir: string;
let xip: string;
let trust: string;
let expectedSha: string;

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function measure(...args: string[]): Promise<{ entries: { name: string; size: number; sha256: string }[]; maxRssBytes: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/measure-child.ts'), ...args], { cwd: ROOT, maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

describe('a 2 GiB entry', { timeout: 600_000 }, () => {
  before(async () => {
    dir = await tempDir('xip-large-');
    const src = join(dir, 'src');
    mkdirSync(join(src, 'attachments'), { recursive: true });
    const big = join(src, 'attachments', 'recording.bin');
    writeFileSync(big, 'start of a long recording');
    truncateSync(big, SIZE); // sparse: the test machine's disk holds only the packed copy
    expectedSha = await sha256(big);
    const id = testIdentity();
    trust = join(dir, 'ca.pem');
    writeFileSync(trust, id.issued.caCertificatePem);
    xip = join(dir, 'large.xip');
    await packDirectory({ dir: src, output: xip, certificate: id.certificate, privateKey: id.privateKey, source: 'large' });
    rmSync(src, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies with peak memory under 200 MB', async (t) => {
    const r = await measure('verify', xip, trust);
    t.diagnostic(`verify peak RSS ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
    assert.deepEqual(r.entries.map((e) => [e.name, e.size, e.sha256]), [['attachments/recording.bin', SIZE, expectedSha]]);
    assert.ok(r.maxRssBytes < LIMIT, `peak RSS ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
  });

  it('extracts with peak memory under 200 MB, byte for byte', async (t) => {
    const dest = join(dir, 'out');
    const r = await measure('extract', xip, trust, dest);
    t.diagnostic(`extract peak RSS ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(r.maxRssBytes < LIMIT, `peak RSS ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
    const out = join(dest, 'attachments', 'recording.bin');
    assert.equal(statSync(out).size, SIZE);
    assert.equal(await sha256(out), expectedSha);
  });
});
