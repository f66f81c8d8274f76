// §2: "an item or attachment of any size ... is imported, streamed, without
// reading it whole into memory". A 300 MB attachment is converted in a child
// process whose peak memory must stay under 256 MB.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { it } from 'node:test';

const MB = 1024 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Writes `size` bytes of random data (fresh for each megabyte) and returns their SHA-256. */
async function writeRandom(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += MB) {
    const block = randomBytes(Math.min(MB, size - written));
    hash.update(block);
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

it('converts an item with a 300 MB attachment in under 256 MB of memory', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'xip-large-'));
  try {
    const size = 300 * MB + 1; // not a multiple of 3: the last base64 group is padded
    await mkdir(join(dir, 'attachments'), { recursive: true });
    await mkdir(join(dir, 'items'), { recursive: true });
    const sha256 = await writeRandom(join(dir, 'attachments', 'big.bin'), size);
    await writeFile(join(dir, 'items', 'one.json'), JSON.stringify({
      id: 'large-1', type: 'document', sentAt: '2026-11-22T14:03:11+01:00', from: { email: 'ana@corp.example' },
      subject: 'a large file', body: { text: 'see attached' }, attachments: [{ path: 'attachments/big.bin', name: 'big.bin' }],
    }));

    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(here, 'test-support', 'large-attachment-child.ts'), dir], { cwd: root, maxBuffer: MB });
    const r = JSON.parse(stdout) as { size: number; bytes: number; longest: number; bareLf: number; sha256: string; seconds: number; peakRss: number; maxRss: number };
    console.log(`300 MB attachment: ${(r.bytes / MB).toFixed(0)} MB message in ${r.seconds.toFixed(2)} s, peak RSS ${(r.peakRss / MB).toFixed(0)} MB (maxRSS ${(r.maxRss / MB).toFixed(0)} MB)`);
    assert.equal(r.bytes, r.size, 'the announced size is the size written');
    assert.ok(r.size > (size * 4) / 3, 'the attachment is in the message');
    assert.equal(r.sha256, sha256, 'the attachment decodes to the original bytes');
    assert.equal(r.bareLf, 0);
    assert.ok(r.longest <= 998, `longest line ${r.longest}`);
    assert.ok(r.peakRss < 256 * MB, `peak RSS ${r.peakRss}`);
    assert.ok(r.maxRss < 256 * MB, `maxRSS ${r.maxRss}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
