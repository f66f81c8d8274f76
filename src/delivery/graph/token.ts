// App-only tokens from the Microsoft identity platform (the OAuth 2.0 client
// credentials grant, https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow),
// through MSAL for Node. The app proves itself with a certificate (preferred:
// MSAL signs a client assertion with the key, "Microsoft identity platform
// application authentication certificate credentials") or a client secret.
//
// Tokens are kept per scope (Graph's and, for the IMAP route, Exchange
// Online's) and renewed before they expire: at a quarter of their lifetime
// before the end, at most five minutes before, so that a run of many hours
// never sends an expired one. `invalidate` drops one that a service refused
// (401) so that the next call asks the identity platform again.
//
// MSAL's own HTTP is replaced by ours (http.ts), so that a private CA given to
// the target is trusted by the token requests too.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { DeliveryError } from '../errors.js';
import type { HttpClient } from './http.js';

export type GraphCredential =
  | { readonly kind: 'certificate'; readonly certificatePem: string; readonly privateKeyPem: string }
  | { readonly kind: 'secret'; readonly secret: string };

export interface TokenSettings {
  readonly tenant: string;
  readonly clientId: string;
  /** The authority host, e.g. https://login.microsoftonline.com (national clouds: login.microsoftonline.us, login.chinacloudapi.cn). */
  readonly loginUrl: string;
  readonly credential: GraphCredential;
  readonly now?: () => number;
}

export interface TokenSource {
  /** A live token for `scope` ("https://graph.microsoft.com/.default"). Throws DeliveryError TARGET_AUTH_FAILED. */
  token(scope: string): Promise<string>;
  /** Forget the token for `scope` (a service answered 401 with it). */
  invalidate(scope: string, token: string): void;
  /** How many tokens were obtained from the identity platform (for logs and tests). */
  readonly obtained: number;
}

const MAX_RENEW_MARGIN_MS = 5 * 60_000;

interface Held {
  readonly token: string;
  readonly renewAt: number;
}

export function createTokenSource(settings: TokenSettings, http: HttpClient): TokenSource {
  return new MsalTokenSource(settings, http);
}

class MsalTokenSource implements TokenSource {
  readonly #app: ConfidentialClientApplication;
  readonly #now: () => number;
  readonly #held = new Map<string, Held>();
  readonly #pending = new Map<string, Promise<string>>();
  readonly #describe: string;
  readonly #network: MsalNetwork;
  obtained = 0;

  constructor(settings: TokenSettings, http: HttpClient) {
    this.#now = settings.now ?? Date.now;
    this.#describe = `app ${settings.clientId} in tenant ${settings.tenant} (${settings.loginUrl})`;
    this.#network = msalNetwork(http);
    this.#app = new ConfidentialClientApplication(msalConfiguration(settings, this.#network));
  }

  token(scope: string): Promise<string> {
    const held = this.#held.get(scope);
    if (held && this.#now() < held.renewAt) return Promise.resolve(held.token);
    let pending = this.#pending.get(scope);
    if (!pending) {
      pending = this.#obtain(scope).finally(() => this.#pending.delete(scope));
      this.#pending.set(scope, pending);
    }
    return pending;
  }

  invalidate(scope: string, token: string): void {
    if (this.#held.get(scope)?.token === token) this.#held.delete(scope);
  }

  async #obtain(scope: string): Promise<string> {
    const asked = this.#now();
    let result;
    try {
      result = await this.#app.acquireTokenByClientCredential({ scopes: [scope], skipCache: true });
    } catch (e) {
      // MSAL reports a transport fault (TLS, refused connection) as its own error code only: the fault itself is added.
      const transport = this.#network.lastFault;
      this.#network.lastFault = undefined;
      throw new DeliveryError('TARGET_AUTH_FAILED', `no token for ${scope} from ${this.#describe}: ${identityError(e)}${transport ? ` (${transport})` : ''}`, { cause: e });
    }
    if (!result?.accessToken) throw new DeliveryError('TARGET_AUTH_FAILED', `the identity platform gave ${this.#describe} no token for ${scope}`);
    const expires = result.expiresOn?.getTime() ?? asked + 60_000;
    const margin = Math.min(MAX_RENEW_MARGIN_MS, Math.max(0, expires - asked) / 4);
    this.#held.set(scope, { token: result.accessToken, renewAt: expires - margin });
    this.obtained++;
    return result.accessToken;
  }
}

function msalConfiguration(settings: TokenSettings, network: MsalNetwork): Configuration {
  const login = new URL(settings.loginUrl);
  const credential =
    settings.credential.kind === 'secret'
      ? { clientSecret: settings.credential.secret }
      : { clientCertificate: certificateCredential(settings.credential.certificatePem, settings.credential.privateKeyPem) };
  return {
    auth: {
      clientId: settings.clientId,
      authority: `${login.origin}/${encodeURIComponent(settings.tenant)}`,
      // The host is trusted as it is: no instance discovery against the public cloud (a national cloud or a double answers for itself).
      knownAuthorities: [login.host],
      ...credential,
    },
    system: { networkClient: network },
  };
}

/** MSAL's certificate credential: the SHA-256 thumbprint, the key, and the chain sent as x5c (subject name + issuer authentication). */
function certificateCredential(certificatePem: string, privateKeyPem: string): { thumbprintSha256: string; privateKey: string; x5c: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch (e) {
    throw new DeliveryError('TARGET_AUTH_FAILED', `the app's certificate (XIP_GRAPH_CERT) is not a PEM certificate: ${(e as Error).message}`, { cause: e });
  }
  if (!cert.checkPrivateKey(privateKeyFrom(privateKeyPem))) throw new DeliveryError('TARGET_AUTH_FAILED', "the app's private key (XIP_GRAPH_KEY) does not belong to its certificate (XIP_GRAPH_CERT)");
  return { thumbprintSha256: cert.fingerprint256.replaceAll(':', ''), privateKey: privateKeyPem, x5c: certificatePem };
}

function privateKeyFrom(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    throw new DeliveryError('TARGET_AUTH_FAILED', `the app's private key (XIP_GRAPH_KEY) cannot be read as PEM: ${(e as Error).message}`, { cause: e });
  }
}

/** What the identity platform said (AADSTS code and text), without anything secret. */
function identityError(e: unknown): string {
  const err = e as { errorCode?: string; errorMessage?: string; message?: string };
  const text = (err.errorMessage ?? err.message ?? String(e)).split('\n')[0]!.replace(/Trace ID:.*$/, '').trim();
  return err.errorCode ? `${err.errorCode}: ${text}` : text;
}

type MsalNetwork = NonNullable<NonNullable<Configuration['system']>['networkClient']> & { lastFault: string | undefined };

/** MSAL's INetworkModule over our HTTPS client; the last transport fault is kept for the error message. */
function msalNetwork(http: HttpClient): MsalNetwork {
  const network: MsalNetwork = {
    lastFault: undefined,
    sendGetRequestAsync: (url, options) => call('GET', url, options),
    sendPostRequestAsync: (url, options) => call('POST', url, options),
  };
  const send = async (req: Parameters<HttpClient['send']>[0]) => {
    try {
      return await http.send(req);
    } catch (e) {
      network.lastFault = (e as Error).message;
      throw e;
    }
  };
  const call = async <T>(method: 'GET' | 'POST', url: string, options?: { headers?: Record<string, string>; body?: string }) => {
    const res = await send({ method, url, ...(options?.headers ? { headers: options.headers } : {}), ...(options?.body !== undefined ? { body: options.body } : {}) });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      body = {};
    }
    return { headers, body: body as T, status: res.status };
  };
  return network;
}
