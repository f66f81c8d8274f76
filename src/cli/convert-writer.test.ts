// The file window of `xip convert`, with in-process fake messages (streams
// that can be held back or made to fail on demand, which a real container
// cannot be made to do): it bounds what is written at once by count and by
// bytes, and a failed write leaves no file, under either name.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { tempDir } from '../xip/test-support/container.js';
import { EmlWriter, type MessageFile, type WriteOutcome } from './convert-writer.js';

/** A fake message whose stream yields its bytes only when released, and counts how many are open at once. */
function heldMessages() {
  let open = 0;
  let openBytes = 0;
  const peak = { files: 0, bytes: 0 };
  const releases: (() => void)[] = [];
  const message = (text: string): MessageFile => ({
    size: Buffer.byteLength(text),
    open: () =>
      Readable.from(
        (async function* () {
          open++;
          openBytes += Buffer.byteLength(text);
          peak.files = Math.max(peak.files, open);
          peak.bytes = Math.max(peak.bytes, openBytes);
          await new Promise<void>((resolve) => releases.push(resolve));
          open--;
          openBytes -= Buffer.byteLength(text);
          yield Buffer.from(text);
        })(),
      ),
  });
  // Lets every held stream go, a turn at a time, until every write was added and has ended.
  const drain = async (writer: EmlWriter, adding: Promise<void>): Promise<void> => {
    let done = false;
    void adding.then(() => writer.idle()).then(() => (done = true));
    while (!done) {
      for (const release of releases.splice(0)) release();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  return { message, peak, releases, drain };
}

describe('convert writer', () => {
  it('never writes more files at once than the window allows, and writes them all', async () => {
    const dir = await tempDir('xip-writer-');
    const held = heldMessages();
    const writer = new EmlWriter(dir, { files: 3, bytes: 1 << 20 });
    const outcomes: WriteOutcome[] = [];
    const adding = (async () => {
      for (let i = 0; i < 10; i++) await writer.write(`${i}.eml`, held.message(`message ${i}`), (o) => outcomes.push(o));
    })();
    await held.drain(writer, adding);
    assert.equal(held.peak.files, 3, 'three at once, never four');
    assert.deepEqual(outcomes, Array.from({ length: 10 }, () => ({ ok: true })));
    assert.equal(readdirSync(dir).length, 10);
    assert.equal(readFileSync(join(dir, '7.eml'), 'utf8'), 'message 7');
  });

  it('never holds more declared bytes at once than the window allows; a larger message is written alone', async () => {
    const dir = await tempDir('xip-writer-');
    const held = heldMessages();
    const writer = new EmlWriter(dir, { files: 100, bytes: 25 });
    const sizes = [10, 10, 10, 40, 10, 10];
    const adding = (async () => {
      for (const [i, size] of sizes.entries()) await writer.write(`${i}.eml`, held.message('x'.repeat(size)), () => undefined);
    })();
    await held.drain(writer, adding);
    assert.equal(held.peak.bytes, 40, 'at most 20 bytes of the small ones at once, and the 40-byte one alone');
    assert.equal(readdirSync(dir).length, sizes.length);
  });

  it('a message whose stream fails leaves neither its file nor a temporary one, and says why', async () => {
    const dir = await tempDir('xip-writer-');
    const writer = new EmlWriter(dir);
    const failing: MessageFile = {
      size: 20,
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.from('half a mess');
            throw new XipError('ATTACHMENT_SIZE_MISMATCH', 'entry "a.bin": declared 9 bytes, got more');
          })(),
        ),
    };
    let outcome: WriteOutcome | undefined;
    await writer.write('f.eml', failing, (o) => (outcome = o));
    await writer.idle();
    assert.deepEqual(outcome, { ok: false, code: 'ATTACHMENT_SIZE_MISMATCH', message: 'entry "a.bin": declared 9 bytes, got more' });
    assert.deepEqual(readdirSync(dir), []);
  });
});
