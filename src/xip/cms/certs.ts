// X.509 certificates and CRLs (RFC 5280), parsed with pkijs; the exact bytes
// that get hashed or compared (whole DER, names, SubjectPublicKeyInfo,
// extensions) are taken from the input with the strict DER reader.
import crypto from 'node:crypto';
import * as pkijs from 'pkijs';
import { XipError } from '../../errors.js';
import { importSpki, verifySigned } from './algorithms.js';
import { children, content, decodeOid, integerHex, parseDer, raw, readTlv } from './der.js';
import { formatName } from './names.js';

export { formatName } from './names.js';

export interface CertInfo {
  subject: string;
  issuer: string;
  /** Serial number, lower-case hex without sign-padding zero bytes. */
  serialNumber: string;
  /** SHA-256 of the certificate's DER, lower-case hex. */
  sha256: string;
  notBefore: string;
  notAfter: string;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

// RFC 5280 §4.2.1.3, bit 0 first.
const KEY_USAGE_BITS: readonly KeyUsageName[] = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
  'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
];

const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  crlReason: '2.5.29.21',
} as const;

export class X509 {
  readonly der: Buffer;
  readonly info: CertInfo;
  readonly cert: pkijs.Certificate;
  /** 1, 2 or 3. */
  readonly version: number;
  readonly tbs: Buffer;
  readonly spki: Buffer;
  readonly subjectDer: Buffer;
  readonly issuerDer: Buffer;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureValue: Buffer;
  /** Undefined when the certificate has no keyUsage extension. */
  readonly keyUsage: ReadonlySet<KeyUsageName> | undefined;
  /** Key purpose OIDs; undefined when there is no extendedKeyUsage extension. */
  readonly extKeyUsage: readonly string[] | undefined;
  readonly basicConstraints: { readonly cA: boolean; readonly pathLen: number | undefined } | undefined;
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
  #publicKey: crypto.KeyObject | undefined | null = null;

  /** Throws a plain Error saying what is wrong; callers turn it into their code. */
  constructor(der: Uint8Array) {
    this.der = Buffer.from(der);
    const top = parseDer(this.der);
    const [tbsTlv] = children(this.der, top);
    if (!tbsTlv) throw new Error('empty certificate');
    this.tbs = raw(this.der, tbsTlv);
    const fields = children(this.der, tbsTlv);
    const offset = fields[0]?.tagClass === 2 && fields[0].tagNumber === 0 ? 1 : 0;
    const spkiTlv = fields[offset + 5];
    if (!spkiTlv) throw new Error('certificate without SubjectPublicKeyInfo');
    this.spki = raw(this.der, spkiTlv);

    this.cert = pkijs.Certificate.fromBER(this.der);
    this.version = this.cert.version + 1;
    this.subjectDer = Buffer.from(this.cert.subject.valueBeforeDecode);
    this.issuerDer = Buffer.from(this.cert.issuer.valueBeforeDecode);
    this.serialHex = integerHex(this.cert.serialNumber.valueBlock.valueHexView);
    this.notBefore = this.cert.notBefore.value;
    this.notAfter = this.cert.notAfter.value;
    if (Number.isNaN(this.notBefore.getTime()) || Number.isNaN(this.notAfter.getTime())) throw new Error('unreadable validity dates');
    this.signatureValue = Buffer.from(this.cert.signatureValue.valueBlock.valueHexView);

    const ext = new Map<string, Buffer>();
    for (const e of this.cert.extensions ?? []) {
      // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
      if (ext.has(e.extnID)) throw new Error(`duplicate extension ${e.extnID}`);
      ext.set(e.extnID, Buffer.from(e.extnValue.valueBlock.valueHexView));
    }
    this.keyUsage = mapOpt(ext.get(EXT.keyUsage), parseKeyUsage);
    this.extKeyUsage = mapOpt(ext.get(EXT.extKeyUsage), (v) => children(v, parseDer(v)).map((t) => decodeOid(content(v, t))));
    this.basicConstraints = mapOpt(ext.get(EXT.basicConstraints), parseBasicConstraints);
    this.subjectKeyId = mapOpt(ext.get(EXT.subjectKeyIdentifier), (v) => content(v, parseDer(v)));
    this.authorityKeyId = mapOpt(ext.get(EXT.authorityKeyIdentifier), (v) => {
      const keyId = children(v, parseDer(v)).find((t) => t.tagClass === 2 && t.tagNumber === 0);
      return keyId ? content(v, keyId) : undefined;
    });

    this.info = {
      subject: formatName(this.cert.subject),
      issuer: formatName(this.cert.issuer),
      serialNumber: this.serialHex,
      sha256: crypto.createHash('sha256').update(this.der).digest('hex'),
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
    };
  }

  /** The subject public key, or undefined when node:crypto cannot import it. */
  get publicKey(): crypto.KeyObject | undefined {
    if (this.#publicKey === null) this.#publicKey = importSpki(this.spki);
    return this.#publicKey;
  }

  get isSelfIssued(): boolean {
    return this.subjectDer.equals(this.issuerDer);
  }

  /** Whether `issuer`'s name and key identifier fit as this certificate's issuer (RFC 5280 §4.2.1.1). */
  nameChainsTo(issuer: X509): boolean {
    if (!namesEqual(this.issuerDer, issuer.subjectDer)) return false;
    if (this.authorityKeyId && issuer.subjectKeyId && !this.authorityKeyId.equals(issuer.subjectKeyId)) return false;
    return true;
  }

  /** Why `issuer`'s key does not verify this certificate's signature, or undefined when it does. */
  signatureProblem(issuer: X509): string | undefined {
    return verifySigned(this.cert.signatureAlgorithm, this.tbs, this.signatureValue, issuer.publicKey);
  }
}

function mapOpt<T>(value: Buffer | undefined, f: (v: Buffer) => T): T | undefined {
  return value === undefined ? undefined : f(value);
}

function parseKeyUsage(v: Buffer): Set<KeyUsageName> {
  const tlv = parseDer(v);
  if (tlv.tagNumber !== 3 || tlv.end - tlv.contentStart < 1) throw new Error('malformed keyUsage');
  const bits = content(v, tlv).subarray(1);
  const out = new Set<KeyUsageName>();
  KEY_USAGE_BITS.forEach((name, i) => {
    if (((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0) out.add(name);
  });
  return out;
}

function parseBasicConstraints(v: Buffer): { cA: boolean; pathLen: number | undefined } {
  let cA = false;
  let pathLen: number | undefined;
  for (const t of children(v, parseDer(v))) {
    const c = content(v, t);
    if (t.tagNumber === 1) cA = c[0] !== 0;
    else if (t.tagNumber === 2) pathLen = c.length > 4 ? Number.MAX_SAFE_INTEGER : c.readUIntBE(0, Math.max(1, c.length));
  }
  return { cA, pathLen };
}

/** Name comparison: DER equality, else RFC 5280 §7.1's case- and space-insensitive match on the string form. */
export function namesEqual(a: Buffer, b: Buffer): boolean {
  if (a.equals(b)) return true;
  try {
    const norm = (d: Buffer) => formatName(pkijs.RelativeDistinguishedNames.fromBER(d)).toLowerCase().replace(/\s+/g, ' ');
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}

export interface CrlEntry {
  readonly serialHex: string;
  readonly revocationDate: Date;
  readonly reason: number | undefined;
}

export class Crl {
  readonly der: Buffer;
  readonly crl: pkijs.CertificateRevocationList;
  readonly issuerDer: Buffer;
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly entries: readonly CrlEntry[];

  constructor(der: Uint8Array) {
    this.der = Buffer.from(der);
    parseDer(this.der);
    this.crl = pkijs.CertificateRevocationList.fromBER(this.der);
    this.issuerDer = Buffer.from(this.crl.issuer.valueBeforeDecode);
    this.issuer = formatName(this.crl.issuer);
    this.thisUpdate = this.crl.thisUpdate.value;
    this.entries = (this.crl.revokedCertificates ?? []).map((rc) => {
      const reasonExt = rc.crlEntryExtensions?.extensions.find((e) => e.extnID === EXT.crlReason);
      const reasonBytes = reasonExt ? Buffer.from(reasonExt.extnValue.valueBlock.valueHexView) : undefined;
      return {
        serialHex: integerHex(rc.userCertificate.valueBlock.valueHexView),
        revocationDate: rc.revocationDate.value,
        reason: reasonBytes ? content(reasonBytes, readTlv(reasonBytes, 0))[0] : undefined,
      };
    });
  }

  /** Why `issuer`'s key does not verify this CRL, or undefined when it does. */
  signatureProblem(issuer: X509): string | undefined {
    return verifySigned(this.crl.signatureAlgorithm, this.crl.tbsView, Buffer.from(this.crl.signatureValue.valueBlock.valueHexView), issuer.publicKey);
  }
}

// PEM per RFC 7468; anything outside the wanted blocks (comments, other labels) is ignored.
function pemBlocks(text: string, labels: readonly string[]): Buffer[] | undefined {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  if (!text.includes('-----BEGIN ')) return undefined;
  const out: Buffer[] = [];
  for (const m of text.matchAll(re)) {
    if (!labels.includes(m[1] as string)) continue;
    const body = (m[2] as string).replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new Error(`invalid base64 in a ${m[1]} block`);
    out.push(Buffer.from(body, 'base64'));
  }
  return out;
}

/** DER input may hold several elements back to back. */
function derElements(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < data.length; ) {
    const tlv = readTlv(data, pos);
    out.push(raw(data, tlv));
    pos = tlv.end;
  }
  return out;
}

function parseAll<T>(data: Buffer, source: string, labels: readonly string[], what: string, make: (der: Buffer) => T): T[] {
  let ders: Buffer[];
  try {
    ders = pemBlocks(data.toString('latin1'), labels) ?? derElements(data);
  } catch (e) {
    throw new XipError('TRUST_INVALID', `${source}: not PEM or DER ${what}s (${(e as Error).message})`, { cause: e });
  }
  if (ders.length === 0) throw new XipError('TRUST_INVALID', `${source}: no ${what} found`);
  return ders.map((der, i) => {
    try {
      return make(der);
    } catch (e) {
      throw new XipError('TRUST_INVALID', `${source}: ${what} ${i + 1} is unreadable (${(e as Error).message})`, { cause: e });
    }
  });
}

/** Certificates from PEM (one or many) or DER. */
export function parseCertificates(data: Buffer, source: string): X509[] {
  return parseAll(data, source, ['CERTIFICATE', 'X509 CERTIFICATE'], 'certificate', (der) => new X509(der));
}

/** CRLs from PEM (one or many) or DER. */
export function parseCrls(data: Buffer, source: string): Crl[] {
  return parseAll(data, source, ['X509 CRL'], 'CRL', (der) => new Crl(der));
}
