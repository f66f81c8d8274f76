// openZip on well-formed archives (yazl's and hand-built, zip64 included),
// and the checked entry streams: CRC-32 and size enforced while reading,
// bounded memory, early destroy, and the caller's handle left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { XipError } from '../../errors.js';
import { resolveZipLimits } from '../../limits.js';
import { openZip, type ZipArchive } from './reader.js';
import { assertXipError } from './test-support/expect.js';
import { openError, withArchive, withZipFile, yazlZip } from './test-support/files.js';
import { buildZip, type EntrySpec } from './test-support/zip-builder.js';

const MiB = 1024 * 1024;

/** Deterministic incompressible bytes. */
function noise(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function readError(archive: ZipArchive, index: number): Promise<unknown> {
  try {
    await archive.readEntry(archive.entries[index]!, 64 * MiB);
  } catch (error) {
    return error;
  }
  throw new Error('readEntry succeeded');
}

async function sha256Of(archive: ZipArchive, index: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(archive.openEntry(archive.entries[index]!), hash);
  return hash.digest('hex');
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('openZip on well-formed archives', () => {
  it('lists and reads a yazl archive: STORED, DEFLATE, directories and UTF-8 names', async () => {
    const text = 'ASiC '.repeat(1000);
    const zip = await yazlZip([
      { name: 'mimetype', data: 'application/vnd.etsi.asic-e+zip' },
      { name: 'META-INF/', directory: true },
      { name: 'data/report.txt', data: text, compress: true },
      { name: 'data/Grüße.txt', data: 'grüße' },
    ]);
    await withArchive(zip, async (archive) => {
      assert.equal(archive.fileSize, zip.length);
      assert.deepEqual(
        archive.entries.map((e) => [e.index, e.name, e.isDirectory, e.compressionMethod]),
        [
          [0, 'mimetype', false, 0],
          [1, 'META-INF/', true, 0],
          [2, 'data/report.txt', false, 8],
          [3, 'data/Grüße.txt', false, 0],
        ],
      );
      const [mimetype, , report, greeting] = archive.entries;
      assert.equal((await archive.readEntry(mimetype!, 31)).toString(), 'application/vnd.etsi.asic-e+zip');
      assert.equal((await archive.readEntry(report!, MiB)).toString(), text);
      assert.equal((await archive.readEntry(greeting!, MiB)).toString(), 'grüße');
      assert.equal(report!.uncompressedSize, text.length);
      assert.ok(report!.compressedSize < text.length, 'the text was deflated');
      assert.equal(report!.crc32, zlib.crc32(text));
      assert.equal(greeting!.generalPurposeFlags & 0x0800, 0x0800);
      // dataOffset points at the file data: for STORED, the bytes themselves.
      assert.equal(zip.subarray(mimetype!.dataOffset, mimetype!.dataOffset + 31).toString(), 'application/vnd.etsi.asic-e+zip');
      assert.equal(mimetype!.localHeaderOffset, 0);
      assert.equal(mimetype!.localExtraFieldLength, 0);
      assert.equal(mimetype!.centralExtraFieldLength, 9); // yazl's Info-ZIP "UT" time stamp
      assert.equal(mimetype!.lastModified.toISOString(), '2024-05-17T12:30:00.000Z');
      assert.ok(Object.isFrozen(mimetype) && Object.isFrozen(archive.entries), 'entries are frozen');
    });
  });

  it('reads DOS times as UTC when there is no time stamp extra field', async () => {
    await withArchive(buildZip({ entries: [{ name: 'a', data: 'a' }] }), async (archive) => {
      assert.equal(archive.entries[0]?.lastModified.toISOString(), '2024-05-17T12:30:00.000Z');
    });
  });

  it('opens an archive without entries', async () => {
    await withArchive(await yazlZip([]), async (archive) => {
      assert.deepEqual(archive.entries, []);
    });
  });

  it('opens a yazl archive forced to zip64 (records, extra fields, end records)', async () => {
    const big = noise(3 * MiB);
    const zip = await yazlZip(
      [
        { name: 'a.txt', data: 'small' },
        { name: 'noise.bin', data: big, compress: true },
        { name: 'streamed.txt', data: 'streamed '.repeat(50), stream: true, compress: true },
        { name: 'dir/', directory: true },
      ],
      { forceZip64Format: true },
    );
    // The zip64 end of central directory record is there.
    assert.notEqual(zip.indexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06])), -1);
    await withArchive(zip, async (archive) => {
      assert.equal(archive.entries.length, 4);
      assert.equal((await archive.readEntry(archive.entries[0]!, 100)).toString(), 'small');
      assert.equal(await sha256Of(archive, 1), sha256(big));
      assert.equal((await archive.readEntry(archive.entries[2]!, MiB)).toString(), 'streamed '.repeat(50));
    });
  });

  it('opens a hand-built zip64 archive with zip64 entries and 0xFFFF end record fields', async () => {
    const entries: EntrySpec[] = [
      { name: 'one.txt', data: 'one', zip64: true },
      { name: 'two.txt', data: 'two '.repeat(100), method: 8, zip64: true },
    ];
    await withArchive(buildZip({ entries, zip64: true }), async (archive) => {
      assert.deepEqual(
        await Promise.all(archive.entries.map(async (e) => (await archive.readEntry(e, MiB)).toString())),
        ['one', 'two '.repeat(100)],
      );
    });
  });

  it('opens entries whose central directory order differs from their order in the file', async () => {
    const entries: EntrySpec[] = [
      { name: 'first-in-file', data: '1' },
      { name: 'second-in-file', data: '2' },
      { name: 'mimetype', data: 'application/vnd.etsi.asic-e+zip' },
    ];
    await withArchive(buildZip({ entries, cdOrder: [2, 0, 1] }), async (archive) => {
      assert.deepEqual(archive.entries.map((e) => e.name), ['mimetype', 'first-in-file', 'second-in-file']);
      assert.equal((await archive.readEntry(archive.entries[2]!, 1)).toString(), '2');
    });
  });
});

describe('openEntry and readEntry', () => {
  it('streams entries larger than one read, STORED and DEFLATE, in order', async () => {
    const stored = noise(5 * MiB + 123, 7);
    const text = Buffer.from('line of text that compresses\n'.repeat(200_000));
    const zip = buildZip({ entries: [{ name: 'stored.bin', data: stored }, { name: 'text.txt', data: text, method: 8 }] });
    await withArchive(
      zip,
      async (archive) => {
        assert.equal(await sha256Of(archive, 0), sha256(stored));
        assert.equal(await sha256Of(archive, 1), sha256(text));
      },
      { maxCompressionRatio: 10_000 },
    );
  });

  it('fails a STORED entry whose CRC-32 differs from the central directory with ZIP_MALFORMED', async () => {
    // Both headers agree on the wrong CRC, so openZip cannot tell; reading can.
    const entry: EntrySpec = { name: 'a.txt', data: noise(3 * MiB), crc32: 0x12345678 };
    await withArchive(buildZip({ entries: [entry] }), async (archive) => {
      assertXipError(await readError(archive, 0), 'ZIP_MALFORMED', { entry: 'a.txt', detail: /CRC-32 is 0x[0-9a-f]{8}, the central directory says 0x12345678/ });
    });
  });

  it('fails a DEFLATE entry whose CRC-32 differs from the central directory with ZIP_MALFORMED', async () => {
    const entry: EntrySpec = { name: 'a.txt', data: 'hello hello hello', method: 8, crc32: 1 };
    await withArchive(buildZip({ entries: [entry] }), async (archive) => {
      assertXipError(await readError(archive, 0), 'ZIP_MALFORMED', { entry: 'a.txt', detail: /central directory says 0x00000001/ });
    });
  });

  it('fails an entry that inflates to more than its declared size with ZIP_MALFORMED', async () => {
    const entry: EntrySpec = { name: 'a.txt', data: 'x'.repeat(1000), method: 8, uncompressedSize: 999 };
    await withArchive(buildZip({ entries: [entry] }), async (archive) => {
      assertXipError(await readError(archive, 0), 'ZIP_MALFORMED', { detail: /more than the 999 bytes/ });
    });
  });

  it('fails an entry that inflates to less than its declared size with ZIP_MALFORMED', async () => {
    const entry: EntrySpec = { name: 'a.txt', data: 'x'.repeat(1000), method: 8, uncompressedSize: 1001 };
    await withArchive(buildZip({ entries: [entry] }), async (archive) => {
      assertXipError(await readError(archive, 0), 'ZIP_MALFORMED', { detail: /^1000 bytes, the central directory declares 1001$/ });
    });
  });

  it('fails an entry whose deflate data is corrupt with ZIP_MALFORMED', async () => {
    const entry: EntrySpec = { name: 'a.txt', data: 'hello', method: 8, compressed: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]) };
    await withArchive(buildZip({ entries: [entry] }), async (archive) => {
      assertXipError(await readError(archive, 0), 'ZIP_MALFORMED', { entry: 'a.txt', detail: /^inflate failed: / });
    });
  });

  it('fails an entry whose deflate stream is truncated with ZIP_MALFORMED', async () => {
    const full = zlib.deflateRawSync(noise(10_000));
    const entry: EntrySpec = { name: 'a.bin', data: noise(10_000), method: 8, compressed: full.subarray(0, full.length - 100) };
    await withArchive(buildZip({ entries: [entry] }), async (archive) => {
      assertXipError(await readError(archive, 0), 'ZIP_MALFORMED', { detail: /inflate failed: unexpected end of file/ });
    });
  });

  it('fails an entry with bytes hidden after its deflate stream with ZIP_MALFORMED', async () => {
    const data = Buffer.from('visible');
    const entry: EntrySpec = { name: 'a.txt', data, method: 8, compressed: Buffer.concat([zlib.deflateRawSync(data), Buffer.from('hidden payload')]) };
    await withArchive(buildZip({ entries: [entry] }), async (archive) => {
      assertXipError(await readError(archive, 0), 'ZIP_MALFORMED', { detail: /deflate stream ends after \d+ of \d+ compressed bytes/ });
    });
  });

  it('refuses to read an entry larger than maxBytes into memory with ZIP_LIMIT', async () => {
    await withArchive(buildZip({ entries: [{ name: 'a.txt', data: 'twelve bytes' }] }), async (archive) => {
      await assert.rejects(archive.readEntry(archive.entries[0]!, 11), (e: unknown) => {
        assertXipError(e, 'ZIP_LIMIT', { entry: 'a.txt', detail: /12 bytes, the limit for this entry is 11/ });
        return true;
      });
      assert.equal((await archive.readEntry(archive.entries[0]!, 12)).toString(), 'twelve bytes');
    });
  });

  it('refuses an entry of another archive', async () => {
    const zip = buildZip({ entries: [{ name: 'a.txt', data: 'a' }] });
    await withArchive(zip, async (first) => {
      await withArchive(zip, async (second) => {
        assert.throws(() => second.openEntry(first.entries[0]!), TypeError);
      });
    });
  });

  it('keeps backpressure: an unread stream holds a bounded amount of data', async () => {
    const zip = buildZip({ entries: [{ name: 'big.bin', data: noise(20 * MiB) }, { name: 'big.txt', data: Buffer.alloc(20 * MiB, 'a'), method: 8 }] });
    await withArchive(
      zip,
      async (archive) => {
        for (const entry of archive.entries) {
          const stream = archive.openEntry(entry);
          stream.pause();
          stream.on('data', () => {});
          stream.pause();
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.ok(stream.readableLength <= 2 * MiB, `${entry.name}: ${stream.readableLength} bytes buffered`);
          stream.destroy();
          await once(stream, 'close');
        }
      },
      { maxCompressionRatio: 10_000 },
    );
  });

  it('stops cleanly when the consumer destroys the stream early', async () => {
    const zip = buildZip({ entries: [{ name: 'a.bin', data: noise(4 * MiB) }, { name: 'b.txt', data: Buffer.alloc(4 * MiB, 'b'), method: 8 }] });
    await withArchive(
      zip,
      async (archive) => {
        for (const entry of archive.entries) {
          let seen = 0;
          const sink = new Writable({
            write(chunk: Buffer, _encoding, callback) {
              seen += chunk.length;
              callback(seen > MiB ? new Error('consumer gave up') : null);
            },
          });
          await assert.rejects(pipeline(archive.openEntry(entry), sink), /consumer gave up/);
        }
        // The archive is still usable afterwards.
        assert.equal((await archive.readEntry(archive.entries[1]!, 8 * MiB)).length, 4 * MiB);
      },
      { maxCompressionRatio: 10_000 },
    );
  });

  it('reports a read after the caller closed the handle as IO_ERROR, not as the archive\'s fault', async () => {
    await withZipFile(buildZip({ entries: [{ name: 'a.txt', data: 'a' }] }), async (handle) => {
      const archive = await openZip(handle, resolveZipLimits());
      await handle.close();
      assertXipError(await readError(archive, 0), 'IO_ERROR', { entry: 'a.txt' });
    });
  });
});

describe('the caller owns the file handle', () => {
  const openFds = () => readdirSync('/proc/self/fd').length;

  it('leaves the handle open after openZip succeeds or fails, and opens no other file', async () => {
    const good = buildZip({ entries: [{ name: 'a.txt', data: 'a' }] });
    const bad = buildZip({ entries: [{ name: '../a.txt', data: 'a' }] });
    const before = openFds();
    for (let i = 0; i < 20; i += 1) {
      await withZipFile(good, async (handle) => {
        const archive = await openZip(handle, resolveZipLimits());
        await archive.readEntry(archive.entries[0]!, 10);
        assert.equal((await handle.stat()).size, good.length);
      });
      await withZipFile(bad, async (handle) => {
        await assert.rejects(openZip(handle, resolveZipLimits()), XipError);
        assert.equal((await handle.stat()).size, bad.length);
      });
      await openError(Buffer.alloc(0));
    }
    assert.equal(openFds(), before);
  });
});
