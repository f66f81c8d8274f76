// From a checked `graph://TENANT` (settings.ts) to the target and, for
// `--directory graph://TENANT`, the directory. The IMAP route for large
// messages is the IMAP target logging in to each mailbox with the same app's
// token for Exchange Online (XOAUTH2); it is loaded only when configured.
import type { Directory } from '../../mapping/directory.js';
import type { MailboxTarget } from '../../ports/mailbox-target.js';
import { GraphApi } from './api.js';
import { readGraphDirectory } from './directory.js';
import { HttpClient } from './http.js';
import { createGraphTarget, type GraphTargetOptions } from './index.js';
import { DEFAULT_RETRY } from './retry.js';
import type { GraphApp, GraphSpec } from './settings.js';
import { Gates, OUTLOOK_LIMITS } from './throttle.js';
import { createTokenSource, type TokenSource } from './token.js';

/** What `--to`/`--directory` do not say: a private CA (tests; NODE_EXTRA_CA_CERTS otherwise), limits for a bench. */
export interface GraphExtras {
  readonly ca?: string | Buffer;
  readonly target?: Partial<Omit<GraphTargetOptions, 'tenant' | 'clientId' | 'credential' | 'graphUrl' | 'loginUrl' | 'large'>>;
}

export async function graphTarget(spec: GraphSpec, extras: GraphExtras = {}): Promise<MailboxTarget> {
  const imap = spec.imapUrl === undefined ? undefined : await import('../imap/index.js');
  const http = { ...extras.target?.http, ...(extras.ca ? { ca: extras.ca } : {}) };
  return createGraphTarget({
    ...extras.target,
    limits: { ...spec.limits, ...extras.target?.limits },
    tenant: spec.tenant,
    clientId: spec.clientId,
    credential: spec.credential,
    graphUrl: spec.graphUrl,
    loginUrl: spec.loginUrl,
    http,
    ...(imap && spec.imapUrl
      ? {
          large: (tokens) =>
            imap.createImapTarget({
              url: spec.imapUrl!,
              auth: 'oauth2-app',
              accessToken: () => tokens.token(spec.imapScope),
              ...(extras.ca ? { tls: { ca: extras.ca } } : {}),
            }),
        }
      : {}),
  });
}

/**
 * A token source for the app alone (the IMAP target with auth=oauth2-app).
 * Its HTTPS agent lives as long as the process: it holds no socket between
 * token requests once they end (keep-alive sockets close when idle).
 */
export function appTokens(app: GraphApp, extras: { ca?: string | Buffer } = {}): TokenSource {
  return createTokenSource(app, new HttpClient(extras.ca ? { ca: extras.ca } : {}));
}

/** The users of the tenant as the directory (directory.ts); DIRECTORY_UNAVAILABLE when Graph cannot be asked. */
export async function graphDirectory(spec: GraphSpec, extras: { ca?: string | Buffer } = {}): Promise<Directory> {
  const http = new HttpClient(extras.ca ? { ca: extras.ca } : {});
  try {
    const tokens = createTokenSource({ tenant: spec.tenant, clientId: spec.clientId, loginUrl: spec.loginUrl, credential: spec.credential }, http);
    const api = new GraphApi({ graphUrl: spec.graphUrl, http, tokens, gates: new Gates(OUTLOOK_LIMITS) });
    return await readGraphDirectory(api, DEFAULT_RETRY, spec.tenant);
  } finally {
    http.close();
  }
}
