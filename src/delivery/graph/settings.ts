// `--to graph://TENANT` and the environment it reads, checked once at
// start-up (style.md). TENANT is the tenant's id or a verified domain
// (contoso.onmicrosoft.com). Secrets never come from the URL.
//
//   XIP_GRAPH_CLIENT_ID       the app registration's application (client) id
//   XIP_GRAPH_CERT, _KEY      its certificate and private key, PEM (text, or a file's path) — preferred
//   XIP_GRAPH_CLIENT_SECRET   or a client secret
//   XIP_GRAPH_URL             the Graph root (default https://graph.microsoft.com)
//   XIP_GRAPH_LOGIN_URL       the identity platform (default https://login.microsoftonline.com)
//   XIP_GRAPH_IMAP_URL        where messages too large for one Graph request go
//                             (IMAP with XOAUTH2); default from the cloud,
//                             "none" to fail them with MESSAGE_TOO_LARGE instead
//   XIP_GRAPH_IMAP_SCOPE      the scope of that route's token (default https://outlook.office365.com/.default)
//   XIP_GRAPH_TENANT          the tenant, where no graph:// URL names it (`--to imaps://… --auth oauth2-app`)
//   XIP_GRAPH_LIMITS          the Outlook limits kept per mailbox, when not Microsoft's (a double,
//                             a bench): "concurrent=4,requests=10000/600s,upload=150000000/300s"
import { readFileSync } from 'node:fs';
import { XipError } from '../../errors.js';
import type { OutlookLimits } from './throttle.js';
import type { GraphCredential } from './token.js';

export const GRAPH_ENV = {
  clientId: 'XIP_GRAPH_CLIENT_ID',
  secret: 'XIP_GRAPH_CLIENT_SECRET',
  cert: 'XIP_GRAPH_CERT',
  key: 'XIP_GRAPH_KEY',
  graphUrl: 'XIP_GRAPH_URL',
  loginUrl: 'XIP_GRAPH_LOGIN_URL',
  imapUrl: 'XIP_GRAPH_IMAP_URL',
  imapScope: 'XIP_GRAPH_IMAP_SCOPE',
  tenant: 'XIP_GRAPH_TENANT',
  limits: 'XIP_GRAPH_LIMITS',
} as const;

/** The app as the identity platform knows it: enough to get tokens. */
export interface GraphApp {
  readonly tenant: string;
  readonly clientId: string;
  readonly credential: GraphCredential;
  readonly loginUrl: string;
}

export interface GraphSpec {
  readonly kind: 'graph';
  readonly tenant: string;
  readonly clientId: string;
  readonly credential: GraphCredential;
  readonly graphUrl: string;
  readonly loginUrl: string;
  /** The IMAP route for large messages, or undefined for none. */
  readonly imapUrl: string | undefined;
  readonly imapScope: string;
  /** The limits kept per mailbox where they are not Microsoft's (XIP_GRAPH_LIMITS). */
  readonly limits: Partial<OutlookLimits>;
  readonly description: string;
}

/** "concurrent=4,requests=10000/600s,upload=150000000/300s": any of the three, in any order. */
export function parseLimits(text: string | undefined, usage: (text: string) => XipError = usageOf(GRAPH_ENV.limits)): Partial<OutlookLimits> {
  const limits: { -readonly [K in keyof OutlookLimits]?: OutlookLimits[K] } = {};
  if (!text) return limits;
  for (const part of text.split(',')) {
    const m = /^\s*(concurrent|requests|upload)\s*=\s*(\d{1,12})(?:\s*\/\s*(\d+(?:\.\d+)?)(ms|s))?\s*$/.exec(part);
    if (!m || (m[1] === 'concurrent') !== (m[3] === undefined) || Number(m[2]) < 1) throw usage(`${GRAPH_ENV.limits}: "${part.trim().slice(0, 60)}" is not concurrent=N, requests=N/Ts or upload=BYTES/Ts`);
    const n = Number(m[2]);
    const ms = m[3] === undefined ? 0 : Math.round(Number(m[3]) * (m[4] === 's' ? 1000 : 1));
    if (m[3] !== undefined && ms < 1) throw usage(`${GRAPH_ENV.limits}: "${part.trim()}" has no time window`);
    if (m[1] === 'concurrent') limits.concurrent = n;
    else if (m[1] === 'requests') [limits.requests, limits.windowMs] = [n, ms];
    else [limits.uploadBytes, limits.uploadWindowMs] = [n, ms];
  }
  return limits;
}

/** Exchange Online's IMAP host for each Graph cloud (https://learn.microsoft.com/en-us/graph/deployments). */
const IMAP_OF_CLOUD: Readonly<Record<string, string>> = {
  'graph.microsoft.com': 'imaps://outlook.office365.com',
  'graph.microsoft.us': 'imaps://outlook.office365.us',
  'dod-graph.microsoft.us': 'imaps://outlook-dod.office365.us',
  'microsoftgraph.chinacloudapi.cn': 'imaps://partner.outlook.cn',
};

type Env = Readonly<Record<string, string | undefined>>;

type Usage = (text: string) => XipError;

function usageOf(label: string): Usage {
  return (text) => new XipError('USAGE', `${label}: ${text}`);
}

function httpsRoot(usage: Usage, name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usage(`${name} "${value.slice(0, 100)}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw usage(`${name} must be https:// (TLS is always verified; a private CA goes in NODE_EXTRA_CA_CERTS)`);
  if (url.username || url.password || url.search || url.hash) throw usage(`${name} must be a plain https://HOST[:PORT] root`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** A PEM value: the text itself, or the path of a file holding it. */
function pem(usage: Usage, name: string, value: string): string {
  if (value.includes('-----BEGIN ')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (e) {
    throw usage(`${name}: "${value.slice(0, 200)}" is neither PEM text nor a readable file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function credentialOf(usage: Usage, env: Env): GraphCredential {
  const cert = env[GRAPH_ENV.cert];
  const key = env[GRAPH_ENV.key];
  if (cert || key) {
    if (!cert || !key) throw usage(`${GRAPH_ENV.cert} and ${GRAPH_ENV.key} go together (the certificate and its private key)`);
    return { kind: 'certificate', certificatePem: pem(usage, GRAPH_ENV.cert, cert), privateKeyPem: pem(usage, GRAPH_ENV.key, key) };
  }
  const secret = env[GRAPH_ENV.secret];
  if (secret) return { kind: 'secret', secret };
  throw usage(`give the app's certificate (${GRAPH_ENV.cert} and ${GRAPH_ENV.key}, preferred) or a client secret (${GRAPH_ENV.secret})`);
}

function checkTenant(usage: Usage, tenant: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(tenant)) throw usage(`the tenant "${tenant.slice(0, 100)}" must be a tenant id or a domain`);
  return tenant;
}

/** The app's identity from the environment, for `tenant`. */
function appOf(usage: Usage, tenant: string, env: Env): GraphApp {
  const clientId = env[GRAPH_ENV.clientId];
  if (!clientId) throw usage(`the app's client id goes in ${GRAPH_ENV.clientId}`);
  const credential = credentialOf(usage, env);
  const loginUrl = httpsRoot(usage, GRAPH_ENV.loginUrl, env[GRAPH_ENV.loginUrl] || 'https://login.microsoftonline.com');
  return { tenant: checkTenant(usage, tenant), clientId, credential, loginUrl };
}

/** The app for an IMAP target with `--auth oauth2-app`: the tenant from XIP_GRAPH_TENANT, the token's scope from XIP_GRAPH_IMAP_SCOPE. */
export function parseOauthApp(env: Env, label: string): GraphApp & { readonly scope: string } {
  const usage = usageOf(label);
  const tenant = env[GRAPH_ENV.tenant];
  if (!tenant) throw usage(`the tenant goes in ${GRAPH_ENV.tenant} (its id or a domain such as contoso.onmicrosoft.com)`);
  return { ...appOf(usage, tenant, env), scope: env[GRAPH_ENV.imapScope] || 'https://outlook.office365.com/.default' };
}

/** `graph://TENANT` for `--to` (label '--to') or `--directory`. */
export function parseGraphTarget(spec: string, env: Env, label = '--to'): GraphSpec {
  const usage = usageOf(`${label} graph://TENANT`);
  const m = /^graph:\/\/([^/?#]+)\/?$/i.exec(spec);
  if (!m) throw usage(`"${spec.slice(0, 100)}" is not graph://TENANT (a tenant id or a domain such as contoso.onmicrosoft.com)`);
  const { tenant, clientId, credential, loginUrl } = appOf(usage, m[1]!, env);
  const graphUrl = httpsRoot(usage, GRAPH_ENV.graphUrl, env[GRAPH_ENV.graphUrl] || 'https://graph.microsoft.com');
  const imapSetting = env[GRAPH_ENV.imapUrl];
  const imapUrl = imapSetting === 'none' ? undefined : imapSetting || IMAP_OF_CLOUD[new URL(graphUrl).host];
  if (imapUrl !== undefined && !/^imaps?:\/\//i.test(imapUrl)) throw usage(`${GRAPH_ENV.imapUrl} must be imaps://HOST[:PORT] (or "none")`);
  // The route's token is for the Exchange Online host it logs in to (the cloud's own; the global one otherwise).
  const cloudImap = IMAP_OF_CLOUD[new URL(graphUrl).host];
  const imapScope = env[GRAPH_ENV.imapScope] || (cloudImap && imapUrl === cloudImap ? `https://${new URL(cloudImap).host}/.default` : 'https://outlook.office365.com/.default');
  const limits = parseLimits(env[GRAPH_ENV.limits], usage);
  const description = `graph://${tenant} (${graphUrl}, app ${clientId}, ${credential.kind}${imapUrl ? `, large messages by ${imapUrl}` : ''})`;
  return Object.freeze({ kind: 'graph', tenant, clientId, credential, graphUrl, loginUrl, imapUrl, imapScope, limits, description });
}
