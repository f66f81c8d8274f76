// Step 1, local headers against the central directory (ZIP_HEADER_MISMATCH),
// entries' byte ranges (ZIP_OVERLAP), and the data descriptor forms that
// must be accepted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rejects } from './test-support/expect.js';
import { withArchive, yazlZip } from './test-support/files.js';
import { buildZip, extraField, localRecord, type EntrySpec } from './test-support/zip-builder.js';

const hello: EntrySpec = { name: 'hello.txt', data: 'hello' };
const deflated: EntrySpec = { name: 'text.txt', data: 'compressible '.repeat(50), method: 8 };

function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
}

async function readsBack(spec: EntrySpec[] | Buffer, expected: string[]): Promise<void> {
  await withArchive(Buffer.isBuffer(spec) ? spec : buildZip({ entries: spec }), async (archive) => {
    const contents = await Promise.all(archive.entries.map(async (e) => (await archive.readEntry(e, 1 << 20)).toString()));
    assert.deepEqual(contents, expected);
  });
}

describe('ZIP_HEADER_MISMATCH: a local header that disagrees with the central directory', () => {
  it('rejects a different compression method with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [hello, { ...deflated, local: { method: 0 } }] }, 'ZIP_HEADER_MISMATCH', {
      entry: 'text.txt',
      detail: /^local header says method 0, central directory says 8$/,
    });
  });

  it('rejects a different name with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...hello, local: { name: Buffer.from('hello.exe') } }] }, 'ZIP_HEADER_MISMATCH', {
      detail: /local header names "hello\.exe", central directory "hello\.txt"/,
    });
  });

  it('rejects a different UTF-8 flag (bit 11) with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...hello, local: { flags: 0x0800 } }] }, 'ZIP_HEADER_MISMATCH', { detail: /local header sets the UTF-8 \(bit 11\) flag, central directory clears it/ });
  });

  it('rejects a different data descriptor flag (bit 3) with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...hello, flags: 0x0008, local: { flags: 0 } }] }, 'ZIP_HEADER_MISMATCH', { detail: /local header clears the data descriptor \(bit 3\) flag, central directory sets it/ });
  });

  it('rejects a different CRC-32 with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...hello, local: { crc32: 0x12345678 } }] }, 'ZIP_HEADER_MISMATCH', {
      detail: /local header says CRC-32 0x12345678, central directory says 0x3610a686/,
    });
  });

  it('rejects a different compressed size with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...deflated, local: { compressedSize: 3 } }] }, 'ZIP_HEADER_MISMATCH', { detail: /local header says compressed size 3, central directory says \d+/ });
  });

  it('rejects a different uncompressed size with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...hello, local: { uncompressedSize: 4 } }] }, 'ZIP_HEADER_MISMATCH', { detail: /local header says uncompressed size 4, central directory says 5/ });
  });

  it('rejects a different size in a local zip64 field with ZIP_HEADER_MISMATCH', async () => {
    const extra = extraField(1, Buffer.concat([u64(6), u64(5)]));
    await rejects({ entries: [{ ...hello, zip64: true, local: { extra } }] }, 'ZIP_HEADER_MISMATCH', { detail: /uncompressed size 6, central directory says 5/ });
  });

  it('rejects a non-zero local size that differs even with bit 3 set with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...hello, descriptor: {}, local: { crc32: 1 } }] }, 'ZIP_HEADER_MISMATCH', { detail: /local header says CRC-32 0x00000001/ });
  });

  it('rejects a data descriptor with another CRC-32 with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [hello, { ...deflated, descriptor: { crc32: 0xdeadbeef } }] }, 'ZIP_HEADER_MISMATCH', {
      entry: 'text.txt',
      detail: /data descriptor says CRC-32 0xdeadbeef, central directory says/,
    });
  });

  it('rejects a data descriptor with another size with ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...deflated, descriptor: { signature: false, uncompressedSize: 1 } }] }, 'ZIP_HEADER_MISMATCH', {
      detail: /data descriptor says uncompressed size 1, central directory says 650/,
    });
  });

  it('rejects a second central directory record pointing at another entry\'s local header with ZIP_HEADER_MISMATCH', async () => {
    // Two names, one set of bytes: the second record's name is not the header's.
    const entries: EntrySpec[] = [hello, { name: 'other.txt', data: 'hello', omitLocal: true, localHeaderOffset: 0 }];
    await rejects({ entries }, 'ZIP_HEADER_MISMATCH', { entry: 'other.txt', detail: /local header names "hello\.txt", central directory "other\.txt"/ });
  });

  // Issue 8 fault 10: a wide size was read into a double and printed as 4611686018427388000.
  it('prints a data descriptor size of 2^62 exactly in its ZIP_HEADER_MISMATCH', async () => {
    await rejects({ entries: [{ ...deflated, zip64: true, descriptor: { uncompressedSize: 2 ** 62 } }] }, 'ZIP_HEADER_MISMATCH', {
      detail: /^data descriptor says uncompressed size 4611686018427387904, central directory says 650$/,
    });
  });

  it('rejects a missing data descriptor with ZIP_HEADER_MISMATCH', async () => {
    // Bit 3 set in both headers, but the bytes after the data are the next local header.
    const entry: EntrySpec = { ...hello, flags: 0x0008, local: { crc32: 0, compressedSize: 0, uncompressedSize: 0 } };
    await rejects({ entries: [entry, { name: 'next.txt', data: 'next entry with enough bytes' }] }, 'ZIP_HEADER_MISMATCH', { detail: /data descriptor says/ });
  });
});

describe('ZIP_OVERLAP: entries sharing bytes', () => {
  it('rejects an entry nested in another entry\'s data with ZIP_OVERLAP', async () => {
    // The "overlapping files" zip bomb: entry b's whole record is inside entry a's data.
    const inner: EntrySpec = { name: 'b', data: 'inner data' };
    const innerRecord = localRecord(inner);
    const outerHeaderSize = 30 + 1;
    const entries: EntrySpec[] = [
      { name: 'a', data: innerRecord },
      { ...inner, omitLocal: true, localHeaderOffset: outerHeaderSize },
    ];
    await rejects({ entries }, 'ZIP_OVERLAP', { entry: 'b', detail: /entry "b" \(bytes 31-\d+\) overlaps entry "a"/ });
  });

  it('rejects a local header inside the central directory with ZIP_OVERLAP', async () => {
    // Entry b's local record is hidden in a's central directory comment.
    const inner: EntrySpec = { name: 'b', data: 'inner' };
    const hidden = localRecord(inner);
    const a: EntrySpec = { name: 'a', data: 'outer', comment: hidden };
    // a's record: 30 + 1 + 5 bytes, then the central directory; a's comment starts 46 + 1 bytes into it.
    const innerOffset = 36 + 46 + 1;
    await rejects({ entries: [a, { ...inner, omitLocal: true, localHeaderOffset: innerOffset }] }, 'ZIP_OVERLAP', {
      entry: 'b',
      detail: /entry "b" \(bytes 83-\d+\) overlaps the central directory at 36/,
    });
  });

  it('rejects entry data running into the central directory with ZIP_OVERLAP', async () => {
    // Declared 10 bytes longer than written: the last 10 "data" bytes are the central directory.
    const entry: EntrySpec = { name: 'a', data: 'hello', compressedSize: 15, uncompressedSize: 15 };
    await rejects({ entries: [entry] }, 'ZIP_OVERLAP', { entry: 'a', detail: /overlaps the central directory at 36/ });
  });
});

// Issue 8 fault 11: a record that points at a header not its own, or into
// another entry's bytes, also leaves bytes that no record covers; that gap is
// the consequence, and ZIP_EXTRA_DATA was reported first.
describe('records pointing at the wrong bytes: ZIP_HEADER_MISMATCH or ZIP_OVERLAP before the gap they leave', () => {
  const world: EntrySpec = { name: 'world.txt', data: 'world' };

  it('rejects a record pointing at the previous entry\'s header, its own header left uncovered, with ZIP_HEADER_MISMATCH', async () => {
    // world.txt's local record is written, but its central record points at hello.txt's (offset 0).
    await rejects({ entries: [hello, { ...world, localHeaderOffset: 0 }] }, 'ZIP_HEADER_MISMATCH', {
      entry: 'world.txt',
      detail: /local header names "hello\.txt", central directory "world\.txt"/,
    });
  });

  it('rejects a record pointing at the next entry\'s header, the bytes before it left uncovered, with ZIP_HEADER_MISMATCH', async () => {
    const helloLength = localRecord(hello).length;
    await rejects({ entries: [{ ...hello, localHeaderOffset: helloLength }, world] }, 'ZIP_HEADER_MISMATCH', {
      entry: 'hello.txt',
      detail: /local header names "world\.txt", central directory "hello\.txt"/,
    });
  });

  it('rejects a record pointing into another entry\'s data, its own header left uncovered, with ZIP_OVERLAP', async () => {
    // a's data holds a copy of b's local record; b's central record points at the copy, not at b's own record after a.
    const b: EntrySpec = { name: 'b', data: 'inner data' };
    const outerHeaderSize = 30 + 1;
    await rejects({ entries: [{ name: 'a', data: localRecord(b) }, { ...b, localHeaderOffset: outerHeaderSize }] }, 'ZIP_OVERLAP', {
      entry: 'b',
      detail: /entry "b" \(bytes 31-\d+\) overlaps entry "a"/,
    });
  });

  it('still rejects a gap that no wrong record explains with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [{ ...hello, after: Buffer.from('hidden') }, world] }, 'ZIP_EXTRA_DATA', { detail: /6 bytes of hidden data after entry "hello\.txt"/ });
  });
});

describe('data descriptors (flag bit 3)', () => {
  it('accepts a data descriptor with its signature', async () => {
    await readsBack([{ ...deflated, descriptor: { signature: true } }, hello], [deflated.data as string, 'hello']);
  });

  it('accepts a data descriptor without its signature', async () => {
    await readsBack([{ ...deflated, descriptor: { signature: false } }, { ...hello, descriptor: { signature: false } }], [deflated.data as string, 'hello']);
  });

  it('accepts zip64 data descriptors (8-byte sizes), with and without signature', async () => {
    await readsBack(
      [
        { ...deflated, zip64: true, descriptor: { signature: true } },
        { ...hello, zip64: true, descriptor: { signature: false } },
      ],
      [deflated.data as string, 'hello'],
    );
  });

  it('accepts 8-byte descriptor sizes without a local zip64 field (as Java writes them)', async () => {
    const entry: EntrySpec = { ...hello, zip64: true, local: { extra: Buffer.alloc(0), compressedSize: 0, uncompressedSize: 0 }, descriptor: { wide: true } };
    await readsBack([entry], ['hello']);
  });

  it('accepts a CRC-32 that happens to equal the descriptor signature', async () => {
    // Without the signature the descriptor starts with the CRC: 0x08074b50 here.
    const entry: EntrySpec = { ...hello, crc32: 0x08074b50, descriptor: { signature: false } };
    await withArchive(buildZip({ entries: [entry] }), async (archive) => {
      assert.equal(archive.entries[0]?.crc32, 0x08074b50);
    });
  });

  it('accepts yazl archives of streamed entries (data descriptors, STORED and DEFLATE)', async () => {
    const zip = await yazlZip([
      { name: 'stored.bin', data: 'stored bytes', stream: true },
      { name: 'deflated.txt', data: 'deflated '.repeat(100), stream: true, compress: true },
    ]);
    await withArchive(zip, async (archive) => {
      assert.ok(archive.entries.every((e) => (e.generalPurposeFlags & 0x0008) !== 0), 'yazl sets flag bit 3 on streamed entries');
      assert.equal((await archive.readEntry(archive.entries[1]!, 1 << 20)).toString(), 'deflated '.repeat(100));
    });
  });
});
