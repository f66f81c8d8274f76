// A contract double of an OpenID Provider, shaped like Microsoft Entra ID's
// v2.0 endpoints, for the single sign-on tests: one HTTPS listener on
// 127.0.0.1 (a server certificate of a throwaway CA, graph-double/tls.ts),
// nothing but loopback.
//
// - GET /{tenant}/v2.0/.well-known/openid-configuration: the metadata
//   (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc),
//   `{tenant}` the tenant's id or its domain name; the issuer always names
//   the id, as Entra's does: an issuer URL made with the domain name does
//   not match the metadata's issuer.
// - GET /{tenant}/discovery/v2.0/keys: the JWK Set (one RS256 key).
// - GET /{tenant}/oauth2/v2.0/authorize: the configured `user` "signs in" at
//   once; 302 back to the redirect_uri with `code` and `state`. An unknown
//   client or redirect_uri is a 400 page (RFC 6749 §4.1.2.1: never redirect
//   to it); a request without PKCE S256, `openid` or response_type=code is
//   redirected back with error=invalid_request. The code remembers the
//   client, redirect_uri, code_challenge, nonce and the user as they were.
// - POST /{tenant}/oauth2/v2.0/token: grant_type=authorization_code with
//   the client secret (in the body or HTTP Basic), the code (once: a code
//   redeemed already is invalid_grant AADSTS54005), the same redirect_uri and
//   the PKCE verifier (AADSTS501481 when it does not match); answers
//   {token_type, scope, expires_in, access_token, id_token}, the ID token
//   RS256-signed (jwt.ts) with iss, sub, aud, exp, iat, nbf, nonce, tid, oid,
//   name, preferred_username, email, and the groups claim — or, for a user in
//   more groups than fit, Entra's overage: no groups, `_claim_names` and
//   `_claim_sources` pointing at Graph
//   (https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/app-integration/get-signed-in-users-groups-in-access-token).
//
// Knobs (`knobs`), applied when the next ID token is made: a wrong nonce, a
// wrong audience, an expired token, a signature by a key not in the JWKS.
import { createHash, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeTls, type TlsMaterial } from '../graph-double/tls.js';
import { fetchTrusting, type Fetch } from './https-fetch.js';
import { newSigningKey, signJwt, type SigningKey } from './jwt.js';

export interface DoubleUser {
  readonly sub: string;
  readonly preferred_username?: string;
  readonly email?: string;
  readonly name?: string;
  /** Group object ids; undefined: no groups claim at all. */
  readonly groups?: readonly string[];
  /** In more groups than fit in a token (Entra: over 200): the overage claims instead of `groups`. */
  readonly overage?: boolean;
}

export interface DoubleKnobs {
  wrongNonce?: boolean;
  wrongAudience?: boolean;
  expired?: boolean;
  /** Signed by a key the JWKS does not hold. */
  foreignKey?: boolean;
}

export interface TokenRequest {
  readonly code: string;
  readonly status: number;
  readonly error?: string;
  /** The AADSTS number of the error. */
  readonly aadsts?: number;
}

export interface OidcDouble {
  readonly tenantId: string;
  readonly tenantDomain: string;
  /** https://127.0.0.1:PORT/{tenantId}/v2.0 */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly caPem: string;
  readonly caPath: string;
  /**
   * The base64 SHA-256 of the server certificate's public key (its DER
   * SubjectPublicKeyInfo): what Chromium's --ignore-certificate-errors-spki-list
   * takes to trust this one key, and no other certificate.
   */
  readonly spkiSha256: string;
  /** A fetch that trusts the double's CA and follows no redirect (openid-client's customFetch; a test's browser). */
  readonly fetch: Fetch;
  /** Redirect URIs registered for the client (the app registration's "Web" platform). */
  readonly redirectUris: Set<string>;
  /** Who signs in at the authorize endpoint. */
  user: DoubleUser;
  knobs: DoubleKnobs;
  readonly tokenRequests: TokenRequest[];
  close(): Promise<void>;
}

interface Grant {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly nonce: string | undefined;
  readonly scope: string;
  readonly user: DoubleUser;
  readonly expiresAt: number;
  redeemed: boolean;
}

const CODE_LIFETIME_MS = 10 * 60_000;
const TOKEN_LIFETIME_S = 3600;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startOidcDouble(options: { user?: DoubleUser } = {}): Promise<OidcDouble> {
  const tls: TlsMaterial = await makeTls();
  const key: SigningKey = newSigningKey();
  const foreign: SigningKey = newSigningKey();
  const tenantId = randomUUID();
  const grants = new Map<string, Grant>();
  const server: Server = createServer({ key: tls.serverKeyPem, cert: tls.serverCertPem });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const double: OidcDouble = {
    tenantId,
    tenantDomain: 'contoso.example',
    issuer: `${origin}/${tenantId}/v2.0`,
    clientId: randomUUID(),
    clientSecret: `secret~${randomBytes(24).toString('base64url')}`,
    caPem: tls.caPem,
    caPath: tls.caPath,
    spkiSha256: createHash('sha256').update(new X509Certificate(tls.serverCertPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64'),
    fetch: fetchTrusting(tls.caPem),
    redirectUris: new Set(),
    user: options.user ?? { sub: 'subject-ana', preferred_username: 'ana@contoso.example', groups: [] },
    knobs: {},
    tokenRequests: [],
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await tls.remove();
    },
  };

  const tokenError = (res: ServerResponse, code: string, status: number, error: string, aadsts: number, text: string) => {
    double.tokenRequests.push({ code, status, error, aadsts });
    send(res, status, { error, error_description: `AADSTS${aadsts}: ${text}`, error_codes: [aadsts] });
  };

  function metadata(): Record<string, unknown> {
    const base = `${origin}/${tenantId}`;
    return {
      issuer: double.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      code_challenge_methods_supported: ['plain', 'S256'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'email', 'oid', 'groups'],
    };
  }

  function authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri') ?? '';
    if (q.get('client_id') !== double.clientId) return send(res, 400, '<p>AADSTS700016: Application not found in the directory.</p>');
    if (!double.redirectUris.has(redirectUri)) return send(res, 400, '<p>AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.</p>');
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const problem =
      q.get('response_type') !== 'code' ? 'response_type must be code'
      : !(q.get('scope') ?? '').split(' ').includes('openid') ? 'scope must include openid'
      : q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') ? 'PKCE with S256 is required'
      : undefined;
    if (problem) {
      back.searchParams.set('error', 'invalid_request');
      back.searchParams.set('error_description', `AADSTS90014: ${problem}`);
    } else {
      const code = randomBytes(32).toString('base64url');
      grants.set(code, {
        clientId: double.clientId,
        redirectUri,
        challenge: q.get('code_challenge')!,
        nonce: q.get('nonce') ?? undefined,
        scope: q.get('scope')!,
        user: { ...double.user },
        expiresAt: Date.now() + CODE_LIFETIME_MS,
        redeemed: false,
      });
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { location: back.href, 'cache-control': 'no-store' });
    res.end();
  }

  function idToken(grant: Grant): string {
    const now = Math.floor(Date.now() / 1000);
    const { user } = grant;
    const knobs = double.knobs;
    const iat = knobs.expired ? now - 2 * TOKEN_LIFETIME_S : now;
    const claims: Record<string, unknown> = {
      ver: '2.0',
      iss: double.issuer,
      sub: user.sub,
      aud: knobs.wrongAudience ? randomUUID() : grant.clientId,
      exp: iat + TOKEN_LIFETIME_S,
      iat,
      nbf: iat,
      ...(grant.nonce !== undefined ? { nonce: knobs.wrongNonce ? `${grant.nonce}-not` : grant.nonce } : {}),
      tid: tenantId,
      oid: createHash('sha256').update(user.sub).digest('hex').slice(0, 32),
      ...(user.name !== undefined ? { name: user.name } : {}),
      ...(user.preferred_username !== undefined ? { preferred_username: user.preferred_username } : {}),
      ...(user.email !== undefined ? { email: user.email } : {}),
    };
    if (user.overage) {
      claims._claim_names = { groups: 'src1' };
      claims._claim_sources = { src1: { endpoint: `https://graph.microsoft.com/v1.0/users/${String(claims.oid)}/getMemberObjects` } };
    } else if (user.groups !== undefined) {
      claims.groups = [...user.groups];
    }
    return signJwt(knobs.foreignKey ? foreign : key, claims);
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const code = form.get('code') ?? '';
    let clientId = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, pw] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map((s) => decodeURIComponent(s));
      clientId = id ?? null;
      secret = pw ?? null;
    }
    if (form.get('grant_type') !== 'authorization_code') return tokenError(res, code, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (clientId !== double.clientId) return tokenError(res, code, 400, 'unauthorized_client', 700016, 'Application not found in the directory.');
    if (secret !== double.clientSecret) return tokenError(res, code, 401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    const grant = grants.get(code);
    if (!grant || grant.clientId !== clientId) return tokenError(res, code, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    if (grant.redeemed) return tokenError(res, code, 400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    grant.redeemed = true;
    if (grant.expiresAt < Date.now()) return tokenError(res, code, 400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity.');
    if (form.get('redirect_uri') !== grant.redirectUri) return tokenError(res, code, 400, 'invalid_grant', 500112, 'The reply address does not match the reply address provided when requesting Authorization code.');
    const verifier = form.get('code_verifier') ?? '';
    if (createHash('sha256').update(verifier, 'ascii').digest('base64url') !== grant.challenge) return tokenError(res, code, 400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    double.tokenRequests.push({ code, status: 200 });
    send(res, 200, { token_type: 'Bearer', scope: grant.scope, expires_in: TOKEN_LIFETIME_S, ext_expires_in: TOKEN_LIFETIME_S, access_token: randomBytes(32).toString('base64url'), id_token: idToken(grant) });
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    const [, tenant, ...rest] = url.pathname.split('/');
    const path = rest.join('/');
    const known = tenant === tenantId || tenant?.toLowerCase() === double.tenantDomain;
    const handle = async () => {
      if (!known) return send(res, 400, { error: 'invalid_tenant', error_description: 'AADSTS90002: Tenant not found.' });
      if (req.method === 'GET' && path === 'v2.0/.well-known/openid-configuration') return send(res, 200, metadata());
      if (req.method === 'GET' && path === 'discovery/v2.0/keys') return send(res, 200, { keys: [key.jwk] });
      if (req.method === 'GET' && path === 'oauth2/v2.0/authorize') return authorize(url, res);
      if (req.method === 'POST' && path === 'oauth2/v2.0/token') return token(req, res);
      return send(res, 404, { error: 'not_found' });
    };
    handle().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: 'server_error', error_description: `oidc double: ${(e as Error).message}` });
      else res.destroy();
    });
  });
  return double;
}
