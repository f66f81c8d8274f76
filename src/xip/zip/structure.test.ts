// Step 1, archive structure: ZIP_MALFORMED, ZIP_UNSUPPORTED, ZIP_EXTRA_DATA,
// ZIP_ENCRYPTED and ZIP_LIMIT on archives built byte by byte.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { rejects } from './test-support/expect.js';
import { withArchive } from './test-support/files.js';
import { buildZip, extraField, type EntrySpec } from './test-support/zip-builder.js';

const hello: EntrySpec = { name: 'hello.txt', data: 'hello' };
const world: EntrySpec = { name: 'world.txt', data: 'world' };

function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
}

/** The central directory offset of a plain archive (EOCD at the very end). */
function cdOffsetOf(zip: Buffer): number {
  return zip.readUInt32LE(zip.length - 22 + 16);
}

describe('ZIP_MALFORMED: the archive cannot be parsed', () => {
  it('rejects an empty file with ZIP_MALFORMED', async () => {
    await rejects(Buffer.alloc(0), 'ZIP_MALFORMED', { detail: /empty/ });
  });

  it('rejects a file shorter than an end record with ZIP_MALFORMED', async () => {
    await rejects(Buffer.from('PK\x05\x06 short'), 'ZIP_MALFORMED', { detail: /too short/ });
  });

  it('rejects a file without an end of central directory record with ZIP_MALFORMED', async () => {
    await rejects(Buffer.alloc(4096, 0x41), 'ZIP_MALFORMED', { detail: /no end of central directory/ });
  });

  it('rejects a truncated archive with ZIP_MALFORMED', async () => {
    const zip = buildZip({ entries: [hello, world] });
    await rejects(zip.subarray(0, zip.length - 7), 'ZIP_MALFORMED');
  });

  it('rejects a bad central directory record signature with ZIP_MALFORMED', async () => {
    const zip = buildZip({ entries: [hello, world] });
    zip[cdOffsetOf(zip)] = 0x51;
    await rejects(zip, 'ZIP_MALFORMED', { detail: /central directory record 0: invalid central directory file header signature/ });
  });

  it('rejects central directory records running past its declared size with ZIP_MALFORMED', async () => {
    const zip = buildZip({ entries: [hello] });
    const size = zip.readUInt32LE(zip.length - 22 + 12);
    await rejects(buildZip({ entries: [hello], eocd: { cdSize: size - 1 } }), 'ZIP_MALFORMED', { detail: /runs past the central directory's declared end/ });
  });

  it('rejects a central directory that runs into its end record with ZIP_MALFORMED', async () => {
    await rejects({ entries: [hello], eocd: { cdSize: 500 } }, 'ZIP_MALFORMED', { detail: /runs past its end record/ });
  });

  it('rejects an entry count that cannot fit in the central directory with ZIP_MALFORMED', async () => {
    await rejects({ entries: [hello], eocd: { entryCount: 3, entriesOnDisk: 3 } }, 'ZIP_MALFORMED', { detail: /3 entries cannot fit/ });
  });

  it('rejects a local header offset past the end of the file with ZIP_MALFORMED', async () => {
    await rejects({ entries: [{ ...hello, localHeaderOffset: 10_000 }] }, 'ZIP_MALFORMED', { detail: /past the end of the file/ });
  });

  it('rejects a bad local header signature with ZIP_MALFORMED', async () => {
    await rejects({ entries: [hello, { ...world, local: { signature: 0x03034b50 } }] }, 'ZIP_MALFORMED', {
      entry: 'world.txt',
      detail: /invalid local file header signature 0x03034b50/,
    });
  });

  it('rejects file data running past the end of the file with ZIP_MALFORMED', async () => {
    // Deflated, so the STORED size rule does not catch it first; 100 bytes fit in the file, not after the header.
    const big: EntrySpec = { name: 'big', data: 'x'.repeat(100), method: 8, compressedSize: 100, local: { compressedSize: 100 } };
    await rejects({ entries: [big] }, 'ZIP_MALFORMED', { entry: 'big', detail: /file data overflows file bounds: 33 \+ 100 > / });
  });

  it('rejects a STORED entry whose data is shorter than its content with ZIP_MALFORMED, saying which is which', async () => {
    await rejects({ entries: [{ ...hello, uncompressedSize: 7 }] }, 'ZIP_MALFORMED', {
      entry: 'hello.txt',
      detail: /^a STORED entry of 7 bytes with 5 bytes of data \(they must be equal\)$/,
    });
  });

  it('rejects a compressed size larger than the file with ZIP_MALFORMED', async () => {
    const big: EntrySpec = { name: 'big', data: 'x'.repeat(100), method: 8, compressedSize: 5000, local: { compressedSize: 5000 } };
    await rejects({ entries: [big] }, 'ZIP_MALFORMED', { entry: 'big', detail: /compressed size 5000 is larger than the file/ });
  });

  it('rejects a local header whose name runs past the end of the file with ZIP_MALFORMED', async () => {
    const zip = buildZip({ entries: [hello] });
    zip.writeUInt16LE(0xfff0, 26); // local name length
    await rejects(zip, 'ZIP_MALFORMED', { detail: /local header at offset 0 runs past the end/ });
  });

  it('rejects a central extra field longer than its block with ZIP_MALFORMED', async () => {
    const bad = Buffer.from([0x55, 0x54, 0x20, 0x00, 0x01]);
    await rejects({ entries: [{ ...hello, centralExtra: bad }] }, 'ZIP_MALFORMED', { detail: /extra field length exceeds/ });
  });

  it('rejects a local extra field longer than its block with ZIP_MALFORMED', async () => {
    const bad = Buffer.from([0x55, 0x54, 0x20, 0x00, 0x01]);
    await rejects({ entries: [{ ...hello, local: { extra: bad } }] }, 'ZIP_MALFORMED', { entry: 'hello.txt', detail: /local extra field length exceeds/ });
  });

  it('rejects a 0xFFFFFFFF size without a zip64 extra field with ZIP_MALFORMED', async () => {
    await rejects({ entries: [{ ...hello, compressedSize: 0xffffffff, uncompressedSize: 0xffffffff }] }, 'ZIP_MALFORMED', {
      detail: /0xffffffff but there is no zip64 extra field/,
    });
  });

  it('rejects a zip64 extra field without the size it stands for with ZIP_MALFORMED', async () => {
    const entry: EntrySpec = { ...hello, compressedSize: 0xffffffff, uncompressedSize: 0xffffffff, centralExtra: extraField(1, u64(5)) };
    await rejects({ entries: [entry] }, 'ZIP_MALFORMED', { detail: /zip64 extended information extra field does not include compressed size/ });
  });

  it('rejects two zip64 extra fields in one record with ZIP_MALFORMED', async () => {
    const twice = Buffer.concat([extraField(1, u64(5)), extraField(1, u64(5))]);
    await rejects({ entries: [{ ...hello, uncompressedSize: 0xffffffff, centralExtra: twice }] }, 'ZIP_MALFORMED', { detail: /2 zip64 extra fields/ });
  });

  it('rejects a local 0xFFFFFFFF size without a local zip64 field with ZIP_MALFORMED', async () => {
    await rejects({ entries: [{ ...hello, local: { uncompressedSize: 0xffffffff } }] }, 'ZIP_MALFORMED', {
      entry: 'hello.txt',
      detail: /local header size is 0xffffffff but there is no zip64 extra field/,
    });
  });

  it('rejects a local zip64 field without the size it stands for with ZIP_MALFORMED', async () => {
    const entry: EntrySpec = { ...hello, local: { uncompressedSize: 0xffffffff, compressedSize: 0xffffffff, extra: extraField(1, u64(5)) } };
    await rejects({ entries: [entry] }, 'ZIP_MALFORMED', { detail: /local zip64 extra field does not include the compressed size/ });
  });

  it('rejects a bad zip64 end of central directory record signature with ZIP_MALFORMED', async () => {
    await rejects({ entries: [hello], zip64: { signature: 0x06064b51 } }, 'ZIP_MALFORMED', { detail: /invalid zip64 end of central directory record signature/ });
  });

  it('rejects a zip64 locator pointing outside the file with ZIP_MALFORMED', async () => {
    await rejects({ entries: [hello], zip64: { recordOffset: 2 ** 40 } }, 'ZIP_MALFORMED', { detail: /zip64 end of central directory record offset/ });
  });

  it('rejects a zip64 record size running past its locator with ZIP_MALFORMED', async () => {
    await rejects({ entries: [hello], zip64: { recordSize: 100 } }, 'ZIP_MALFORMED', { detail: /record size 100 is out of bounds/ });
  });

  it('rejects an end record that disagrees with the zip64 record with ZIP_MALFORMED', async () => {
    await rejects({ entries: [hello, world], zip64: true, eocd: { entryCount: 1 } }, 'ZIP_MALFORMED', {
      detail: /entry count is 1, zip64 record says 2/,
    });
  });

  it('rejects a directory entry with content with ZIP_MALFORMED', async () => {
    await rejects({ entries: [{ name: 'dir/', data: 'not empty' }] }, 'ZIP_MALFORMED', { entry: 'dir/', detail: /directory entry with 9 bytes/ });
  });

  it('rejects a data descriptor cut off by the end of the file with ZIP_MALFORMED', async () => {
    const zip = buildZip({ entries: [{ ...hello, descriptor: {} }] });
    // Declare data running to 5 bytes before the end of the file: no room for a descriptor.
    const size = zip.length - 5 - (30 + 'hello.txt'.length);
    const cd = cdOffsetOf(zip);
    zip.writeUInt32LE(size, cd + 20);
    zip.writeUInt32LE(size, cd + 24);
    await rejects(zip, 'ZIP_MALFORMED', { entry: 'hello.txt', detail: /data descriptor at offset \d+ runs past the end of the file/ });
  });
});

describe('ZIP_UNSUPPORTED: several disks or another compression method', () => {
  it('rejects an archive on disk 1 with ZIP_UNSUPPORTED', async () => {
    await rejects({ entries: [hello], eocd: { disk: 1 } }, 'ZIP_UNSUPPORTED', { detail: /multi-disk archive: found disk number 1/ });
  });

  it('rejects a central directory on another disk with ZIP_UNSUPPORTED', async () => {
    await rejects({ entries: [hello], eocd: { cdDisk: 2 } }, 'ZIP_UNSUPPORTED', { detail: /central directory starts on disk 2/ });
  });

  it('rejects an archive with entries on other disks with ZIP_UNSUPPORTED', async () => {
    await rejects({ entries: [hello, world], eocd: { entriesOnDisk: 1 } }, 'ZIP_UNSUPPORTED', { detail: /1 of 2 entries on this disk/ });
  });

  it('rejects a zip64 archive of two disks with ZIP_UNSUPPORTED', async () => {
    await rejects({ entries: [hello], zip64: { totalDisks: 2 } }, 'ZIP_UNSUPPORTED', { detail: /counts 2 disks/ });
    await rejects({ entries: [hello], zip64: { disk: 1 } }, 'ZIP_UNSUPPORTED', { detail: /found disk number 1/ });
  });

  it('rejects an entry starting on disk 1 with ZIP_UNSUPPORTED', async () => {
    await rejects({ entries: [hello, { ...world, diskNumberStart: 1 }] }, 'ZIP_UNSUPPORTED', { entry: 'world.txt', detail: /starts on disk 1/ });
  });

  it('rejects a bzip2 entry (method 12) with ZIP_UNSUPPORTED', async () => {
    await rejects({ entries: [hello, { ...world, method: 12, compressed: Buffer.from('BZh91AY&SY') }] }, 'ZIP_UNSUPPORTED', {
      entry: 'world.txt',
      detail: /unsupported compression method 12/,
    });
  });
});

describe('ZIP_EXTRA_DATA: bytes outside the entries', () => {
  it('rejects bytes before the first local header with ZIP_EXTRA_DATA', async () => {
    // A self-extractor stub: offsets in the central directory are absolute, as zip -A writes them.
    await rejects({ prefix: Buffer.from('#!/bin/sh\nexit 0\n'), entries: [hello] }, 'ZIP_EXTRA_DATA', { detail: /17 bytes before the first local header/ });
  });

  it('rejects hidden bytes between two entries with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [{ ...hello, after: Buffer.from('hidden') }, world] }, 'ZIP_EXTRA_DATA', {
      entry: 'hello.txt',
      detail: /6 bytes of hidden data after entry "hello.txt"/,
    });
  });

  it('rejects bytes between the last entry and the central directory with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [hello, { ...world, after: Buffer.from('tail') }] }, 'ZIP_EXTRA_DATA', { detail: /4 bytes between the last entry and the central directory/ });
  });

  it('rejects bytes inside the central directory after its last record with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [hello], cdPadding: Buffer.from('padding') }, 'ZIP_EXTRA_DATA', { detail: /7 bytes in the central directory after its last record/ });
  });

  it('rejects bytes between the central directory and its end record with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [hello], afterCentralDirectory: Buffer.from('gap') }, 'ZIP_EXTRA_DATA', { detail: /3 bytes between the central directory and its end record/ });
  });

  it('rejects bytes after the end of central directory record with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [hello], trailing: Buffer.from('appended') }, 'ZIP_EXTRA_DATA', { detail: /8 bytes after the end of central directory record/ });
  });

  it('rejects an archive comment with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [hello], comment: Buffer.from('made by hand') }, 'ZIP_EXTRA_DATA', { detail: /archive comment of 12 bytes/ });
  });

  it('rejects a zip64 extensible data sector with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [hello], zip64: { extensibleData: Buffer.alloc(10) } }, 'ZIP_EXTRA_DATA', { detail: /zip64 extensible data sector of 10 bytes/ });
  });

  it('rejects bytes between the zip64 record and its locator with ZIP_EXTRA_DATA', async () => {
    await rejects({ entries: [hello], zip64: { gapBeforeLocator: Buffer.alloc(5) } }, 'ZIP_EXTRA_DATA', { detail: /5 bytes between the zip64 end of central directory record and its locator/ });
  });

  it('rejects bytes before the central directory of an empty archive with ZIP_EXTRA_DATA', async () => {
    await rejects({ prefix: Buffer.from('junk'), entries: [] }, 'ZIP_EXTRA_DATA', { detail: /4 bytes before the central directory/ });
  });
});

describe('ZIP_ENCRYPTED: encrypted entries', () => {
  it('rejects a traditionally encrypted entry (flag bit 0) with ZIP_ENCRYPTED', async () => {
    // PKWARE encryption puts a 12-byte header before the data.
    const entry: EntrySpec = { ...world, flags: 0x0001, compressed: Buffer.concat([Buffer.alloc(12, 7), Buffer.from('world')]), uncompressedSize: 5 };
    await rejects({ entries: [hello, entry] }, 'ZIP_ENCRYPTED', { entry: 'world.txt', detail: /encrypted \(flags 0x0001\)/ });
  });

  it('rejects a strongly encrypted entry (flag bit 6) with ZIP_ENCRYPTED', async () => {
    await rejects({ entries: [{ ...hello, flags: 0x0041 }] }, 'ZIP_ENCRYPTED', { detail: /strong encryption/ });
  });

  it('rejects an AES entry (method 99) with ZIP_ENCRYPTED', async () => {
    await rejects({ entries: [{ ...hello, method: 99, compressed: Buffer.alloc(20) }] }, 'ZIP_ENCRYPTED', { entry: 'hello.txt', detail: /method 99/ });
  });

  // Issue 8 fault 10: yauzl said "compressed/uncompressed size mismatch for stored file: 1 != 1".
  it('rejects an encrypted STORED entry without room for the encryption header with ZIP_ENCRYPTED, not "size mismatch 1 != 1"', async () => {
    await rejects({ entries: [{ name: 'x', data: 'x', flags: 0x0001 }] }, 'ZIP_ENCRYPTED', { entry: 'x', detail: /encrypted \(flags 0x0001\)/ });
  });

  it('rejects masked local headers (flag bit 13) with ZIP_ENCRYPTED', async () => {
    await rejects({ entries: [{ ...hello, flags: 0x2000 }] }, 'ZIP_ENCRYPTED', { detail: /bit 13/ });
  });
});

describe('ZIP_LIMIT: entry count, total size and compression ratio', () => {
  it('rejects more entries than maxEntries with ZIP_LIMIT before reading any record', async () => {
    const zip = buildZip({ entries: [hello, world, { name: 'third', data: '3' }] });
    // Break the third record: if records were read first, this would be ZIP_MALFORMED.
    const cd = cdOffsetOf(zip);
    const third = zip.indexOf(Buffer.from('third'), cd) - 46;
    zip[third] = 0;
    await rejects(zip, 'ZIP_LIMIT', { detail: /3 entries, the limit is 2/ }, { maxEntries: 2 });
  });

  it('keeps an explicit limit of 0 entries', async () => {
    await rejects({ entries: [hello] }, 'ZIP_LIMIT', { detail: /1 entries, the limit is 0/ }, { maxEntries: 0 });
  });

  it('rejects a total declared size above maxTotalUncompressed with ZIP_LIMIT', async () => {
    await rejects({ entries: [hello, world] }, 'ZIP_LIMIT', { detail: /10 bytes uncompressed in all, the limit is 9/ }, { maxTotalUncompressed: 9 });
  });

  it('rejects a compression ratio above maxCompressionRatio with ZIP_LIMIT', async () => {
    const zeros: EntrySpec = { name: 'zeros.bin', data: Buffer.alloc(2 * 1024 * 1024), method: 8 };
    await rejects({ entries: [hello, zeros] }, 'ZIP_LIMIT', { entry: 'zeros.bin', detail: /compression ratio \d+\.\d \(2097152 from \d+ bytes\), the limit is 200/ });
  });

  it('rejects a large entry declared from no compressed bytes with ZIP_LIMIT', async () => {
    // Deflated data of size 0 cannot inflate to 2 MiB: an infinite ratio.
    const entry: EntrySpec = { name: 'nothing', method: 8, compressed: Buffer.alloc(0), uncompressedSize: 2 * 1024 * 1024 };
    await rejects({ entries: [entry] }, 'ZIP_LIMIT', { detail: /compression ratio infinite/ });
  });

  // Issue 8 fault 5: entries just at ratioMinSize escape the per-entry ratio.
  describe('the whole archive\'s ratio (maxTotalCompressionRatio)', () => {
    const MiB = 1024 * 1024;
    const deflatedZeros = zlib.deflateRawSync(Buffer.alloc(MiB));
    const zerosEntry = (i: number): EntrySpec => ({
      name: `zeros/${i}.bin`,
      method: 8,
      compressed: deflatedZeros,
      uncompressedSize: MiB,
      crc32: zlib.crc32(Buffer.alloc(MiB)),
    });
    const bomb = () => buildZip({ entries: Array.from({ length: 2000 }, (_, i) => zerosEntry(i)) });

    it('rejects 2,000 entries of 1 MiB of zeros (2 GB declared from 2 MB) with ZIP_LIMIT before reading any entry data', async () => {
      // openZip reads no entry data: the verdict comes from the central directory and local headers.
      await rejects(bomb(), 'ZIP_LIMIT', {
        detail: /compression ratio 1\d{3}\.\d over the whole archive \(2097152000 bytes declared from \d+ stored\), the limit is 200 \(maxTotalCompressionRatio\)/,
      });
    });

    it('opens the same archive when maxTotalCompressionRatio allows it', async () => {
      await withArchive(bomb(), async (archive) => assert.equal(archive.entries.length, 2000), { maxTotalCompressionRatio: 2000 });
    });

    it('leaves an archive of at most ratioMinSize declared bytes alone, however compressed', async () => {
      await withArchive(buildZip({ entries: [zerosEntry(0)] }), async (archive) => assert.equal(archive.entries.length, 1));
    });
  });

  it('prints a total above 2^53 exactly', async () => {
    // Three entries of 2^52 + 1 bytes: the sum is odd and past 2^53, so a sum of doubles rounds it.
    const huge = (name: string): EntrySpec => ({ name, method: 8, compressed: Buffer.alloc(10), uncompressedSize: 2 ** 52 + 1, zip64: true });
    await rejects({ entries: [huge('a'), huge('b'), huge('c')] }, 'ZIP_LIMIT', { detail: /^13510798882111491 bytes uncompressed in all/ });
  });

  it('accepts a highly compressed entry no larger than ratioMinSize', async () => {
    const zeros: EntrySpec = { name: 'zeros.bin', data: Buffer.alloc(1024 * 1024), method: 8 };
    await withArchive(buildZip({ entries: [zeros] }), async (archive) => {
      assert.equal(archive.entries[0]?.uncompressedSize, 1024 * 1024);
    });
  });
});

describe('the order of the checks', () => {
  it('reports the first failing check in the order of the spec, not the first entry at fault', async () => {
    // Entry 0 has an unsafe name (ZIP_UNSAFE_PATH), entry 1 an unsupported method (ZIP_UNSUPPORTED, listed first).
    await rejects({ entries: [{ name: '../evil', data: 'x' }, { ...world, method: 12 }] }, 'ZIP_UNSUPPORTED', { entry: 'world.txt' });
  });

  it('reports an archive comment only after the checks on entries', async () => {
    await rejects({ entries: [hello, hello], comment: Buffer.from('LIB DigiDoc4j') }, 'ZIP_DUPLICATE_ENTRY', { entry: 'hello.txt' });
  });
});
