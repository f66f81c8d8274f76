// A contract double of the Microsoft identity platform's endpoints that an
// app-only (daemon) client uses, on the double's login host:
//
// - GET /{tenant}/v2.0/.well-known/openid-configuration: the OpenID Provider
//   metadata MSAL's authority discovery reads (token_endpoint, issuer,
//   authorization_endpoint, jwks_uri, …),
//   https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
//   ({tenant}: the tenant's domain name or its id; endpoints name the id).
// - GET /{tenant}/discovery/v2.0/keys: the signing keys (none: the double's
//   tokens are opaque, not JWTs).
// - GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…:
//   MSAL's instance discovery,
//   https://learn.microsoft.com/en-us/entra/msal/dotnet/advanced/custom-authority-aliases
//   and https://learn.microsoft.com/en-us/entra/msal/java/advanced/instance-discovery
//   (an authorization_endpoint on another host: invalid_instance AADSTS50049).
//   MSAL asks login.microsoftonline.com for this unless the host is in
//   `knownAuthorities` (or instance discovery is off): a client under test
//   must be configured so.
// - POST /{tenant}/oauth2/v2.0/token: the client credentials grant,
//   https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//   — form-encoded grant_type=client_credentials, client_id, scope (one
//   `{resource}/.default`), and either client_secret ("First case: Access
//   token request with a shared secret"; HTTP Basic also taken, as the
//   metadata's client_secret_basic says) or client_assertion_type
//   urn:ietf:params:oauth:client-assertion-type:jwt-bearer + client_assertion
//   ("Second case: Access token request with a certificate", assertion.ts).
//   Success: 200 {"token_type":"Bearer","expires_in","ext_expires_in","access_token"}.
//   Errors as that page's "Error response" shows: {"error","error_description"
//   ("AADSTSnnnnn: …" + Trace ID, Correlation ID, Timestamp lines),
//   "error_codes":[n],"timestamp","trace_id","correlation_id","error_uri"};
//   codes per https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes:
//     400 invalid_request AADSTS90002 unknown tenant; 400 AADSTS900144 a
//     parameter missing; 400 unsupported_grant_type AADSTS70003;
//     400 unauthorized_client AADSTS700016 unknown client id;
//     400 invalid_scope AADSTS70011 a scope that is not one known
//     `{resource}/.default`; 401 invalid_client AADSTS7000215 wrong secret,
//     AADSTS7000218 no credential, AADSTS700027 / 700021 / 700024 / 50027 a
//     client assertion that fails (assertion.ts).
//   The correlation id is the client's `client-request-id` header (MSAL sends one).
import type { X509Certificate } from 'node:crypto';
import { readForm, sendJson, type Exchange } from './respond.js';
import { checkAssertion } from './assertion.js';
import type { TokenStore } from './tokens.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface IdentityConfig {
  readonly tenant: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly certificate: X509Certificate;
  /** https://127.0.0.1:PORT, the authority host. */
  readonly loginUrl: string;
  readonly graphUrl: string;
  readonly tokenLifetimeSeconds: number;
  readonly tokens: TokenStore;
  /** Lowercased resource → the audience its tokens get. */
  readonly resources: ReadonlyMap<string, string>;
}

const AAD_JSON = 'application/json; charset=utf-8';
const NO_STORE = { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' };

function aadTimestamp(ms = Date.now()): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function aadError(cfg: IdentityConfig, x: Exchange, status: number, error: string, code: number, text: string): void {
  const ts = aadTimestamp();
  sendJson(x, status, {
    error,
    error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${x.requestId}\r\nCorrelation ID: ${x.clientRequestId}\r\nTimestamp: ${ts}`,
    error_codes: [code],
    timestamp: ts,
    trace_id: x.requestId,
    correlation_id: x.clientRequestId,
    error_uri: `${cfg.loginUrl}/error?code=${code}`,
  }, NO_STORE, AAD_JSON);
}

/** The tenant a path segment names (domain name in any case, or id); undefined if neither. */
function tenantOf(cfg: IdentityConfig, segment: string): string | undefined {
  const s = segment.toLowerCase();
  return s === cfg.tenant.toLowerCase() || s === cfg.tenantId.toLowerCase() ? cfg.tenantId : undefined;
}

function openIdConfiguration(cfg: IdentityConfig, tenantId: string): Record<string, unknown> {
  const base = `${cfg.loginUrl}/${tenantId}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${cfg.graphUrl}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: new URL(cfg.loginUrl).host,
    cloud_graph_host_name: new URL(cfg.graphUrl).host,
    msgraph_host: new URL(cfg.graphUrl).host,
    rbac_url: cfg.graphUrl,
  };
}

function instanceDiscovery(cfg: IdentityConfig, x: Exchange, query: URLSearchParams): void {
  const login = new URL(cfg.loginUrl);
  const hosts = [login.host, `localhost:${login.port}`];
  let endpoint: URL;
  try {
    endpoint = new URL(query.get('authorization_endpoint') ?? '');
  } catch {
    return aadError(cfg, x, 400, 'invalid_instance', 50049, 'Unknown or invalid instance.');
  }
  if (!hosts.includes(endpoint.host)) return aadError(cfg, x, 400, 'invalid_instance', 50049, 'Unknown or invalid instance.');
  const tenant = endpoint.pathname.split('/')[1] || 'common';
  sendJson(x, 200, {
    tenant_discovery_endpoint: `${cfg.loginUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: login.host, preferred_cache: login.host, aliases: hosts }],
  }, {}, AAD_JSON);
}

/** The token endpoint URLs a client assertion's aud may name. */
function tokenEndpoints(cfg: IdentityConfig): Set<string> {
  const port = new URL(cfg.loginUrl).port;
  const out = new Set<string>();
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) for (const t of [cfg.tenant, cfg.tenantId, cfg.tenant.toLowerCase()]) out.add(`https://${host}/${t}/oauth2/v2.0/token`);
  return out;
}

/** Which client authentication the request made; a failure already answered when undefined. */
function authenticate(cfg: IdentityConfig, x: Exchange, form: URLSearchParams, clientId: string): boolean {
  let secret = form.get('client_secret');
  const basic = /^Basic\s+(\S+)$/i.exec(x.req.headers.authorization ?? '');
  if (basic) {
    const [id, ...pw] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    if (decodeURIComponent(id ?? '') === clientId) secret = decodeURIComponent(pw.join(':'));
  }
  const assertion = form.get('client_assertion');
  if (secret !== null && assertion !== null) {
    aadError(cfg, x, 400, 'invalid_request', 900144, "The request body must contain only one client credential: 'client_secret' or 'client_assertion'.");
    return false;
  }
  if (secret !== null) {
    if (secret === cfg.clientSecret) return true;
    aadError(cfg, x, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    return false;
  }
  if (assertion !== null) {
    if (form.get('client_assertion_type') !== JWT_BEARER) {
      aadError(cfg, x, 400, 'invalid_request', 900144, `The request body must contain the following parameter: 'client_assertion_type' (${JWT_BEARER}).`);
      return false;
    }
    const failure = checkAssertion(assertion, { certificate: cfg.certificate, clientId, audiences: tokenEndpoints(cfg), now: Date.now() });
    if (!failure) return true;
    aadError(cfg, x, 401, 'invalid_client', failure.code, failure.description);
    return false;
  }
  aadError(cfg, x, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  return false;
}

async function tokenRequest(cfg: IdentityConfig, x: Exchange, tenantSegment: string): Promise<void> {
  const form = await readForm(x.req);
  if (form === 'too-large') return aadError(cfg, x, 400, 'invalid_request', 900144, 'The request body is too large.');
  if (!tenantOf(cfg, tenantSegment)) {
    return aadError(cfg, x, 400, 'invalid_request', 90002, `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
  }
  const grant = form.get('grant_type');
  if (!grant) return aadError(cfg, x, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
  if (grant !== 'client_credentials') return aadError(cfg, x, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
  const clientId = form.get('client_id');
  if (!clientId) return aadError(cfg, x, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  if (clientId.toLowerCase() !== cfg.clientId.toLowerCase()) {
    return aadError(cfg, x, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${cfg.tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
  }
  const scope = form.get('scope');
  if (!scope) return aadError(cfg, x, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
  const scopes = scope.trim().split(/\s+/);
  const resource = scopes.length === 1 && scopes[0]!.endsWith('/.default') ? scopes[0]!.slice(0, -'/.default'.length).toLowerCase() : undefined;
  const aud = resource === undefined ? undefined : cfg.resources.get(resource);
  if (!aud) {
    return aadError(cfg, x, 400, 'invalid_scope', 70011, `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`);
  }
  if (!authenticate(cfg, x, form, cfg.clientId)) return;
  const t = cfg.tokens.issue(cfg.clientId, aud, scope, cfg.tokenLifetimeSeconds);
  sendJson(x, 200, { token_type: 'Bearer', expires_in: cfg.tokenLifetimeSeconds, ext_expires_in: cfg.tokenLifetimeSeconds, access_token: t.token }, NO_STORE, AAD_JSON);
}

/** Answers one request to the login host. */
export async function handleIdentity(cfg: IdentityConfig, x: Exchange): Promise<void> {
  const url = new URL(x.req.url ?? '/', cfg.loginUrl);
  let seg: string[];
  try {
    seg = url.pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  } catch {
    return aadError(cfg, x, 400, 'invalid_request', 900144, 'The request URL is not validly percent-encoded.');
  }
  const method = x.req.method ?? 'GET';
  if (method === 'GET' && seg[0] === 'common' && seg[1] === 'discovery' && seg[2] === 'instance' && seg.length === 3) return instanceDiscovery(cfg, x, url.searchParams);
  if (method === 'GET' && seg.length === 4 && seg[1] === 'v2.0' && seg[2] === '.well-known' && seg[3] === 'openid-configuration') {
    const tenantId = tenantOf(cfg, seg[0]!);
    if (!tenantId) return aadError(cfg, x, 400, 'invalid_tenant', 90002, `Tenant '${seg[0]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    return sendJson(x, 200, openIdConfiguration(cfg, tenantId), {}, AAD_JSON);
  }
  if (method === 'GET' && seg.length === 4 && seg[1] === 'discovery' && seg[2] === 'v2.0' && seg[3] === 'keys' && tenantOf(cfg, seg[0]!)) return sendJson(x, 200, { keys: [] }, {}, AAD_JSON);
  if (seg.length === 4 && seg[1] === 'oauth2' && seg[2] === 'v2.0' && seg[3] === 'token') {
    if (method !== 'POST') return aadError(cfg, x, 400, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    return tokenRequest(cfg, x, seg[0]!);
  }
  x.req.resume();
  sendJson(x, 404, { error: 'not_found', error_description: `The double's identity platform has nothing at ${url.pathname}.` }, {}, AAD_JSON);
}
