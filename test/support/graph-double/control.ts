// A double-only control API on the plain-HTTP port, for a contract double of
// Microsoft Graph started in a child process (main.ts), where the test or
// bench cannot call its methods:
//
//   GET  /_double/stats   {"<mailbox>": {requests, throttled, maxInFlight, uploadBytes, overLimit}, …}
//   GET  /_double/log     {"requests": n, "byStatus": {"201": n, …}, "tokensIssued": n}
//   POST /_double/fail    a FailRule as JSON, `path` as a regular expression's source text
//   GET  /_double/messages?mailbox=…&folder=Inbox/XIP
//                         [{"id","internetMessageId","size","sha256"}] oldest first
import { createHash } from 'node:crypto';
import { readBody, sendJson, type Exchange } from './respond.js';
import type { FailRule } from './faults.js';
import type { GraphDouble } from './index.js';

const PLAIN_JSON = 'application/json; charset=utf-8';

function ruleFrom(v: unknown): FailRule {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError('a JSON object');
  const o = v as Record<string, unknown> & { path?: unknown };
  const { path, ...rest } = o;
  if (path !== undefined && typeof path !== 'string') throw new TypeError('path: the source text of a regular expression');
  return { ...(rest as FailRule), ...(typeof path === 'string' ? { path: new RegExp(path) } : {}) };
}

export function controlApi(double: () => GraphDouble): (x: Exchange, url: URL) => Promise<boolean> {
  return async (x, url) => {
    const d = double();
    const route = `${x.req.method} ${url.pathname}`;
    if (route === 'GET /_double/stats') {
      sendJson(x, 200, Object.fromEntries(d.stats()), {}, PLAIN_JSON);
      return true;
    }
    if (route === 'GET /_double/log') {
      const byStatus: Record<string, number> = {};
      for (const e of d.requestLog) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
      sendJson(x, 200, { requests: d.requestLog.length, byStatus, tokensIssued: d.tokensIssued }, {}, PLAIN_JSON);
      return true;
    }
    if (route === 'GET /_double/messages') {
      try {
        const list = d.messages(url.searchParams.get('mailbox') ?? '', url.searchParams.get('folder') ?? '');
        sendJson(x, 200, list.map((m) => ({ id: m.id, internetMessageId: m.internetMessageId ?? null, size: m.mime.length, sha256: createHash('sha256').update(m.mime).digest('hex') })), {}, PLAIN_JSON);
      } catch (e) {
        sendJson(x, 404, { error: (e as Error).message }, {}, PLAIN_JSON);
      }
      return true;
    }
    if (route === 'POST /_double/fail') {
      const body = await readBody(x.req, 64 * 1024);
      try {
        if (body === 'too-large') throw new TypeError('too large');
        d.fail(ruleFrom(JSON.parse(body.toString('utf8'))));
        sendJson(x, 200, { armed: true }, {}, PLAIN_JSON);
      } catch (e) {
        sendJson(x, 400, { error: (e as Error).message }, {}, PLAIN_JSON);
      }
      return true;
    }
    return false;
  };
}
