// The file writer of `xip convert`. The window tests use an in-process fake
// of the writer thread that holds batches until told (a slow disk cannot be
// had on demand); the others write real files through the real thread.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { tempDir } from '../xip/test-support/container.js';
import { EmlWriter, type BatchSink, type FileBatch, type FileResult, type MessageFile, type WriteOutcome } from './convert-writer.js';

const text = (s: string): MessageFile => ({ size: Buffer.byteLength(s), open: () => Readable.from([Buffer.from(s)]) });

/** A message whose stream yields `first`, then fails with `error`. */
const failing = (size: number, first: string, error: Error): MessageFile => ({
  size,
  open: () =>
    Readable.from(
      (async function* () {
        yield Buffer.from(first);
        throw error;
      })(),
    ),
});

/** Fake writer thread: holds each batch until `release()`, and records the most files and bytes it held at once. */
function heldSink() {
  const held: { batch: FileBatch; resolve: (r: FileResult[]) => void }[] = [];
  const peak = { files: 0, bytes: 0 };
  const written: string[] = [];
  const sink: BatchSink = {
    write: (batch) =>
      new Promise((resolve) => {
        held.push({ batch, resolve });
        peak.files = Math.max(peak.files, held.reduce((n, h) => n + h.batch.files.length, 0));
        peak.bytes = Math.max(peak.bytes, held.reduce((n, h) => n + h.batch.data.byteLength, 0));
      }),
    close: async () => undefined,
  };
  const release = (): void => {
    for (const h of held.splice(0)) {
      written.push(...h.batch.files.map((f) => f.name.slice(f.name.lastIndexOf('/') + 1)));
      h.resolve(h.batch.files.map(() => null));
    }
  };
  /** Releases held batches a turn at a time until `adding` has ended and the writer is idle. */
  const drain = async (writer: EmlWriter, adding: Promise<void>): Promise<void> => {
    let done = false;
    void adding.then(() => writer.idle()).then(() => (done = true));
    while (!done) {
      release();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  return { sink, peak, written, drain };
}

describe('convert writer', () => {
  it('never holds more files read and not yet written than the window allows', async () => {
    const held = heldSink();
    const writer = new EmlWriter(await tempDir('xip-writer-'), { files: 4, bytes: 1 << 20 }, () => held.sink);
    const outcomes: WriteOutcome[] = [];
    const adding = (async () => {
      for (let i = 0; i < 20; i++) await writer.write(`${i}.eml`, text(`message ${i}`), (o) => outcomes.push(o));
    })();
    await held.drain(writer, adding);
    assert.equal(held.peak.files, 4, 'two batches of two in the writer thread at once, never more');
    assert.equal(outcomes.length, 20);
    assert.ok(outcomes.every((o) => o.ok));
    assert.deepEqual(held.written, Array.from({ length: 20 }, (_, i) => `${i}.eml`));
  });

  it('never holds more bytes read and not yet written than the window allows', async () => {
    const held = heldSink();
    const writer = new EmlWriter(await tempDir('xip-writer-'), { files: 1000, bytes: 1000 }, () => held.sink);
    const adding = (async () => {
      for (let i = 0; i < 20; i++) await writer.write(`${i}.eml`, text('x'.repeat(200)), () => undefined);
    })();
    await held.drain(writer, adding);
    assert.equal(held.written.length, 20);
    assert.ok(held.peak.bytes <= 1000, `at most 1000 bytes held at once, held ${held.peak.bytes}`);
    assert.ok(held.peak.bytes >= 600, `more than one batch in the writer thread at once, held ${held.peak.bytes}`);
  });

  it('a message larger than half the window is streamed to its file alone, after what came before is written', async () => {
    const dir = await tempDir('xip-writer-');
    const held = heldSink();
    const writer = new EmlWriter(dir, { files: 100, bytes: 1000 }, () => held.sink);
    const order: string[] = [];
    const adding = (async () => {
      for (let i = 0; i < 3; i++) await writer.write(`${i}.eml`, text('small'), () => order.push(`${i}.eml`));
      await writer.write('big.eml', text('B'.repeat(600)), (o) => order.push(o.ok ? 'big.eml' : `big failed: ${JSON.stringify(o)}`));
    })();
    await held.drain(writer, adding);
    assert.deepEqual(order, ['0.eml', '1.eml', '2.eml', 'big.eml']);
    assert.deepEqual(held.written, ['0.eml', '1.eml', '2.eml'], 'the large one did not go through the window');
    assert.equal(readFileSync(join(dir, 'big.eml'), 'utf8'), 'B'.repeat(600));
  });

  it('writes real files through the writer thread; a name already taken is left as it was (EXTRACT_TARGET_EXISTS), streamed or not', async () => {
    const dir = await tempDir('xip-writer-');
    writeFileSync(join(dir, 'taken.eml'), 'mine');
    const writer = new EmlWriter(dir);
    const outcomes = new Map<string, WriteOutcome>();
    for (const name of ['a.eml', 'taken.eml', 'b.eml']) await writer.write(name, text(`this is ${name}`), (o) => outcomes.set(name, o));
    await writer.close();
    assert.deepEqual(outcomes.get('a.eml'), { ok: true });
    assert.deepEqual(outcomes.get('b.eml'), { ok: true });
    assert.deepEqual(outcomes.get('taken.eml'), { ok: false, code: 'EXTRACT_TARGET_EXISTS', message: 'taken.eml already exists in the destination; it was left as it was' });
    assert.equal(readFileSync(join(dir, 'taken.eml'), 'utf8'), 'mine');
    assert.equal(readFileSync(join(dir, 'b.eml'), 'utf8'), 'this is b.eml');
    assert.deepEqual(readdirSync(dir).sort(), ['a.eml', 'b.eml', 'taken.eml'], 'no temporary file left');

    // The same for a message streamed alone (too large for this window).
    const narrow = new EmlWriter(dir, { files: 4, bytes: 16 });
    let streamed: WriteOutcome | undefined;
    await narrow.write('taken.eml', text('x'.repeat(100)), (o) => (streamed = o));
    await narrow.close();
    assert.equal(streamed?.ok === false ? streamed.code : streamed, 'EXTRACT_TARGET_EXISTS');
    assert.equal(readFileSync(join(dir, 'taken.eml'), 'utf8'), 'mine');
    assert.deepEqual(readdirSync(dir).sort(), ['a.eml', 'b.eml', 'taken.eml'], 'no temporary file left');
  });

  it('a message whose stream fails leaves neither its file nor a temporary one, and says why (small and streamed alone)', async () => {
    const dir = await tempDir('xip-writer-');
    const writer = new EmlWriter(dir, { files: 10, bytes: 100 });
    const mismatch = new XipError('ATTACHMENT_SIZE_MISMATCH', 'entry "a.bin": declared 9 bytes, got more');
    const outcomes: WriteOutcome[] = [];
    await writer.write('small.eml', failing(20, 'half a mess', mismatch), (o) => outcomes.push(o));
    await writer.write('large.eml', failing(500, 'x'.repeat(300), mismatch), (o) => outcomes.push(o));
    await writer.close();
    const expected = { ok: false, code: 'ATTACHMENT_SIZE_MISMATCH', message: 'entry "a.bin": declared 9 bytes, got more' };
    assert.deepEqual(outcomes, [expected, expected]);
    assert.deepEqual(readdirSync(dir), []);
  });
});
