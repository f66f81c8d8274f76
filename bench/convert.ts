// Conversion throughput (xip-items.md §3): items -> messages streamed to a
// sink that discards them. Run: node --import tsx bench/convert.ts
//   1. 100,000 chat items of about 1 KB in one .ndjson entry (aim: 5,000 items/s on one core);
//   2. a few items with large attachments (base64 streaming).
// Each is a real container: packed and signed, then staged and verified as
// `xip convert` does; the figures are for conversion after verification
// (the time verification took is printed beside them).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { readItems } from '../src/items/read.js';
import type { VerifiedEntries } from '../src/items/ports.js';
import { openVerifiedContainer, type OpenedContainer } from '../src/xip/container.js';
import { packDirectory } from '../src/xip/pack.js';
import { testIdentity } from '../src/xip/test-support/container.js';
import { buildMessage } from '../src/message/build.js';
import { createMessageContext } from '../src/message/context.js';

const MB = 1024 * 1024;
const CHAT_ITEMS = 100_000;
const LARGE = { items: 3, size: 128 * MB };

async function writeLines(path: string, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < count; i++) if (!out.write(`${line(i)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

async function writeRandom(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += MB) if (!out.write(randomBytes(Math.min(MB, size - written)))) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

function chatItem(i: number): string {
  const words = ['quote', 'EUR/CHF', 'spot', 'fwd', 'size', '5m', 'done', 'thanks', 'Grüße', 'ok'];
  let text = '';
  while (text.length < 620) text += `${words[(i * 7 + text.length) % words.length]} `;
  return JSON.stringify({
    id: `sym-7781-${String(i).padStart(8, '0')}`,
    type: 'chat.message',
    sentAt: `2026-11-22T14:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.120+01:00`,
    from: { name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-991' },
    participants: [
      { name: 'Bo Chen', email: 'bo@corp.example', sourceId: 'u-104', role: 'member' },
      { name: 'Client Desk', email: 'desk@client.example', role: 'member' },
    ],
    conversation: { id: 'room-42', title: 'FX desk' },
    body: { text },
    properties: { platform: 'Symphony', deskId: 'FX-3' },
  });
}

const sink = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

interface Run { items: number; failed: number; bytes: number; seconds: number; cpuSeconds: number }

async function convertAll(entries: VerifiedEntries): Promise<Run> {
  const ctx = createMessageContext(entries, 'bench');
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let items = 0;
  let failed = 0;
  let bytes = 0;
  for await (const read of readItems(entries)) {
    if (!read.ok) {
      failed++;
      continue;
    }
    const message = await buildMessage(read, ctx);
    // pipe + finished rather than stream/promises pipeline, which costs ~0.1 ms a call on Node 20 (an AbortController each).
    const out = sink();
    message.open().pipe(out);
    await finished(out);
    bytes += message.size;
    items++;
  }
  const used = process.cpuUsage(cpu);
  return { items, failed, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 };
}

function report(name: string, r: Run, inputBytes: number): void {
  console.log(
    `${name}: ${r.items} items (${r.failed} failed) in ${r.seconds.toFixed(2)} s — ` +
      `${Math.round(r.items / r.seconds)} items/s, ${(r.bytes / MB / r.seconds).toFixed(1)} MB/s of messages ` +
      `(${(inputBytes / MB / r.seconds).toFixed(1)} MB/s of entries); CPU ${r.cpuSeconds.toFixed(2)} s (${Math.round((100 * r.cpuSeconds) / r.seconds)}% of one core)`,
  );
}

/** Packs a directory into a signed container, then stages and verifies it. */
async function containerOf(dir: string): Promise<OpenedContainer> {
  const id = testIdentity('bench');
  const file = `${dir}.xip`;
  await packDirectory({ dir, output: file, certificate: id.certificate, privateKey: id.privateKey, source: 'bench' });
  await rm(dir, { recursive: true });
  const started = process.hrtime.bigint();
  const container = await openVerifiedContainer(file, { trust: id.trust });
  console.log(`  (staged and verified ${file.slice(file.lastIndexOf('/') + 1)} in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s)`);
  return container;
}

const root = await mkdtemp(join(tmpdir(), 'xip-bench-'));
try {
  const chatDir = join(root, 'chat');
  await mkdir(join(chatDir, 'items'), { recursive: true });
  await writeLines(join(chatDir, 'items', 'chat.ndjson'), CHAT_ITEMS, chatItem);
  const chat = await containerOf(chatDir);
  report('chat (ndjson, ~1 KB items)', await convertAll(chat), chat.entries.reduce((n, e) => n + e.size, 0));
  await chat.close();

  const largeDir = join(root, 'large');
  await mkdir(join(largeDir, 'items'), { recursive: true });
  await mkdir(join(largeDir, 'attachments'), { recursive: true });
  for (let i = 0; i < LARGE.items; i++) await writeRandom(join(largeDir, 'attachments', `file-${i}.bin`), LARGE.size);
  await writeLines(join(largeDir, 'items', 'docs.ndjson'), LARGE.items, (i) =>
    JSON.stringify({
      id: `doc-${i}`, type: 'document', sentAt: '2026-11-22T14:03:11+01:00', from: { email: 'ana@corp.example' },
      body: { text: 'see attached' }, attachments: [{ path: `attachments/file-${i}.bin` }],
    }),
  );
  const large = await containerOf(largeDir);
  report(`large attachments (${LARGE.items} × ${LARGE.size / MB} MB)`, await convertAll(large), large.entries.reduce((n, e) => n + e.size, 0));
  await large.close();
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  await rm(root, { recursive: true, force: true });
}
