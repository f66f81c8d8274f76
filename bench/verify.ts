// npm run bench:verify — entry bytes verified per second by `verifyFile`, and,
// measured in the same run over the same bytes, the ratio to `sha256sum`.
// Two containers: one incompressible STORED entry (read + SHA-256 + CRC-32),
// and one compressible DEFLATE entry (inflate + SHA-256 + CRC-32).
// Size: XIP_BENCH_MB (default 1024) per container. Best of 3 runs, warm cache.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { packDirectory } from '../src/xip/pack.js';
import { verifyFile } from '../src/xip/verify.js';
import { testIdentity } from '../src/xip/test-support/container.js';

const MB = Number(process.env.XIP_BENCH_MB ?? 1024);
const RUNS = 3;

async function writeData(path: string, bytes: number, kind: 'random' | 'text'): Promise<void> {
  const out = createWriteStream(path);
  const line = (i: number) => `{"id":"bench-${i}","type":"chat.message","sentAt":"2026-11-22T14:03:11.120+01:00","from":{"email":"u${i % 97}@corp.example"},"body":{"text":"message ${i} ${(i * 2654435761) % 1000003}"}}\n`;
  let written = 0;
  let i = 0;
  while (written < bytes) {
    let chunk: Buffer;
    if (kind === 'random') chunk = randomBytes(Math.min(1 << 20, bytes - written));
    else {
      const parts: string[] = [];
      let len = 0;
      while (len < 1 << 20) {
        const l = line(i++);
        parts.push(l);
        len += l.length;
      }
      chunk = Buffer.from(parts.join('')).subarray(0, bytes - written);
    }
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function best(fn: () => Promise<void> | void): Promise<number> {
  return (async () => {
    let min = Infinity;
    for (let r = 0; r < RUNS; r++) {
      const t = process.hrtime.bigint();
      await fn();
      min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e9);
    }
    return min;
  })();
}

const dir = mkdtempSync(join(tmpdir(), 'xip-bench-verify-'));
try {
  const id = testIdentity('bench');
  console.log(`bench:verify — ${MB} MiB per container, best of ${RUNS}; ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  const rows: string[] = [];
  for (const kind of ['random', 'text'] as const) {
    const src = join(dir, kind);
    mkdirSync(join(src, 'attachments'), { recursive: true });
    const data = join(src, 'attachments', kind === 'random' ? 'blob.bin' : 'chat.ndjson');
    await writeData(data, MB * 2 ** 20, kind);
    const xip = join(dir, `${kind}.xip`);
    await packDirectory({ dir: src, output: xip, certificate: id.certificate, privateKey: id.privateKey, source: 'bench' });
    const bytes = statSync(data).size;
    // Warm the page cache for both sides.
    execFileSync('sha256sum', [data, xip], { stdio: 'ignore' });
    const ours = await best(async () => {
      await verifyFile(xip, { trust: id.trust });
    });
    const theirs = await best(() => {
      execFileSync('sha256sum', [data], { stdio: 'ignore' });
    });
    const method = kind === 'random' ? 'STORED ' : 'DEFLATE';
    rows.push(
      `${method} ${(bytes / 2 ** 20).toFixed(0)} MiB (container ${(statSync(xip).size / 2 ** 20).toFixed(0)} MiB): xip verify ${(bytes / ours / 2 ** 20).toFixed(0)} MiB/s, sha256sum ${(bytes / theirs / 2 ** 20).toFixed(0)} MiB/s, time ratio xip/sha256sum ${(ours / theirs).toFixed(2)}×`,
    );
    rmSync(src, { recursive: true });
  }
  for (const r of rows) console.log(r);
  console.log(`peak RSS of this process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
