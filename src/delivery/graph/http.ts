// HTTPS to Microsoft Graph and the identity platform: one keep-alive agent,
// TLS always verified (the system's roots, plus NODE_EXTRA_CA_CERTS, plus a
// `ca` given by the caller for a private CA), a timeout per request, and an
// answer to the one question exactly-once needs when a request fails: could
// the server have acted on it?
//
//   'not-sent'  the connection failed before the request's last byte left:
//               the server cannot have acted on it (safe to send again);
//   'sent'      the request went out and no whole answer came back (reset,
//               timeout): the server may have acted on it (look it up first).
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { rootCertificates } from 'node:tls';

export interface HttpSettings {
  /** Extra trusted roots (PEM), added to Node's own. */
  readonly ca?: string | Buffer | undefined;
  /** Longest wait for a whole answer (default 120 s). */
  readonly timeoutMs?: number;
  /** Sockets per host (default 1,024: four per mailbox for the 256 mailboxes in flight, so that none waits in the agent after its gate let it go). */
  readonly maxSockets?: number;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  /** Called when the request's last byte has been written to the connection. */
  readonly onSent?: () => void;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A request that got no whole answer; `phase` says whether the server may have acted on it. */
export class HttpFault extends Error {
  constructor(
    readonly phase: 'not-sent' | 'sent',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpFault';
  }
}

/** Longest answer read into memory (a listing page or an error); Graph's pages are far smaller. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export class HttpClient {
  readonly #agent: Agent;
  readonly #ca: string | Buffer | undefined;
  readonly #timeoutMs: number;

  constructor(settings: HttpSettings = {}) {
    this.#ca = settings.ca;
    this.#timeoutMs = settings.timeoutMs ?? 120_000;
    this.#agent = new Agent({ keepAlive: true, maxSockets: settings.maxSockets ?? 1024, ...(settings.ca ? { ca: withSystemRoots(settings.ca) } : {}) });
  }

  send(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    if (url.protocol !== 'https:') return Promise.reject(new HttpFault('not-sent', `${url.origin}: only https is used, so that the service's certificate is checked`));
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
    const options: RequestOptions = {
      method: req.method,
      agent: this.#agent,
      headers: { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      rejectUnauthorized: true,
    };
    return new Promise((resolve, reject) => {
      let sent = false;
      const fail = (e: Error): void => reject(e instanceof HttpFault ? e : new HttpFault(sent ? 'sent' : 'not-sent', `${req.method} ${url.origin}${url.pathname}: ${e.message}`, { cause: e }));
      const r = httpsRequest(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`the answer is over ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('the answer was cut off')));
      });
      r.setTimeout(this.#timeoutMs, () => r.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      r.on('error', fail);
      r.end(body, () => {
        sent = true;
        req.onSent?.();
      });
    });
  }

  /** The CA given, for the MSAL network module and anything else that opens its own connections. */
  get ca(): string | Buffer | undefined {
    return this.#ca;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * `ca` replaces Node's roots in an Agent: keep the bundled ones and add the
 * private CA (NODE_EXTRA_CA_CERTS applies only when no `ca` is given).
 */
function withSystemRoots(ca: string | Buffer): (string | Buffer)[] {
  return [...rootCertificates, ca];
}

/** The JSON of an answer, or undefined when it is not JSON. */
export function jsonOf(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Retry-After in milliseconds (seconds or an HTTP date, RFC 9110 §10.2.3), or undefined. */
export function retryAfterMs(res: HttpResponse, now = Date.now()): number | undefined {
  const v = res.headers['retry-after'];
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
