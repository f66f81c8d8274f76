import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { DEFAULT_ZIP_LIMITS } from '../limits.js';
import { decodeEntryUri, encodeEntryUri, parseManifest, writeManifest, type ManifestReference } from './manifest.js';

const digest = Buffer.alloc(32, 7);
const ref = (name: string): ManifestReference => ({ name, mimeType: 'application/json', digestAlgorithm: 'sha256', digest });

function rejects(xml: string, pattern: RegExp): void {
  assert.throws(
    () => parseManifest(Buffer.from(xml)),
    (e: unknown) => e instanceof XipError && e.code === 'MANIFEST_INVALID' && pattern.test(e.message),
  );
}

const wrap = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">${body}</asic:ASiCManifest>`;
const SIG = '<asic:SigReference URI="META-INF/signature.p7s" MimeType="application/pkcs7-signature"/>';
const DOR = (uri: string, alg = 'sha256', value = digest.toString('base64')) =>
  `<asic:DataObjectReference URI="${uri}" MimeType="text/plain"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#${alg}"/><ds:DigestValue>${value}</ds:DigestValue></asic:DataObjectReference>`;

describe('manifest', () => {
  it('reads back what it writes, package extension and non-ASCII names included', () => {
    const references = [ref('items/chat.ndjson'), ref('attachments/Grüße & <Rechnung> 100%.pdf'), { ...ref('a b/c'), digestAlgorithm: 'sha512' as const, digest: Buffer.alloc(64, 1) }];
    const pkg = { version: '1', source: 'Symphony "prod" & co', created: '2026-11-22T00:00:00.000Z', items: 42 };
    const m = parseManifest(writeManifest({ signatureName: 'META-INF/signature.p7s', references, package: pkg }));
    assert.equal(m.signatureName, 'META-INF/signature.p7s');
    assert.deepEqual(m.references, references);
    assert.deepEqual(m.package, pkg);
  });

  it('percent-encodes everything outside RFC 3986 unreserved and "/" as UTF-8', () => {
    assert.equal(encodeEntryUri('a b/ü~-._%.txt'), 'a%20b/%C3%BC~-._%25.txt');
    assert.equal(decodeEntryUri('a%20b/%C3%BC~-._%25.txt'), 'a b/ü~-._%.txt');
    assert.equal(decodeEntryUri('a%20b/ü.txt'), 'a b/ü.txt');
  });

  it('reads a manifest written by another producer (default namespace on ds elements, no MimeType)', () => {
    const xml = wrap(
      `${SIG}<asic:DataObjectReference URI="test.text"><DigestMethod xmlns="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue xmlns="http://www.w3.org/2000/09/xmldsig#">${digest.toString('base64')}</DigestValue></asic:DataObjectReference>`,
    );
    const m = parseManifest(Buffer.from(xml));
    assert.deepEqual(m.references, [{ name: 'test.text', mimeType: 'application/octet-stream', digestAlgorithm: 'sha256', digest }]);
    assert.equal(m.package, null);
  });

  it('ignores an unknown non-critical extension', () => {
    const m = parseManifest(Buffer.from(wrap(`${SIG}${DOR('a')}<asic:ASiCManifestExtensions><asic:Extension Critical="false"><x:Other xmlns:x="urn:other"/></asic:Extension></asic:ASiCManifestExtensions>`)));
    assert.equal(m.references.length, 1);
  });

  describe('rejects with MANIFEST_INVALID', () => {
    it('a DOCTYPE (no DTD, no entities)', () =>
      rejects(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${wrap(SIG + DOR('a'))}`, /DOCTYPE/));
    it('bytes that are not UTF-8', () => {
      assert.throws(() => parseManifest(Buffer.from([0x3c, 0xff, 0xfe])), (e: unknown) => e instanceof XipError && e.code === 'MANIFEST_INVALID');
    });
    it('XML that is not well-formed', () => rejects(wrap(SIG + DOR('a')).replace('</asic:ASiCManifest>', ''), /XML/));
    it('another root element', () => rejects('<x xmlns="urn:x"/>', /root element/));
    it('no SigReference', () => rejects(wrap(DOR('a')), /SigReference/));
    it('two SigReferences', () => rejects(wrap(SIG + SIG + DOR('a')), /SigReference/));
    it('a SigReference with another MimeType', () => rejects(wrap(SIG.replace('pkcs7-signature', 'xml') + DOR('a')), /MimeType/));
    it('an entry listed twice', () => rejects(wrap(SIG + DOR('a') + DOR('a')), /twice/));
    it('an unsupported digest (SHA-1)', () => rejects(wrap(SIG + DOR('a', 'sha1')), /DigestMethod/));
    it('a digest of the wrong length', () => rejects(wrap(SIG + DOR('a', 'sha256', Buffer.alloc(20).toString('base64'))), /bytes/));
    it('a digest that is not base64', () => rejects(wrap(SIG + DOR('a', 'sha256', 'not base64!')), /base64/));
    it('an absolute or scheme URI', () => {
      rejects(wrap(SIG + DOR('/etc/passwd')), /relative/);
      rejects(wrap(SIG + DOR('file:///etc/passwd')), /relative/);
    });
    it('a bad percent-escape', () => rejects(wrap(SIG + DOR('a%zz')), /percent/));
    it('an unknown critical extension', () =>
      rejects(wrap(`${SIG}${DOR('a')}<asic:ASiCManifestExtensions><asic:Extension Critical="true"><x:Other xmlns:x="urn:other"/></asic:Extension></asic:ASiCManifestExtensions>`), /critical/));
    it('an xip:Package with a bad version, time or count', () => {
      const pkg = (attrs: string) => wrap(`${SIG}${DOR('a')}<asic:ASiCManifestExtensions><asic:Extension Critical="false"><xip:Package xmlns:xip="urn:xip:package:1" ${attrs}/></asic:Extension></asic:ASiCManifestExtensions>`);
      rejects(pkg('version="2" source="s" created="2026-11-22T00:00:00Z" items="1"'), /version/);
      rejects(pkg('version="1" source="s" created="yesterday" items="1"'), /created/);
      rejects(pkg('version="1" source="s" created="2026-11-22T00:00:00Z" items="-1"'), /items/);
      rejects(pkg('version="1" created="2026-11-22T00:00:00Z" items="1"'), /source/);
    });
    it('an unexpected element', () => rejects(wrap(SIG + DOR('a') + '<asic:Other/>'), /unexpected/));
  });

  // Issue 8 fault 4: parse time grew with the square of the nesting inside an
  // Extension (40,000 levels: 14 s), all before the signature is checked.
  describe('bounds the unauthenticated parse (MANIFEST_INVALID)', () => {
    const inExtension = (inner: string) =>
      wrap(`${SIG}${DOR('a')}<asic:ASiCManifestExtensions><asic:Extension Critical="false">${inner}</asic:Extension></asic:ASiCManifestExtensions>`);
    const nested = (levels: number) => `${'<x:a xmlns:x="urn:x">'.repeat(levels)}${'</x:a>'.repeat(levels)}`;
    const depthLimit = DEFAULT_ZIP_LIMITS.maxManifestDepth;

    it('refuses elements nested one deeper than maxManifestDepth, and accepts them at the limit', () => {
      // The root, ASiCManifestExtensions and Extension are 3 levels.
      rejects(inExtension(nested(depthLimit - 3 + 1)), /nested more than 64 deep/);
      assert.equal(parseManifest(Buffer.from(inExtension(nested(depthLimit - 3)))).references.length, 1);
    });

    it('refuses 40,000 levels at the first element past the limit, before the malformed rest is read', () => {
      // Had the parser gone on, it would have reported the stray "<" at the end.
      const xml = inExtension(`${'<a>'.repeat(40_000)}<<`);
      rejects(xml, /nested more than 64 deep \(the maxManifestDepth limit\)/);
    });

    it('refuses more elements than maxManifestElements, before the malformed rest is read', () => {
      const xml = wrap(SIG + Array.from({ length: 20 }, (_, i) => DOR(`e${i}`)).join('') + '<<');
      assert.throws(
        () => parseManifest(Buffer.from(xml), { ...DEFAULT_ZIP_LIMITS, maxManifestElements: 30 }),
        (e: unknown) => e instanceof XipError && e.code === 'MANIFEST_INVALID' && /more than 30 elements \(the maxManifestElements limit\)/.test(e.message),
      );
      // Root + SigReference + 3 per reference.
      assert.equal(parseManifest(Buffer.from(wrap(SIG + Array.from({ length: 20 }, (_, i) => DOR(`e${i}`)).join(''))), { ...DEFAULT_ZIP_LIMITS, maxManifestElements: 62 }).references.length, 20);
    });
  });
});
