// A contract double of Microsoft Graph (and of the Microsoft identity
// platform's token endpoint), for tests and benches: no test may reach
// Microsoft. It serves, over HTTPS on 127.0.0.1 with a test CA of its own,
// what an app-only client that imports mail into Exchange Online mailboxes
// uses, each behaviour following the learn.microsoft.com page cited where it
// is implemented:
//
//   identity.ts   the login host: OpenID metadata, instance discovery, the
//                 client credentials grant (secret or certificate assertion)
//   graph.ts      the Graph host's pipeline: token check, route, mailbox,
//                 Outlook limits (throttle.ts), faults (faults.ts), body limit
//   mail.ts       folders, a folder's messages, importMime (beta)
//   users.ts      the directory (/users)
//   introspect.ts a double-only RFC 7662 introspection for a local Dovecot
//   state.ts      mailboxes, folders, messages;  tls.ts  the key material
//
// It is a double, not Microsoft 365: permissions (app roles, application
// access policies) are not modelled — any token the double issued for Graph
// may call every route; every mailbox of the tenant is open to the app.
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { Directory, type MailboxSpec } from './state.js';
import { makeAppCredential, makeTls } from './tls.js';
import { GRAPH_AUDIENCE, TokenStore, resourceAudiences } from './tokens.js';
import { DEFAULT_LIMITS, OutlookThrottle, type MailboxStats, type OutlookLimits } from './throttle.js';
import { Faults, type FailRule } from './faults.js';
import { handleIdentity, type IdentityConfig } from './identity.js';
import { applyFault, handleGraph, type GraphContext } from './graph.js';
import { handlePlain } from './introspect.js';
import { mailboxApi } from './api.js';
import { startServers } from './servers.js';
import { controlApi } from './control.js';
import { thumbprints } from './assertion.js';

export type { FailRule } from './faults.js';
export type { MailboxStats } from './throttle.js';
export type GraphDoubleMailbox = MailboxSpec;

export interface GraphDoubleOptions {
  /** The tenant's domain name (default 'contoso.onmicrosoft.com'); its id (`tenantId`) is accepted wherever it is. */
  readonly tenant?: string;
  /** Default a fresh GUID. */
  readonly tenantId?: string;
  /** The app's id (default a fixed GUID). */
  readonly clientId?: string;
  /** The app's secret (default generated). Secret and certificate are both always accepted. */
  readonly clientSecret?: string;
  /** The app's registered certificate (public); if absent the double makes a key pair and a self-signed certificate. */
  readonly certificatePem?: string;
  /** Its key, when the test brings the certificate and wants it echoed back in `privateKeyPem`. */
  readonly privateKeyPem?: string;
  /** Default 3600 (tests use a few seconds to force renewal mid-run). */
  readonly tokenLifetimeSeconds?: number;
  readonly mailboxes?: readonly (string | GraphDoubleMailbox)[];
  /** Largest request body (default 4 MiB, Graph's limit for Outlook requests); larger: 413. */
  readonly maxRequestBytes?: number;
  /** A mailbox's largest message (MaxReceiveSize, default 35 MiB, Exchange Online's default); larger decoded MIME: 413 ErrorMessageSizeExceeded. */
  readonly maxMessageBytes?: number;
  /** Outlook limits per app and mailbox (defaults: 4, 10000 per 600000 ms, 150 MiB per 300000 ms). */
  readonly limits?: Partial<OutlookLimits>;
  /** Service time added to every mail request (default 0), for a bench. */
  readonly latencyMs?: number;
}

export interface GraphDoubleMessage {
  readonly id: string;
  readonly internetMessageId: string | undefined;
  readonly isDraft: boolean;
  readonly parentFolderId: string;
  /** The decoded MIME octets as stored. */
  readonly mime: Buffer;
  readonly receivedDateTime: string;
}

export interface GraphDoubleFolder {
  readonly id: string;
  readonly displayName: string;
  readonly parentFolderId: string;
  /** 'Inbox/XIP' (display names from the root; the root itself ''). */
  readonly path: string;
  readonly wellKnownName: string | undefined;
}

export interface GraphDoubleLogEntry {
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly path: string;
  /** 0: no answer was sent (the connection was dropped or lost). */
  readonly status: number;
  /** The mailbox's address (userPrincipalName) when the request named one that exists. */
  readonly mailbox?: string;
  readonly host: 'graph' | 'login' | 'plain';
  /** When it arrived (ms since the epoch). */
  readonly at: number;
}

export interface GraphDouble {
  /** https://127.0.0.1:PORT, the Graph root: requests go to `${url}/v1.0/…` and `${url}/beta/…`. */
  readonly url: string;
  /** https://127.0.0.1:PORT2, the authority host: `${loginUrl}/${tenant}/oauth2/v2.0/token`. */
  readonly loginUrl: string;
  /** http://127.0.0.1:PORT3/introspect — double-only RFC 7662 introspection (introspect.ts). */
  readonly introspectionUrl: string;
  readonly caPem: string;
  /** The CA's file (NODE_EXTRA_CA_CERTS for child processes); removed by stop(). */
  readonly caPath: string;
  readonly tenant: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly certificatePem: string;
  /** undefined when the test brought the certificate without its key. */
  readonly privateKeyPem: string | undefined;
  /** The certificate's SHA-1 and SHA-256 thumbprints, hex (MSAL's `thumbprint` / `thumbprintSha256`). */
  readonly certificateThumbprint: string;
  readonly certificateThumbprintSha256: string;
  /** Messages of a mailbox's folder ('Inbox/XIP'), oldest first, for tests to read back; [] when there is no such folder; throws for an unknown mailbox. */
  messages(mailbox: string, folderPath: string): GraphDoubleMessage[];
  folders(mailbox: string): GraphDoubleFolder[];
  /** Folders made by someone else before the run (created level by level); returns the leaf's id. */
  createFolder(mailbox: string, path: string): string;
  /** A message already there (the folder path is created if missing); returns its id. */
  addMessage(mailbox: string, folderPath: string, mime: Buffer): string;
  addMailbox(mailbox: string | GraphDoubleMailbox): void;
  /** The user leaves the tenant: its mail routes answer ErrorInvalidUser. */
  removeMailbox(address: string): void;
  /** The directory id of a mailbox's user. */
  userId(mailbox: string): string;
  /** A token straight from the store (as if the token endpoint had issued it), for clients that are not under test. */
  issueToken(resource?: string, lifetimeSeconds?: number): string;
  fail(rule: FailRule): void;
  /** Drops the armed faults not yet used; returns how many requests they would still have hit. */
  clearFaults(): number;
  /** Per mailbox (userPrincipalName): requests, 429s, highest in flight, octets uploaded, requests that arrived over a limit. */
  stats(): Map<string, MailboxStats>;
  readonly tokensIssued: number;
  readonly requestLog: readonly GraphDoubleLogEntry[];
  stop(): Promise<void>;
}

const DEFAULT_CLIENT_ID = '6f1b5a1e-3c2d-4e8f-9a0b-1c2d3e4f5a6b';

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`graph double: ${name} must be a positive number, not ${String(v)}`);
  return v;
}

interface Settings {
  readonly limits: OutlookLimits;
  readonly lifetime: number;
  readonly tenant: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly maxRequestBytes: number;
  readonly maxMessageBytes: number;
  readonly latencyMs: number;
}

function settingsOf(o: GraphDoubleOptions): Settings {
  const limits: OutlookLimits = { ...DEFAULT_LIMITS, ...o.limits };
  for (const [k, v] of Object.entries(limits)) positive(`limits.${k}`, v, 1);
  return {
    limits,
    lifetime: positive('tokenLifetimeSeconds', o.tokenLifetimeSeconds, 3600),
    tenant: o.tenant ?? 'contoso.onmicrosoft.com',
    tenantId: o.tenantId ?? randomUUID(),
    clientId: o.clientId ?? DEFAULT_CLIENT_ID,
    clientSecret: o.clientSecret ?? `${randomBytes(3).toString('base64url')}8Q~${randomBytes(27).toString('base64url')}`,
    maxRequestBytes: positive('maxRequestBytes', o.maxRequestBytes, 4 * 1024 * 1024),
    maxMessageBytes: positive('maxMessageBytes', o.maxMessageBytes, 35 * 1024 * 1024),
    latencyMs: o.latencyMs === undefined || o.latencyMs === 0 ? 0 : positive('latencyMs', o.latencyMs, 0),
  };
}

const hex = (base64url: string): string => Buffer.from(base64url, 'base64url').toString('hex').toUpperCase();

export async function startGraphDouble(options: GraphDoubleOptions = {}): Promise<GraphDouble> {
  const s = settingsOf(options);
  const tls = await makeTls();
  const app = options.certificatePem ? { certificatePem: options.certificatePem, privateKeyPem: options.privateKeyPem } : await makeAppCredential(tls.dir);
  const certificate = new X509Certificate(app.certificatePem);
  const directory = new Directory();
  for (const m of options.mailboxes ?? []) directory.add(m);
  const tokens = new TokenStore();
  const throttle = new OutlookThrottle(s.limits);
  const faults = new Faults();
  const log: GraphDoubleLogEntry[] = [];
  const late: { graph?: GraphContext; identity?: IdentityConfig; double?: GraphDouble; issuer: string } = { issuer: '' }; // once the ports are known
  const control = controlApi(() => late.double!);
  const servers = await startServers({ key: tls.serverKeyPem, cert: tls.serverCertPem }, {
    graph: (x) => handleGraph(late.graph!, x),
    login: async (x) => {
      if (!applyFault(x, faults.take(x.req.method ?? '', x.req.url ?? '', undefined))) await handleIdentity(late.identity!, x);
    },
    plain: (x) => handlePlain({ tokens, issuer: late.issuer, control }, x),
  }, ({ host, x, status, at }) => {
    log.push({ method: x.req.method ?? '', path: x.req.url ?? '', status, host, at, ...(x.mailbox !== undefined ? { mailbox: x.mailbox } : {}) });
    if (status === 429 && x.mailbox !== undefined) throttle.noteThrottled(x.mailbox);
  });
  const url = `https://127.0.0.1:${servers.graphPort}`;
  const loginUrl = `https://127.0.0.1:${servers.loginPort}`;
  late.issuer = `${loginUrl}/${s.tenantId}/v2.0`;
  late.graph = { url, loginUrl, directory, tokens, throttle, faults, maxRequestBytes: s.maxRequestBytes, maxMessageBytes: s.maxMessageBytes, latencyMs: s.latencyMs };
  const identity: IdentityConfig = { ...s, certificate, loginUrl, graphUrl: url, tokenLifetimeSeconds: s.lifetime, tokens, resources: resourceAudiences(url) };
  late.identity = identity;
  const prints = thumbprints(certificate);
  let stopped: Promise<void> | undefined;
  late.double = {
    url, loginUrl, introspectionUrl: `http://127.0.0.1:${servers.plainPort}/introspect`, caPem: tls.caPem, caPath: tls.caPath,
    tenant: s.tenant, tenantId: s.tenantId, clientId: s.clientId, clientSecret: s.clientSecret,
    certificatePem: app.certificatePem, privateKeyPem: app.privateKeyPem, certificateThumbprint: hex(prints.sha1), certificateThumbprintSha256: hex(prints.sha256),
    ...mailboxApi(directory),
    issueToken(resource = GRAPH_AUDIENCE, lifetimeSeconds = s.lifetime) {
      const aud = identity.resources.get(resource.toLowerCase());
      if (!aud) throw new Error(`graph double: no resource ${resource}`);
      return tokens.issue(s.clientId, aud, `${resource}/.default`, lifetimeSeconds).token;
    },
    fail(rule) {
      const mailbox = rule.mailbox === undefined ? undefined : (directory.forMail(rule.mailbox)?.address ?? rule.mailbox);
      faults.add({ ...rule, ...(mailbox !== undefined ? { mailbox } : {}) });
    },
    clearFaults() {
      const left = faults.pending;
      faults.clear();
      return left;
    },
    stats() {
      const seen = throttle.stats();
      for (const mb of directory.all) if (mb.mailboxEnabled && !seen.has(mb.address)) seen.set(mb.address, { requests: 0, throttled: 0, maxInFlight: 0, uploadBytes: 0, overLimit: 0 });
      return seen;
    },
    get tokensIssued() {
      return tokens.issued;
    },
    requestLog: log,
    stop: () => (stopped ??= servers.close().then(() => tls.remove())),
  };
  return late.double;
}
