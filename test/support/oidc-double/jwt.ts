// RS256 JSON Web Tokens for the OpenID Provider contract double, with
// node:crypto only (RFC 7515 compact serialisation, RFC 7518 §3.3 RS256:
// RSASSA-PKCS1-v1_5 with SHA-256), and the signing key as a JWK Set (RFC
// 7517) for the provider's jwks_uri.
import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** The public key as a JWK with kid, use and alg. */
  readonly jwk: Readonly<Record<string, unknown>>;
}

export function newSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  return { kid, privateKey, jwk };
}

const part = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export function signJwt(key: SigningKey, claims: Readonly<Record<string, unknown>>): string {
  const input = `${part({ typ: 'JWT', alg: 'RS256', kid: key.kid })}.${part(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input, 'ascii'), key.privateKey).toString('base64url')}`;
}
