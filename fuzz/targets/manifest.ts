// The ASiC manifest parser (src/xip/manifest.ts) on its own: it runs before
// the signature is checked, so whoever can hand over a file controls every
// byte it sees. An input either parses, and then writes back to a manifest
// that parses to the same thing (writeManifest's promise), or fails with
// MANIFEST_INVALID.
import { isDeepStrictEqual } from 'node:util';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveZipLimits } from '../../src/limits.js';
import { parseManifest, writeManifest, type Manifest } from '../../src/xip/manifest.js';
import { openZip } from '../../src/xip/zip/reader.js';
import { codedOutcome, codes, FuzzViolation, type Target } from '../target.js';
import { interopDir, interopFiles } from '../seeds.js';

const ALLOWED = codes('MANIFEST_INVALID');

/** The manifests inside the interop containers, as the signers of other projects wrote them. */
async function interopManifests(): Promise<Buffer[]> {
  const dir = interopDir();
  if (dir === undefined) return [];
  const out: Buffer[] = [];
  for (const { name } of await interopFiles('containers')) {
    const handle = await open(join(dir, 'containers', name), 'r');
    try {
      const archive = await openZip(handle, resolveZipLimits());
      for (const entry of archive.entries) {
        if (/^META-INF\/.*manifest.*\.xml$/i.test(entry.name)) out.push(await archive.readEntry(entry, 1024 * 1024));
      }
    } catch {
      // A broken container of the corpus has no manifest to give: its bytes are seeds of the container target.
    } finally {
      await handle.close();
    }
  }
  return out;
}

function written(): Buffer[] {
  const digest = (n: number, len: number) => Buffer.alloc(len, n);
  return [
    writeManifest({
      signatureName: 'META-INF/signature.p7s',
      references: [
        { name: 'items/chat.ndjson', mimeType: 'application/x-ndjson', digestAlgorithm: 'sha256', digest: digest(1, 32) },
        { name: 'attachments/ü ä/%41&<>"\'.txt', mimeType: 'text/plain; charset="utf-8"', digestAlgorithm: 'sha512', digest: digest(2, 64) },
      ],
      package: { version: '1', source: 'chat & <co>', created: '2026-11-22T14:03:11.120+01:00', items: 12 },
    }),
    writeManifest({ signatureName: 'META-INF/s.p7s', references: [], package: null }),
    Buffer.from(
      '<?xml version="1.0"?>\n<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">' +
        '<asic:SigReference URI="META-INF/signature.p7s" MimeType="application/pkcs7-signature"/>' +
        '<asic:ASiCManifestExtensions><asic:Extension Critical="true"><x:Other xmlns:x="urn:other"><x:a><x:a><x:a/></x:a></x:a></x:Other></asic:Extension>' +
        '<asic:Extension Critical="false"><![CDATA[ ]]><!-- c --></asic:Extension></asic:ASiCManifestExtensions></asic:ASiCManifest>',
    ),
  ];
}

export const manifestTarget: Target = {
  name: 'manifest',
  description: 'parseManifest(bytes); a parsed manifest must write back to the same manifest',
  maxLength: 64 * 1024,
  dictionary: [
    '<asic:Extension Critical="false">', '</asic:Extension>', '<asic:Extension>', '<a>', '</a>', '<x:e xmlns:x="urn:x">',
    '<asic:DataObjectReference URI="a" MimeType="b">', '</asic:DataObjectReference>', '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>',
    '<ds:DigestValue>AAAA</ds:DigestValue>', '<asic:SigReference URI="s" MimeType="application/pkcs7-signature"/>',
    '<xip:Package xmlns:xip="urn:xip:package:1" version="1" source="s" created="2026-01-01T00:00:00Z" items="1"/>',
    '<!DOCTYPE a [<!ENTITY e "x">]>', '&e;', '&amp;', '&#0;', '&#x10FFFF;', '&#9;', '<![CDATA[', ']]>', '<!--', '-->', '<?pi x?>',
    ' xmlns="urn:x"', ' xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"', ' xmlns:a=""', '%2e%2e/', '%ff', '%C3%A9', '\uFEFF', '\u0000', '\r\n',
  ],
  async setup() {
    const seeds = [...(await interopManifests()), ...written()];
    return {
      seeds,
      run(input: Buffer): string {
        let manifest: Manifest;
        try {
          manifest = parseManifest(input);
        } catch (e) {
          return codedOutcome(e, ALLOWED);
        }
        let again: Manifest;
        try {
          again = parseManifest(writeManifest(manifest));
        } catch (e) {
          throw new FuzzViolation('roundtrip', `a parsed manifest does not parse once written back: ${(e as Error).message}`, { cause: e });
        }
        if (!isDeepStrictEqual(again, manifest)) {
          throw new FuzzViolation('roundtrip', `a parsed manifest reads back differently once written: ${JSON.stringify(manifest)} became ${JSON.stringify(again)}`);
        }
        return `ok:${manifest.references.length > 0 ? 'refs' : 'norefs'}:${manifest.package ? 'pkg' : 'nopkg'}`;
      },
      async teardown() {},
    };
  },
};
