// Extraction of containers that are validly signed: the container target's
// byte mutations seldom get past step 1, so the place where an escape would
// happen (writing the entries) is reached here on purpose. An input is a list
// of entries, "name \x01 content" separated by \x00, with names as raw bytes
// (anything: "../", absolute, a backslash, "a" beside "a/b", case twins, bad
// UTF-8, 300 bytes); each is listed in a manifest, the manifest is signed by
// the fuzz identity and the ZIP is assembled byte by byte (so that names yazl
// would refuse still get in). Then the sandbox checks of the container target.
import { createHash } from 'node:crypto';
import { signManifest } from '../../src/xip/cms/index.js';
import { MIMETYPE } from '../../src/xip/layout.js';
import { writeManifest } from '../../src/xip/manifest.js';
import { buildZip, type EntrySpec } from '../../src/xip/zip/test-support/zip-builder.js';
import type { Target } from '../target.js';
import { createSandbox, fuzzIdentity } from './container.js';

const MAX_ENTRIES = 16;

export function entriesOf(input: Buffer): { name: Buffer; data: Buffer }[] {
  const out: { name: Buffer; data: Buffer }[] = [];
  for (let at = 0; at <= input.length && out.length < MAX_ENTRIES; ) {
    let end = input.indexOf(0x00, at);
    if (end < 0) end = input.length;
    const part = input.subarray(at, end);
    const cut = part.indexOf(0x01);
    const name = cut < 0 ? part : part.subarray(0, cut);
    // A ZIP name field holds at most 65,535 bytes (APPNOTE 4.4.10).
    out.push({ name: name.subarray(0, 0xffff), data: cut < 0 ? Buffer.alloc(0) : part.subarray(cut + 1) });
    at = end + 1;
  }
  return out;
}

export async function signedContainer(input: Buffer): Promise<Buffer> {
  const identity = fuzzIdentity();
  const entries = entriesOf(input);
  const manifest = writeManifest({
    signatureName: 'META-INF/signature.p7s',
    // The name the manifest gives is the bytes read as UTF-8 (invalid bytes become U+FFFD, and the ZIP's name then differs: ENTRY_UNSIGNED).
    references: entries.map((e) => ({ name: e.name.toString('utf8'), mimeType: 'application/octet-stream', digestAlgorithm: 'sha256' as const, digest: createHash('sha256').update(e.data).digest() })),
    package: null,
  });
  const signature = await signManifest(manifest, { certificate: identity.certificate, privateKey: identity.privateKey });
  const zipEntries: EntrySpec[] = [
    { name: 'mimetype', data: MIMETYPE },
    { name: 'META-INF/ASiCManifest.xml', data: manifest, method: 8 },
    { name: 'META-INF/signature.p7s', data: signature },
    // Bit 11 (UTF-8 names, APPNOTE 4.4.4) whenever a byte is not ASCII, as a writer would: the reader then judges the bytes themselves.
    ...entries.map((e, i): EntrySpec => ({ name: e.name, data: e.data, method: i % 2 === 0 ? 8 : 0, flags: e.name.some((b) => b >= 0x80) ? 0x800 : 0 })),
  ];
  return buildZip({ entries: zipEntries });
}

const text = (entries: [string, string][]) => Buffer.from(entries.map(([n, d]) => `${n}\x01${d}`).join('\x00'), 'utf8');

export const signedTarget: Target = {
  name: 'signed',
  description: 'validly signed containers of fuzzed entry names and contents, extracted into a sandbox that is checked for escapes',
  maxLength: 64 * 1024,
  dictionary: ['../', '..', './', '/', '//', '\\', 'C:', 'C:\\', '\x00', '\x01', 'a/', 'A', 'a', 'META-INF/', 'mimetype', 'xip.json', 'items/', '.xip-extract-x/', '\u00e9', 'e\u0301', '\u212a', '\uff0e\uff0e/', '%2e%2e/', ' ', '\t', 'CON', 'aux.txt', 'x'.repeat(255) + '/', 'x'.repeat(300)],
  async setup() {
    const sandbox = await createSandbox();
    fuzzIdentity();
    return {
      seeds: [
        text([['a.txt', 'one'], ['dir/b.txt', 'two'], ['dir/sub/c.txt', '']]),
        text([['a', 'file'], ['a/b', 'under a file']]),
        text([['Readme.TXT', 'x'], ['readme.txt', 'y'], ['\u00e9.txt', 'nfc'], ['e\u0301.txt', 'nfd']]),
        text([['../up.txt', 'escape?'], ['/abs.txt', 'abs'], ['dir\\win.txt', 'bs'], ['ok/../../x', 'dots']]),
        text([['items/chat.ndjson', '{"id":"1"}\n'], ['xip.json', '{"source":"s"}'], ['attachments/' + 'n'.repeat(250) + '.bin', 'long']]),
      ],
      run: async (input: Buffer) => sandbox.check(await signedContainer(input)),
      teardown: () => sandbox.teardown(),
    };
  },
};
