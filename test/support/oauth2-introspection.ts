// A stand-in for an OAuth 2.0 authorization server's token introspection
// endpoint (RFC 7662), for tests only: a fake, named so. Plain HTTP on
// 127.0.0.1. It issues opaque tokens for one application (the client
// credentials grant's result: the token names the app, not a user), and
// answers each introspection the way RFC 7662 §2.2 says:
//
//   live token:  {"active":true,"client_id":…,"scope":…,"token_type":"Bearer","iat":…,"exp":…}
//   otherwise:   {"active":false}   (unknown, revoked or past its lifetime)
//
// The request is RFC 7662 §2.1's: POST, application/x-www-form-urlencoded,
// `token=…` (Dovecot's `introspection_mode = post` also sends empty
// client_id and client_secret, which are ignored here). Every answer is kept,
// so that a test can tell that a token really was refused.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IssueOptions {
  /** How long the token is live, from now (default one hour, as Microsoft's access tokens). */
  readonly lifetimeMs?: number;
  /** The token's scope, space-separated (default DEFAULT_SCOPE). */
  readonly scope?: string;
}

export interface IntrospectionAnswer {
  readonly token: string;
  readonly active: boolean;
}

export interface OAuth2IntrospectionStandIn {
  /** http://127.0.0.1:PORT/introspect */
  readonly url: string;
  /** The application every token is issued to (the answer's client_id). */
  readonly clientId: string;
  /** A new live token. */
  issue(options?: IssueOptions): string;
  /** The token is answered inactive from now on. */
  revoke(token: string): void;
  /** Introspection requests answered so far. */
  readonly calls: number;
  /** Every answer so far, in order. */
  readonly answers: readonly IntrospectionAnswer[];
  /** Whether `token` was answered inactive at least once. */
  refused(token: string): boolean;
  close(): Promise<void>;
}

/** The role Exchange Online grants an app for IMAP (IMAP.AccessAsApp), as this stand-in's default scope. */
export const DEFAULT_SCOPE = 'IMAP.AccessAsApp';

interface Issued {
  readonly scope: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  revoked: boolean;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startOAuth2Introspection(options: { clientId?: string } = {}): Promise<OAuth2IntrospectionStandIn> {
  const clientId = options.clientId ?? `xip-test-app-${randomBytes(4).toString('hex')}`;
  const tokens = new Map<string, Issued>();
  const answers: IntrospectionAnswer[] = [];

  const answer = (token: string): Record<string, unknown> => {
    const t = tokens.get(token);
    const active = t !== undefined && !t.revoked && Date.now() < t.expiresAt;
    answers.push({ token, active });
    if (!t || !active) return { active: false };
    const seconds = (ms: number): number => Math.floor(ms / 1000);
    return { active: true, client_id: clientId, scope: t.scope, token_type: 'Bearer', iat: seconds(t.issuedAt), exp: seconds(t.expiresAt) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/introspect') return send(404, { error: 'not_found' });
    const token = new URLSearchParams(await readBody(req)).get('token');
    if (!token) return send(400, { error: 'invalid_request' });
    send(200, answer(token));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/introspect`,
    clientId,
    issue(o = {}) {
      const token = `xip-test-token-${randomBytes(24).toString('base64url')}`;
      const now = Date.now();
      tokens.set(token, { scope: o.scope ?? DEFAULT_SCOPE, issuedAt: now, expiresAt: now + (o.lifetimeMs ?? 3_600_000), revoked: false });
      return token;
    },
    revoke(token) {
      const t = tokens.get(token);
      if (t) t.revoked = true;
    },
    get calls() {
      return answers.length;
    },
    answers,
    refused: (token) => answers.some((a) => a.token === token && !a.active),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // Dovecot's HTTP client keeps its connection open
      }),
  };
}
