// An in-process fake, named as such: builds CMS signatures that are correctly
// signed but wrong in one chosen way (a bad messageDigest, a signingCertificateV2
// naming another certificate, …) — faults that neither openssl nor signManifest
// can be asked to produce.
import crypto from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from '../algorithms.js';
import type { X509 } from '../certs.js';
import { signingCertificateV2Value } from '../ess.js';

export interface CraftOptions {
  readonly signer: X509;
  readonly key: crypto.KeyObject;
  readonly content: Buffer;
  /** Replace or drop (undefined) standard attributes, or add others, by OID. */
  readonly attributes?: Readonly<Record<string, asn1js.AsnType[] | undefined>>;
  readonly certificates?: readonly X509[];
  /** Encapsulate the content (not detached). */
  readonly attached?: boolean;
  readonly eContentType?: string;
}

/** A SignedData (RSA sha256 or ECDSA sha256) with the standard XIP signed attributes, altered as asked. */
export function craftCms(opts: CraftOptions): Buffer {
  const standard: Record<string, asn1js.AsnType[] | undefined> = {
    [OID.contentType]: [new asn1js.ObjectIdentifier({ value: OID.data })],
    [OID.signingTime]: [new asn1js.UTCTime({ valueDate: new Date(Math.floor(Date.now() / 1000) * 1000) })],
    [OID.messageDigest]: [new asn1js.OctetString({ valueHex: crypto.createHash('sha256').update(opts.content).digest() })],
    [OID.signingCertificateV2]: [signingCertificateV2Value(opts.signer)],
    ...opts.attributes,
  };
  const attrs = Object.entries(standard)
    .filter((e): e is [string, asn1js.AsnType[]] => e[1] !== undefined)
    .map(([type, values]) => new pkijs.Attribute({ type, values }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.toSchema().toBER()), Buffer.from(b.toSchema().toBER())));
  const tbs = Buffer.from(new asn1js.Set({ value: attrs.map((a) => a.toSchema()) }).toBER());
  const isEc = opts.key.asymmetricKeyType === 'ec';
  const signature = crypto.sign('sha256', tbs, opts.key);
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: opts.signer.cert.issuer, serialNumber: opts.signer.cert.serialNumber }),
    digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: attrs }),
    signatureAlgorithm: new pkijs.AlgorithmIdentifier(
      isEc ? { algorithmId: OID.ecdsaSha256 } : { algorithmId: OID.sha256WithRSA, algorithmParams: new asn1js.Null() },
    ),
    signature: new asn1js.OctetString({ valueHex: signature }),
  });
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 })],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: opts.eContentType ?? OID.data,
      ...(opts.attached ? { eContent: new asn1js.OctetString({ valueHex: opts.content }) } : {}),
    }),
    certificates: (opts.certificates ?? [opts.signer]).map((c) => c.cert),
    signerInfos: [signerInfo],
  });
  return Buffer.from(new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema() }).toSchema().toBER());
}

/** The same CMS with its signatureTimeStampToken replaced by `token` (or added). */
export function withTimestampToken(cms: Buffer, token: Buffer): Buffer {
  const contentInfo = pkijs.ContentInfo.fromBER(cms);
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  const signerInfo = signedData.signerInfos[0] as pkijs.SignerInfo;
  signerInfo.unsignedAttrs = new pkijs.SignedAndUnsignedAttributes({
    type: 1,
    attributes: [new pkijs.Attribute({ type: OID.signatureTimeStampToken, values: [asn1js.fromBER(token).result] })],
  });
  return Buffer.from(new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema() }).toSchema().toBER());
}
