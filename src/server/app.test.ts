// The server as a whole: options checked at start-up, the routes every
// deployment watches (/healthz, /metrics, /openapi.json, /docs), security
// headers, and the rule that a route under /api declares who may call it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { XipError } from '../errors.js';
import { checkServerOptions } from './options.js';
import { useAuth } from './plugins/auth.js';
import { startHarness, type Harness } from './test-support/harness.js';

describe('buildServer', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ options: { metricsToken: 'metrics-token-0123456789' } });
  });
  after(async () => h.close());

  it('checks its options once and freezes them; a mistake names the option', () => {
    const options = checkServerOptions({ secureCookies: false });
    assert.equal(options.sessionTtlMs, 8 * 3600_000);
    assert.deepEqual(options.loginRateLimit, { max: 5, windowMs: 15 * 60_000 });
    assert.ok(Object.isFrozen(options) && Object.isFrozen(options.loginRateLimit));
    assert.throws(
      () => checkServerOptions({ secureCookies: 'yes', sessionTtlMs: 5, extra: 1 }),
      (e: unknown) => e instanceof XipError && e.code === 'USAGE' && /secureCookies/.test(e.message) && /sessionTtlMs/.test(e.message) && /extra/.test(e.message),
    );
    assert.throws(() => checkServerOptions({ secureCookies: true, metricsToken: 'short' }), /metricsToken: must be at least 16 characters/);
  });

  it('a route under /api without config.access stops the server at start-up', async () => {
    const app = Fastify();
    useAuth(app, {} as never);
    assert.throws(() => app.get('/forgotten', async () => 'open'), /GET \/forgotten: no config\.access/);
    await app.close();
  });

  it('/metrics asks for its bearer token when one is set, and counts runs, items, failures and durations from the ledger', async () => {
    const admin = await h.account('admin', 'connector-admin');
    assert.equal((await admin.inject('POST', '/api/connectors', h.config('chat'))).statusCode, 201);
    await h.runWith('chat', ['a', 'b']);
    assert.equal((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    assert.equal((await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode, 401);
    const scrape = async () => {
      const r = await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } });
      assert.equal(r.statusCode, 200);
      assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      return r.body;
    };
    let text = await scrape();
    assert.match(text, /^xip_connector_runs_total\{connector="chat",outcome="succeeded"\} 1$/m);
    assert.match(text, /^xip_connector_items_total\{connector="chat",outcome="imported"\} 4$/m);
    assert.match(text, /^xip_connector_run_duration_seconds_count\{connector="chat"\} 1$/m);
    assert.match(text, /^xip_connector_last_success_timestamp_seconds\{connector="chat"\} \d+/m);
    await h.runWith('chat', ['c'], 'stranger');
    text = await scrape();
    text = await scrape(); // a run is counted once, however often it is scraped
    assert.match(text, /^xip_connector_runs_total\{connector="chat",outcome="succeeded"\} 1$/m);
    assert.match(text, /^xip_connector_runs_total\{connector="chat",outcome="completed_with_errors"\} 1$/m);
    assert.match(text, /^xip_connector_failures_total\{connector="chat",code="CERT_UNTRUSTED"\} 1$/m);
    assert.match(text, /^xip_connector_items_total\{connector="chat",outcome="imported"\} 4$/m);
  });

  it('/openapi.json is the OpenAPI 3 document with the session and CSRF schemes; /docs browses it', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { openapi: string; components: { securitySchemes: object; schemas: Record<string, unknown> } };
    assert.equal(doc.openapi, '3.0.3');
    assert.deepEqual(doc.components.securitySchemes, { session: { type: 'apiKey', in: 'cookie', name: 'xip_session' }, csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' } });
    for (const name of ['Error', 'Session', 'ConnectorConfig', 'Connector', 'Run', 'AuditEntry']) assert.ok(doc.components.schemas[name], name);
    const docs = await h.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger-ui/);
  });

  it('sends helmet’s headers with a same-origin CSP', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/healthz' });
    const csp = String(r.headers['content-security-policy']);
    for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'", 'upgrade-insecure-requests']) assert.ok(csp.includes(directive), directive);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(String(r.headers['strict-transport-security']), /max-age=31536000/);
  });

  it('/healthz is 200 {"ok":true} while the database answers, 503 LEDGER_ERROR when it does not', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { ok: true });
    await h.state.close();
    const down = await h.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(down.statusCode, 503);
    assert.deepEqual(Object.keys(down.json() as object), ['code', 'message']);
    assert.equal((down.json() as { code: string }).code, 'LEDGER_ERROR');
  });
});
