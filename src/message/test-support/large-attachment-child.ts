// Run in a child process by large-attachment.test.ts, so that its memory is
// measured alone: converts the one item of the directory given as argv[2]
// (an item with a large attachment) and checks the message while it streams,
// without keeping it: size, CRLF lines within 998 octets, and the SHA-256 of
// the decoded attachment. Prints one JSON line with the figures.
import { createHash } from 'node:crypto';
import { readItems } from '../../items/read.js';
import { dirEntries } from '../../items/test-support/dir-entries.js';
import { buildMessage } from '../build.js';
import { createMessageContext } from '../context.js';

const dir = process.argv[2] as string;
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

const entries = await dirEntries(dir, { hash: false });
const ctx = createMessageContext(entries, 'large-test');
let result: Record<string, unknown> = {};
for await (const read of readItems(entries)) {
  if (!read.ok) throw new Error(read.failure.message);
  const message = await buildMessage(read, ctx);
  const started = process.hrtime.bigint();
  const hash = createHash('sha256');
  let bytes = 0;
  let longest = 0;
  let bareLf = 0;
  let inBase64 = false;
  let sawBase64Header = false;
  let carry = Buffer.alloc(0);
  const line = (l: Buffer): void => {
    longest = Math.max(longest, l.length);
    if (inBase64) {
      if (l[0] === 0x2d /* - */) inBase64 = false;
      else hash.update(Buffer.from(l.toString('latin1'), 'base64'));
      return;
    }
    if (l.toString('latin1') === 'Content-Transfer-Encoding: base64') sawBase64Header = true;
    else if (l.length === 0 && sawBase64Header) inBase64 = true;
  };
  for await (const chunk of message.open() as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, start)) {
      if (buf[i - 1] !== 0x0d) bareLf++;
      line(buf.subarray(start, i - 1));
      start = i + 1;
    }
    carry = Buffer.from(buf.subarray(start));
  }
  if (carry.length > 0) line(carry);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  result = { size: message.size, bytes, longest, bareLf, sha256: hash.digest('hex'), seconds };
}
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
process.stdout.write(`${JSON.stringify({ ...result, peakRss, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
