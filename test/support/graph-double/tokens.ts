// The access tokens a contract double of the Microsoft identity platform has
// issued. They are opaque random strings (clients must not read tokens meant
// for an API, https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens
// "Your client must not try to validate or read an access token"); the
// double remembers each one's audience (the resource of the `.default`
// scope it was asked for) and its end of life.
import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  readonly token: string;
  readonly clientId: string;
  /** The resource: https://graph.microsoft.com or https://outlook.office365.com. */
  readonly aud: string;
  /** The scope as asked for (`<resource>/.default`). */
  readonly scope: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
export const OUTLOOK_AUDIENCE = 'https://outlook.office365.com';

/** Resources a `.default` scope may name, lowercased, and the audience each token gets. */
export function resourceAudiences(graphUrl: string): Map<string, string> {
  const local = new URL(graphUrl);
  return new Map([
    [GRAPH_AUDIENCE, GRAPH_AUDIENCE],
    ['00000003-0000-0000-c000-000000000000', GRAPH_AUDIENCE],
    [local.origin, GRAPH_AUDIENCE],
    [`https://localhost:${local.port}`, GRAPH_AUDIENCE],
    [OUTLOOK_AUDIENCE, OUTLOOK_AUDIENCE],
    ['https://outlook.office.com', OUTLOOK_AUDIENCE],
    ['00000002-0000-0ff1-ce00-000000000000', OUTLOOK_AUDIENCE],
  ]);
}

export class TokenStore {
  readonly #tokens = new Map<string, IssuedToken>();
  issued = 0;

  issue(clientId: string, aud: string, scope: string, lifetimeSeconds: number, now = Date.now()): IssuedToken {
    const token = `xipdbl.${randomBytes(36).toString('base64url')}`;
    const t: IssuedToken = { token, clientId, aud, scope, issuedAt: now, expiresAt: now + lifetimeSeconds * 1000 };
    this.#tokens.set(token, t);
    this.issued++;
    return t;
  }

  find(token: string): IssuedToken | undefined {
    return this.#tokens.get(token);
  }
}
