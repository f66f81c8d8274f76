// The ASiC manifest of xip-format.md §2: parsing (strict, namespace-aware,
// no DTD) and writing. The manifest is what the signature covers; the data
// entries are covered through the digests it lists.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { XipError } from '../errors.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from '../limits.js';
import { showPath } from './show-path.js';

export const NS_ASIC = 'http://uri.etsi.org/02918/v1.2.1#';
export const NS_DS = 'http://www.w3.org/2000/09/xmldsig#';
export const NS_XIP = 'urn:xip:package:1';
export const SIGNATURE_MIME_TYPE = 'application/pkcs7-signature';

export type DigestAlgorithm = 'sha256' | 'sha512';
const DIGEST_URIS: Readonly<Record<string, DigestAlgorithm>> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};
const DIGEST_LENGTHS: Readonly<Record<DigestAlgorithm, number>> = { sha256: 32, sha512: 64 };

export interface ManifestReference {
  /** The entry name, percent-decoded. */
  readonly name: string;
  readonly mimeType: string;
  readonly digestAlgorithm: DigestAlgorithm;
  readonly digest: Buffer;
}

export interface PackageInfo {
  readonly version: string;
  readonly source: string;
  readonly created: string;
  readonly items: number;
}

export interface Manifest {
  /** The signature entry the manifest names (`SigReference/@URI`, decoded). */
  readonly signatureName: string;
  readonly references: readonly ManifestReference[];
  readonly package: PackageInfo | null;
}

function invalid(detail: string): XipError {
  return new XipError('MANIFEST_INVALID', detail);
}

/**
 * Decodes a manifest URI: percent-escapes are UTF-8 (RFC 3986 §2.1). Anything
 * that is not a plain relative path is refused rather than interpreted.
 */
export function decodeEntryUri(uri: string): string {
  if (uri === '' || /^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('/') || uri.includes('?') || uri.includes('#')) {
    throw invalid(`URI "${showPath(uri)}" is not a relative entry name`);
  }
  let decoded: string;
  try {
    const bytes: number[] = [];
    for (let i = 0; i < uri.length; ) {
      if (uri[i] === '%') {
        const hex = uri.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error('bad escape');
        bytes.push(parseInt(hex, 16));
        i += 3;
      } else {
        const cp = uri.codePointAt(i) as number;
        const ch = String.fromCodePoint(cp);
        bytes.push(...Buffer.from(ch, 'utf8'));
        i += ch.length;
      }
    }
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw invalid(`URI "${showPath(uri)}" has an invalid percent-encoding`);
  }
  return decoded;
}

/** Encodes an entry name as a manifest URI: everything outside RFC 3986 "unreserved" and `/` is percent-encoded as UTF-8. */
export function encodeEntryUri(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~/]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

interface Frame {
  readonly tag: SaxesTagNS;
  text: string;
}

export type ManifestLimits = Pick<ZipLimits, 'maxManifestDepth' | 'maxManifestElements'>;

/**
 * Parses and checks a manifest (§2). Throws MANIFEST_INVALID naming the first
 * rule broken. DTDs are refused outright, so no entity can be declared or
 * fetched; saxes itself never resolves external resources. The manifest is
 * parsed before its signature is checked, so whoever sends a file controls
 * it: depth and element count are bounded (saxes resolves an element's
 * namespace by walking the open elements, so its cost grows with the square
 * of the depth), and checked as each element starts, before saxes resolves it.
 */
export function parseManifest(bytes: Buffer, limits: ManifestLimits = DEFAULT_ZIP_LIMITS): Manifest {
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalid('not valid UTF-8');
  }

  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: Frame[] = [];
  let root: SaxesTagNS | undefined;
  let signatureName: string | undefined;
  let sigReferences = 0;
  const references: ManifestReference[] = [];
  const seen = new Set<string>();
  let packageInfo: PackageInfo | null = null;
  // State of the DataObjectReference being read.
  let current: { name: string; mimeType: string; algorithm?: DigestAlgorithm; digest?: Buffer } | undefined;
  let extension: { critical: boolean; known: boolean } | undefined;
  let failure: XipError | undefined;

  const fail = (e: XipError): never => {
    failure ??= e;
    throw e;
  };
  const attr = (tag: SaxesTagNS, local: string): string | undefined => {
    for (const a of Object.values(tag.attributes)) {
      if (a.local === local && a.uri === '') return a.value;
    }
    return undefined;
  };
  const parentIs = (uri: string, local: string): boolean => {
    const parent = stack[stack.length - 1]?.tag;
    return parent !== undefined && parent.uri === uri && parent.local === local;
  };

  parser.on('doctype', () => fail(invalid('a DOCTYPE is not allowed')));
  parser.on('processinginstruction', (pi) => fail(invalid(`processing instruction <?${pi.target}?> is not allowed`)));
  parser.on('error', (err) => fail(invalid(`XML: ${err.message}`)));
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  let elements = 0;
  parser.on('opentagstart', () => {
    // `stack` holds the open elements: this one will be at depth stack.length + 1.
    if (stack.length + 1 > limits.maxManifestDepth) {
      fail(invalid(`elements nested more than ${limits.maxManifestDepth} deep (the maxManifestDepth limit)`));
    }
    elements += 1;
    if (elements > limits.maxManifestElements) {
      fail(invalid(`more than ${limits.maxManifestElements} elements (the maxManifestElements limit)`));
    }
  });
  parser.on('opentag', (tag) => {
    const depth = stack.length;
    if (depth === 0) {
      if (tag.uri !== NS_ASIC || tag.local !== 'ASiCManifest') fail(invalid(`root element is {${tag.uri}}${tag.local}, not asic:ASiCManifest`));
      root = tag;
    } else if (depth === 1) {
      if (tag.uri !== NS_ASIC) fail(invalid(`unexpected element {${tag.uri}}${tag.local}`));
      if (tag.local === 'SigReference') {
        sigReferences++;
        const uri = attr(tag, 'URI');
        if (uri === undefined) fail(invalid('SigReference has no URI'));
        if (attr(tag, 'MimeType') !== SIGNATURE_MIME_TYPE) fail(invalid(`SigReference MimeType must be ${SIGNATURE_MIME_TYPE}`));
        signatureName = decodeEntryUri(uri as string);
      } else if (tag.local === 'DataObjectReference') {
        const uri = attr(tag, 'URI');
        if (uri === undefined) fail(invalid('DataObjectReference has no URI'));
        const name = decodeEntryUri(uri as string);
        if (seen.has(name)) fail(invalid(`entry "${showPath(name)}" is listed twice`));
        seen.add(name);
        // The ETSI schema makes MimeType optional; we default it rather than reject a foreign manifest.
        current = { name, mimeType: attr(tag, 'MimeType') ?? 'application/octet-stream' };
      } else if (tag.local !== 'ASiCManifestExtensions') {
        fail(invalid(`unexpected element asic:${tag.local}`));
      }
    } else if (current !== undefined && depth === 2) {
      if (tag.uri === NS_DS && tag.local === 'DigestMethod') {
        const alg = DIGEST_URIS[attr(tag, 'Algorithm') ?? ''];
        if (alg === undefined) fail(invalid(`entry "${showPath(current.name)}": unsupported DigestMethod ${showPath(attr(tag, 'Algorithm') ?? '(none)')}`));
        current.algorithm = alg;
      } else if (!(tag.uri === NS_DS && tag.local === 'DigestValue') && !(tag.uri === NS_ASIC && tag.local === 'DataObjectReferenceExtensions')) {
        fail(invalid(`entry "${showPath(current.name)}": unexpected element {${tag.uri}}${tag.local}`));
      }
    } else if (depth === 2 && parentIs(NS_ASIC, 'ASiCManifestExtensions')) {
      if (tag.uri !== NS_ASIC || tag.local !== 'Extension') fail(invalid(`unexpected element {${tag.uri}}${tag.local} in ASiCManifestExtensions`));
      const critical = attr(tag, 'Critical');
      extension = { critical: critical === 'true' || critical === '1', known: false };
    } else if (depth === 3 && extension !== undefined && parentIs(NS_ASIC, 'Extension')) {
      if (tag.uri === NS_XIP && tag.local === 'Package') {
        if (packageInfo !== null) fail(invalid('more than one xip:Package'));
        packageInfo = readPackage(tag, attr);
        extension.known = true;
      }
    }
    stack.push({ tag, text: '' });
  });
  parser.on('closetag', (tag) => {
    const frame = stack.pop();
    const depth = stack.length;
    if (depth === 2 && current !== undefined && tag.uri === NS_DS && tag.local === 'DigestValue') {
      const text = (frame?.text ?? '').replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) fail(invalid(`entry "${showPath(current.name)}": DigestValue is not base64`));
      current.digest = Buffer.from(text, 'base64');
    } else if (depth === 1 && current !== undefined && tag.local === 'DataObjectReference') {
      const { name, mimeType, algorithm, digest } = current;
      if (algorithm === undefined) fail(invalid(`entry "${showPath(name)}" has no DigestMethod`));
      if (digest === undefined) fail(invalid(`entry "${showPath(name)}" has no DigestValue`));
      if (digest!.length !== DIGEST_LENGTHS[algorithm!]) fail(invalid(`entry "${showPath(name)}": DigestValue has ${digest!.length} bytes, ${algorithm} has ${DIGEST_LENGTHS[algorithm!]}`));
      references.push({ name, mimeType, digestAlgorithm: algorithm!, digest: digest! });
      current = undefined;
    } else if (depth === 2 && extension !== undefined && tag.local === 'Extension') {
      // §2: unknown non-critical extensions are ignored; unknown critical ones are refused.
      if (extension.critical && !extension.known) fail(invalid('a critical extension that this reader does not know'));
      extension = undefined;
    }
  });

  try {
    parser.write(xml).close();
  } catch (e) {
    if (failure) throw failure;
    throw invalid(`XML: ${(e as Error).message}`);
  }
  if (failure) throw failure;
  if (root === undefined) throw invalid('no root element');
  if (sigReferences !== 1 || signatureName === undefined) throw invalid(`${sigReferences} SigReference elements, expected exactly one`);
  return { signatureName, references, package: packageInfo };
}

function readPackage(tag: SaxesTagNS, attr: (tag: SaxesTagNS, local: string) => string | undefined): PackageInfo {
  const version = attr(tag, 'version');
  const source = attr(tag, 'source');
  const created = attr(tag, 'created');
  const items = attr(tag, 'items');
  if (version !== '1') throw invalid(`xip:Package version "${showPath(version ?? '')}" is not 1`);
  if (!source) throw invalid('xip:Package has no source');
  if (!created || !RFC3339.test(created) || Number.isNaN(Date.parse(created))) throw invalid(`xip:Package created "${showPath(created ?? '')}" is not an RFC 3339 time`);
  if (!items || !/^(0|[1-9]\d{0,15})$/.test(items)) throw invalid(`xip:Package items "${showPath(items ?? '')}" is not a count`);
  return { version, source, created, items: Number(items) };
}

function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

const DIGEST_URI_OF: Readonly<Record<DigestAlgorithm, string>> = {
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
};

export interface ManifestInput {
  readonly signatureName: string;
  readonly references: readonly ManifestReference[];
  readonly package?: PackageInfo | null;
}

/** Writes a manifest that parseManifest reads back unchanged, in the ETSI schema's element order. */
export function writeManifest(input: ManifestInput): Buffer {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    `<asic:ASiCManifest xmlns:asic="${NS_ASIC}" xmlns:ds="${NS_DS}">`,
    `  <asic:SigReference URI="${xmlAttr(encodeEntryUri(input.signatureName))}" MimeType="${SIGNATURE_MIME_TYPE}"/>`,
  ];
  for (const ref of input.references) {
    lines.push(
      `  <asic:DataObjectReference URI="${xmlAttr(encodeEntryUri(ref.name))}" MimeType="${xmlAttr(ref.mimeType)}">`,
      `    <ds:DigestMethod Algorithm="${DIGEST_URI_OF[ref.digestAlgorithm]}"/>`,
      `    <ds:DigestValue>${ref.digest.toString('base64')}</ds:DigestValue>`,
      '  </asic:DataObjectReference>',
    );
  }
  const pkg = input.package;
  if (pkg) {
    lines.push(
      '  <asic:ASiCManifestExtensions>',
      '    <asic:Extension Critical="false">',
      `      <xip:Package xmlns:xip="${NS_XIP}" version="${xmlAttr(pkg.version)}" source="${xmlAttr(pkg.source)}" created="${xmlAttr(pkg.created)}" items="${pkg.items}"/>`,
      '    </asic:Extension>',
      '  </asic:ASiCManifestExtensions>',
    );
  }
  lines.push('</asic:ASiCManifest>', '');
  return Buffer.from(lines.join('\n'), 'utf8');
}
