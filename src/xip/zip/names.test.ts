// Step 1, entry names and kinds: ZIP_UNSAFE_PATH, ZIP_DUPLICATE_ENTRY and
// ZIP_SPECIAL_ENTRY; and checkEntryNames, the writer's side of the same rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertXipError, rejects } from './test-support/expect.js';
import { withArchive } from './test-support/files.js';
import { buildZip, extraField, type EntrySpec } from './test-support/zip-builder.js';
import { checkEntryNames } from './names.js';
import { crc32 } from 'node:zlib';

const ok: EntrySpec = { name: 'ok.txt', data: 'fine' };
const UTF8 = 0x0800;

function named(name: string | Buffer, flags?: number): EntrySpec {
  const isDirectory = (typeof name === 'string' ? name : name.toString('latin1')).endsWith('/');
  return { name, data: isDirectory ? '' : 'x', ...(flags === undefined ? {} : { flags }) };
}

describe('ZIP_UNSAFE_PATH: names that could escape or mislead', () => {
  const unsafe: [string, string | Buffer, RegExp][] = [
    ['an empty name', '', /the name is empty/],
    ['a name "."', '.', /"\." segment/],
    ['a name ".."', '..', /"\.\." segment/],
    ['a ".." segment', 'folder/../test1.txt', /"\.\." segment/],
    ['a "." segment', 'a/./b', /"\." segment/],
    ['an absolute path', '/etc/passwd', /absolute path/],
    ['a backslash', 'a\\b.txt', /backslash/],
    ['a Windows path with backslashes', '..\\..\\evil.exe', /backslash/],
    ['a drive letter', 'C:/Windows/evil.exe', /drive letter/],
    ['a drive-relative name', 'c:evil.exe', /drive letter/],
    ['an empty segment', 'a//b', /empty path segment/],
    ['a directory of empty segments', 'a//', /empty path segment/],
    ['a NUL', 'a\u0000.txt', /control character U\+0000/],
    ['a C0 control', 'a\u001b[31m.txt', /control character U\+001B/],
    ['a DEL', 'a\u007f', /control character U\+007F/],
    ['a C1 control', 'a\u0085b', /control character U\+0085/],
  ];
  for (const [what, name, detail] of unsafe) {
    it(`rejects ${what} with ZIP_UNSAFE_PATH`, async () => {
      await rejects({ entries: [ok, named(name)] }, 'ZIP_UNSAFE_PATH', { detail });
    });
  }

  it('rejects a name that is not UTF-8 although flag bit 11 says so with ZIP_UNSAFE_PATH', async () => {
    await rejects({ entries: [named(Buffer.from([0x61, 0xff, 0x62]), UTF8)] }, 'ZIP_UNSAFE_PATH', { detail: /not valid UTF-8/ });
  });

  it('rejects an overlong UTF-8 "/" with ZIP_UNSAFE_PATH', async () => {
    // 0xC0 0xAF decodes to "/" in lax decoders: "..%c0%af" path traversal.
    await rejects({ entries: [named(Buffer.from([0x2e, 0x2e, 0xc0, 0xaf, 0x78]), UTF8)] }, 'ZIP_UNSAFE_PATH', { detail: /not valid UTF-8/ });
  });

  it('rejects a non-ASCII name without flag bit 11 with ZIP_UNSAFE_PATH', async () => {
    await rejects({ entries: [named(Buffer.from('café.txt', 'utf8'), 0)] }, 'ZIP_UNSAFE_PATH', { detail: /not ASCII and flag bit 11/ });
  });

  it('rejects an Info-ZIP Unicode Path field naming another file with ZIP_UNSAFE_PATH', async () => {
    const raw = Buffer.from('harmless.txt');
    const other = Buffer.from('../../evil.txt');
    const field = Buffer.concat([Buffer.from([1]), Buffer.alloc(4), other]);
    field.writeUInt32LE(crc32(raw), 1);
    await rejects({ entries: [{ ...named(raw), centralExtra: extraField(0x7075, field) }] }, 'ZIP_UNSAFE_PATH', {
      entry: 'harmless.txt',
      detail: /Unicode Path extra field names it "\.\.\/\.\.\/evil\.txt"/,
    });
  });

  it('names the entry at fault, escaped', async () => {
    const error = await rejects({ entries: [ok, named('bad\u0000name')] }, 'ZIP_UNSAFE_PATH');
    assert.equal(error.entry, 'bad\u0000name');
    assert.match(error.detail ?? '', /^"bad\\u0000name": /);
  });

  it('accepts safe names: directories, nested paths, UTF-8 with bit 11, dots inside segments', async () => {
    const names = ['dir/', 'dir/sub/', 'dir/sub/a b.txt', '..a/b..', '.hidden', 'café/naïve.txt', '日本語.txt', 'emoji-😀.txt'];
    const entries = names.map((name): EntrySpec => ({ name, data: name.endsWith('/') ? '' : name }));
    await withArchive(buildZip({ entries }), async (archive) => {
      assert.deepEqual(
        archive.entries.map((e) => [e.name, e.isDirectory]),
        names.map((n) => [n, n.endsWith('/')]),
      );
    });
  });

  it('accepts a matching Info-ZIP Unicode Path field', async () => {
    const name = Buffer.from('café.txt', 'utf8');
    const field = Buffer.concat([Buffer.from([1]), Buffer.alloc(4), name]);
    field.writeUInt32LE(crc32(name), 1);
    await withArchive(buildZip({ entries: [{ ...named(name, UTF8), centralExtra: extraField(0x7075, field) }] }), async (archive) => {
      assert.equal(archive.entries[0]?.name, 'café.txt');
    });
  });
});

describe('ZIP_DUPLICATE_ENTRY: names equal once normalised and case-folded', () => {
  const pairs: [string, string, string][] = [
    ['the same name twice', 'mimetype', 'mimetype'],
    ['names differing in case', 'Report.PDF', 'report.pdf'],
    ['NFC and NFD forms', 'caf\u00e9.txt', 'cafe\u0301.txt'],
    ['names equal under full case folding (ß, SS)', 'straße.txt', 'STRASSE.txt'],
    ['a file and a directory of the same name', 'data', 'data/'],
  ];
  for (const [what, first, second] of pairs) {
    it(`rejects ${what} with ZIP_DUPLICATE_ENTRY`, async () => {
      const entry = (name: string): EntrySpec => ({ name, data: name.endsWith('/') ? '' : 'x' });
      await rejects({ entries: [entry(first), ok, entry(second)] }, 'ZIP_DUPLICATE_ENTRY', { entry: second, detail: /entries 0 and 2/ });
    });
  }

  it('accepts names that differ after folding', async () => {
    await withArchive(buildZip({ entries: [named('a.txt'), named('b.txt'), named('a.txt.bak')] }), async (archive) => {
      assert.equal(archive.entries.length, 3);
    });
  });
});

describe('ZIP_SPECIAL_ENTRY: only regular files and directories', () => {
  const unix = (3 << 8) | 30;
  const special: [string, number, RegExp][] = [
    ['a symbolic link', 0o120777, /a symbolic link/],
    ['a character device', 0o020644, /a character device/],
    ['a block device', 0o060644, /a block device/],
    ['a FIFO', 0o010644, /a FIFO/],
    ['a socket', 0o140755, /a socket/],
    ['an unknown file type', 0o150644, /file type 0o?[0-9a-fx]+/],
  ];
  for (const [what, mode, detail] of special) {
    it(`rejects ${what} with ZIP_SPECIAL_ENTRY`, async () => {
      const entry: EntrySpec = { name: 'link', data: '/etc/passwd', versionMadeBy: unix, externalAttributes: (mode << 16) >>> 0 };
      await rejects({ entries: [ok, entry] }, 'ZIP_SPECIAL_ENTRY', { entry: 'link', detail });
    });
  }

  it('rejects a directory mode on a name without "/" with ZIP_SPECIAL_ENTRY', async () => {
    const entry: EntrySpec = { name: 'notadir', versionMadeBy: unix, externalAttributes: (0o040755 << 16) >>> 0 };
    await rejects({ entries: [entry] }, 'ZIP_SPECIAL_ENTRY', { detail: /directory whose name does not end with "\/"/ });
  });

  it('rejects a symbolic link made on macOS (host 19) with ZIP_SPECIAL_ENTRY', async () => {
    const entry: EntrySpec = { name: 'link', data: 'target', versionMadeBy: (19 << 8) | 20, externalAttributes: (0o120755 << 16) >>> 0 };
    await rejects({ entries: [entry] }, 'ZIP_SPECIAL_ENTRY', { detail: /symbolic link/ });
  });

  it('accepts regular files, directories, entries without a file type and entries made elsewhere', async () => {
    const entries: EntrySpec[] = [
      { name: 'file', data: 'x', versionMadeBy: unix, externalAttributes: (0o100755 << 16) >>> 0 },
      { name: 'dir/', versionMadeBy: unix, externalAttributes: (0o040755 << 16) >>> 0 },
      { name: 'no-type', data: 'x', versionMadeBy: unix, externalAttributes: 0 },
      // MS-DOS host: the high bits are not a Unix mode.
      { name: 'dos', data: 'x', versionMadeBy: 20, externalAttributes: (0o120777 << 16) >>> 0 },
    ];
    await withArchive(buildZip({ entries }), async (archive) => {
      assert.equal(archive.entries.length, 4);
    });
  });
});

describe('checkEntryNames (for writers)', () => {
  it('accepts names the reader accepts', () => {
    checkEntryNames(['mimetype', 'META-INF/ASiCManifest.xml', 'dir/', 'dir/a.txt', 'café.txt']);
  });

  it('throws ZIP_UNSAFE_PATH for a name the reader would refuse', () => {
    assert.throws(() => checkEntryNames(['ok', 'a/../b']), (e: unknown) => {
      assertXipError(e, 'ZIP_UNSAFE_PATH', { entry: 'a/../b' });
      return true;
    });
  });

  it('throws ZIP_UNSAFE_PATH for a lone surrogate, which UTF-8 cannot carry', () => {
    assert.throws(() => checkEntryNames(['a\ud800b']), (e: unknown) => {
      assertXipError(e, 'ZIP_UNSAFE_PATH', { detail: /lone surrogate/ });
      return true;
    });
    checkEntryNames(['paired-😀']);
  });

  it('throws ZIP_DUPLICATE_ENTRY for names equal once folded', () => {
    assert.throws(() => checkEntryNames(['Readme.md', 'README.MD']), (e: unknown) => {
      assertXipError(e, 'ZIP_DUPLICATE_ENTRY', { entry: 'README.MD' });
      return true;
    });
  });
});
