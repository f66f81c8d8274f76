// A fetch over node:https that trusts one CA and never follows redirects:
// what openid-client is given (its customFetch) to reach the double, whose
// certificate the test CA signed, and what a test uses as its browser
// against the double. Node 20's own fetch takes no CA per call (its undici
// Agent is not public without the undici package), so a few lines of
// node:https are the plain way; a real deployment uses Node's fetch, with
// NODE_EXTRA_CA_CERTS for a private CA.
import { request } from 'node:https';

export type Fetch = (url: string, init?: { method?: string; headers?: Record<string, string> | Headers; body?: unknown; signal?: AbortSignal | null }) => Promise<Response>;

function bodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  throw new TypeError(`https-fetch: a body of type ${Object.prototype.toString.call(body)} is not supported`);
}

export function fetchTrusting(caPem: string): Fetch {
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init.headers ?? {}).forEach((value, name) => (headers[name] = value));
      const body = bodyBytes(init.body);
      if (body && init.body instanceof URLSearchParams && !headers['content-type']) headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
      if (body) headers['content-length'] = String(body.length);
      const req = request(url, { method: init.method ?? 'GET', headers, ca: caPem, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
          }
          const status = res.statusCode ?? 0;
          const bytes = Buffer.concat(chunks);
          resolve(new Response([101, 204, 205, 304].includes(status) ? null : new Uint8Array(bytes), { status, headers: out }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
}
