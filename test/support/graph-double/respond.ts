// How a contract double of Microsoft Graph answers: JSON bodies, Graph's error
// body and its request ids, and request bodies read within a limit.
//
// Error body, https://learn.microsoft.com/en-us/graph/errors ("Error resource
// type"): {"error":{"code","message","innerError":{"date","request-id",
// "client-request-id"}}}; the code is what a client branches on, never the
// message. Every Graph response carries `request-id` and `client-request-id`
// headers (the client's own client-request-id echoed when it sent one), as
// the same page's innerError and the throttling page's samples show.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly clientRequestId: string;
  /** The mailbox the request was found to address (for stats and the log). */
  mailbox?: string;
  /** An injected fault: whatever the handler does, its answer is never sent; the connection is destroyed instead. */
  dropAnswer?: boolean;
}

export function exchangeOf(req: IncomingMessage, res: ServerResponse): Exchange {
  const requestId = randomUUID();
  const sent = req.headers['client-request-id'];
  const clientRequestId = typeof sent === 'string' && sent.length > 0 && sent.length <= 200 ? sent : requestId;
  return { req, res, requestId, clientRequestId };
}

/** Graph's JSON content type (OData minimal metadata). */
const GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export function sendJson(x: Exchange, status: number, body: unknown, headers: Record<string, string> = {}, contentType = GRAPH_JSON): void {
  if (x.dropAnswer) {
    x.res.destroy();
    x.req.socket.destroy();
    return;
  }
  const text = JSON.stringify(body);
  if (x.res.headersSent || x.res.destroyed) return;
  x.res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-cache',
    'request-id': x.requestId,
    'client-request-id': x.clientRequestId,
    ...headers,
  });
  x.res.end(text);
}

/** innerError.date as Graph writes it: UTC, whole seconds, no zone letter. */
export function innerDate(ms = Date.now()): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export function errorBody(x: Exchange, code: string, message: string): { error: { code: string; message: string; innerError: Record<string, string> } } {
  return { error: { code, message, innerError: { date: innerDate(), 'request-id': x.requestId, 'client-request-id': x.clientRequestId } } };
}

export function graphError(x: Exchange, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(x, status, errorBody(x, code, message), headers);
}

/**
 * The request body, at most `limit` octets; 'too-large' as soon as it is
 * longer (declared or read). What is over is discarded unread-into-memory so
 * that the connection ends cleanly after the answer (no reset that would eat
 * the answer).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

/** A form-encoded body (the identity platform's token requests, RFC 7662 introspection). */
export async function readForm(req: IncomingMessage, limit = 256 * 1024): Promise<URLSearchParams | 'too-large'> {
  const body = await readBody(req, limit);
  return body === 'too-large' ? body : new URLSearchParams(body.toString('utf8'));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
