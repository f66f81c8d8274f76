// The three listeners of a contract double of Microsoft Graph, all on
// 127.0.0.1 with ports of their own: the Graph host and the login host over
// HTTPS (the test CA's server certificate), the double-only introspection and
// control API over plain HTTP. Connections are kept alive (a client that
// reuses them, as Graph's SDKs and MSAL do, pays one TLS handshake), nothing
// is written to stdout, and each answered (or dropped) request is reported
// once, when its connection is done with it.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exchangeOf, sendJson, type Exchange } from './respond.js';

export type Host = 'graph' | 'login' | 'plain';

export interface Handled {
  readonly host: Host;
  readonly x: Exchange;
  /** 0 when no answer was sent (dropped or lost connection). */
  readonly status: number;
  readonly at: number;
}

export interface Servers {
  readonly graphPort: number;
  readonly loginPort: number;
  readonly plainPort: number;
  close(): Promise<void>;
}

function listen(server: Server | HttpsServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startServers(
  tls: { readonly key: string; readonly cert: string },
  handlers: Record<Host, (x: Exchange) => Promise<void>>,
  handled: (h: Handled) => void,
): Promise<Servers> {
  const serve = (host: Host) => (req: IncomingMessage, res: ServerResponse) => {
    const x = exchangeOf(req, res);
    const at = Date.now();
    res.once('close', () => handled({ host, x, status: res.headersSent ? res.statusCode : 0, at }));
    handlers[host](x).catch((e: unknown) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      sendJson(x, 500, { error: { code: 'InternalServerError', message: `graph double: ${(e as Error).message}` } });
    });
  };
  const options = { key: tls.key, cert: tls.cert, noDelay: true };
  const all = [createHttpsServer(options, serve('graph')), createHttpsServer(options, serve('login')), createHttpServer({ noDelay: true }, serve('plain'))] as const;
  for (const s of all) {
    s.keepAliveTimeout = 60_000;
    s.headersTimeout = 65_000;
  }
  const [graphPort, loginPort, plainPort] = await Promise.all(all.map(listen));
  return {
    graphPort: graphPort!,
    loginPort: loginPort!,
    plainPort: plainPort!,
    close: async () => {
      await Promise.all(all.map((s: Server | HttpsServer) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })));
    },
  };
}
