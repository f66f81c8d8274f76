// Signing identities made in-process: a CA and a signer certificate issued by
// it, for the demo and for anyone trying the tool without a PKI. Production
// signers use their own CA; this is not a substitute for one.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export type KeyAlgorithm = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072';

export interface IssuedIdentity {
  readonly caCertificatePem: string;
  readonly caPrivateKeyPem: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export interface IdentityOptions {
  readonly caName: string;
  readonly signerName: string;
  readonly organization?: string;
  readonly algorithm?: KeyAlgorithm;
  readonly notBefore?: Date;
  readonly days?: number;
  /** The signer's keyUsage: digitalSignature + nonRepudiation (default), or keyEncipherment only (a certificate that must not sign). */
  readonly signerUsage?: 'signature' | 'encipherment';
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  rsaSha256: '1.2.840.113549.1.1.11',
} as const;

function generate(algorithm: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (algorithm) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'rsa-3072':
      return generateKeyPairSync('rsa', { modulusLength: 3072 });
  }
}

function signatureScheme(key: KeyObject): { oid: string; hash: 'sha256' | 'sha384'; params: boolean } {
  if (key.asymmetricKeyType === 'rsa') return { oid: OID.rsaSha256, hash: 'sha256', params: true };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? { oid: OID.ecdsaSha384, hash: 'sha384', params: false } : { oid: OID.ecdsaSha256, hash: 'sha256', params: false };
}

/** A distinguished name with one attribute per RDN (pkijs would put them all in one multi-valued RDN). */
function name(commonName: string, organization: string | undefined): pkijs.RelativeDistinguishedNames {
  const atv = (type: string, value: string) =>
    new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }).toSchema()] });
  const rdns = [...(organization ? [atv(OID.organization, organization)] : []), atv(OID.commonName, commonName)];
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns }).toBER(false));
}

function toPem(label: string, der: ArrayBuffer | Buffer): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

interface IssueParams {
  readonly subject: pkijs.RelativeDistinguishedNames;
  readonly issuer: pkijs.RelativeDistinguishedNames;
  readonly publicKey: KeyObject;
  readonly issuerKey: KeyObject;
  readonly issuerPublicKey: KeyObject;
  readonly ca: boolean;
  readonly usage?: 'signature' | 'encipherment';
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function keyIdentifier(publicKey: KeyObject): Buffer {
  // RFC 5280 §4.2.1.2 method 1 uses SHA-1 of the key; SHA-256 truncated is allowed by RFC 7093.
  const spki = pkijs.PublicKeyInfo.fromBER(publicKey.export({ type: 'spki', format: 'der' }));
  return createHash('sha256').update(Buffer.from(spki.subjectPublicKey.valueBlock.valueHexView)).digest().subarray(0, 20);
}

function issue(p: IssueParams): Buffer {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f; // positive INTEGER
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject = p.subject;
  cert.issuer = p.issuer;
  cert.notBefore.value = p.notBefore;
  cert.notAfter.value = p.notAfter;
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(p.publicKey.export({ type: 'spki', format: 'der' }));
  // RFC 5280 §4.2.1.3: bit 0 digitalSignature, 1 nonRepudiation, 2 keyEncipherment, 5 keyCertSign, 6 cRLSign.
  const [bits, unused] = p.ca ? [0x06, 1] : p.usage === 'encipherment' ? [0x20, 5] : [0xc0, 6];
  const keyUsage = new asn1js.BitString({ valueHex: Uint8Array.from([bits]).buffer, unusedBits: unused });
  cert.extensions = [
    new pkijs.Extension({
      extnID: OID.basicConstraints,
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: p.ca }).toSchema().toBER(false),
    }),
    new pkijs.Extension({ extnID: OID.keyUsage, critical: true, extnValue: keyUsage.toBER(false) }),
    new pkijs.Extension({
      extnID: OID.subjectKeyIdentifier,
      critical: false,
      extnValue: new asn1js.OctetString({ valueHex: keyIdentifier(p.publicKey) }).toBER(false),
    }),
    new pkijs.Extension({
      extnID: OID.authorityKeyIdentifier,
      critical: false,
      extnValue: new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: keyIdentifier(p.issuerPublicKey) }) }).toSchema().toBER(false),
    }),
  ];
  const scheme = signatureScheme(p.issuerKey);
  const algorithm = new pkijs.AlgorithmIdentifier({ algorithmId: scheme.oid, ...(scheme.params ? { algorithmParams: new asn1js.Null() } : {}) });
  cert.signature = algorithm;
  cert.signatureAlgorithm = algorithm;
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER(false));
  const signature = sign(scheme.hash, cert.tbsView, p.issuerKey);
  cert.signatureValue = new asn1js.BitString({ valueHex: signature });
  return Buffer.from(cert.toSchema(true).toBER(false));
}

/** A CA and a signer certificate it issued, each with a fresh key pair. */
export function issueSigningIdentity(options: IdentityOptions): IssuedIdentity {
  const algorithm = options.algorithm ?? 'ec-p256';
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (options.days ?? 365) * 86_400_000);
  const ca = generate(algorithm);
  const signer = generate(algorithm);
  const caName = name(options.caName, options.organization);
  const caDer = issue({ subject: caName, issuer: caName, publicKey: ca.publicKey, issuerKey: ca.privateKey, issuerPublicKey: ca.publicKey, ca: true, notBefore, notAfter });
  const signerDer = issue({
    subject: name(options.signerName, options.organization),
    issuer: caName,
    publicKey: signer.publicKey,
    issuerKey: ca.privateKey,
    issuerPublicKey: ca.publicKey,
    ca: false,
    usage: options.signerUsage ?? 'signature',
    notBefore,
    notAfter,
  });
  return {
    caCertificatePem: toPem('CERTIFICATE', caDer),
    caPrivateKeyPem: ca.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: toPem('CERTIFICATE', signerDer),
    privateKeyPem: signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
