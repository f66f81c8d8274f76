// The HTTP server of `xip serve` (issue 11): the JSON API the console and
// scripts use, /healthz, /metrics, the OpenAPI document and its browser.
// buildServer only builds: nothing listens (the wiring calls listen) and
// nothing is opened here (the stores come in `deps`).
//
//   /healthz /metrics /openapi.json /docs      public (routes/health.ts, plugins/metrics.ts, plugins/openapi.ts)
//   /assets/…, the console's pages             public, when deps.consoleDir (plugins/console.ts)
//   /api/…                                     a session and a role, CSRF on changes (plugins/auth.ts, plugins/csrf.ts)
//     session, setup                           routes/session.ts, routes/setup.ts
//     connectors, runs, audit                  routes/connectors.ts, routes/runs.ts, routes/audit.ts
//     the add-connector wizard's checks        routes/wizard.ts
//     single sign-on offered? (GET /api/sso)   oidc/routes.ts
//   /auth/oidc/start, /auth/oidc/callback      single sign-on, browser redirects, when deps.oidc (oidc/routes.ts)
//     the evidence store, for auditors         routes/evidence.ts
//     the workers (every xip serve)            routes/workers.ts
//
// With the option console: false (xip serve --no-console) only /healthz and
// /metrics are registered: a worker that runs connectors behind a load
// balancer. The rest is not registered at all, rather than registered and
// refused: what a worker does not serve it cannot get wrong (no session
// lookups, no sign-in to rate-limit, no OpenAPI document of routes it does
// not have); a request for it gets the root 404 {"code":"NOT_FOUND"},
// rate-limited like any probe.
//
// Third-party plugins first (helmet, cookies, rate limit, swagger), then
// ours; errors in one handler (plugins/errors.ts).
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { XipError } from '../errors.js';
import { DEFAULT_HEARTBEAT_SECONDS } from '../home/heartbeat.js';
import type { Deps, ServerDeps } from './deps.js';
import { LoginLimiter } from './login-limiter.js';
import { checkServerOptions, type ServerOptions, type ServerOptionsInput } from './options.js';
import { useAuth } from './plugins/auth.js';
import { useConsole } from './plugins/console.js';
import { useCsrf } from './plugins/csrf.js';
import { useErrors, useNotFound } from './plugins/errors.js';
import { oidcRoutes, ssoInfoRoutes } from './oidc/routes.js';
import { metricsRoutes } from './plugins/metrics.js';
import { useOpenapi } from './plugins/openapi.js';
import { auditRoutes } from './routes/audit.js';
import { connectorRoutes } from './routes/connectors.js';
import { evidenceRoutes } from './routes/evidence.js';
import { healthRoutes } from './routes/health.js';
import { runRoutes } from './routes/runs.js';
import { sessionRoutes } from './routes/session.js';
import { setupRoutes } from './routes/setup.js';
import { wizardRoutes } from './routes/wizard.js';
import { workerRoutes } from './routes/workers.js';
import { RunTally } from './run-tally.js';

/** How the server is reached: HTTPS with this certificate and key (PEM), or plain HTTP (on loopback, or behind a proxy that ends TLS). */
export interface ServerTransport {
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
}

export async function buildServer(deps: ServerDeps, input: ServerOptionsInput, transport: ServerTransport = {}): Promise<FastifyInstance> {
  const options = checkServerOptions(input);
  const d: Deps = Object.freeze({
    connectors: deps.connectors,
    ledger: deps.ledger,
    accounts: deps.accounts,
    box: deps.box,
    home: deps.home,
    evidence: deps.evidence,
    passwords: deps.passwords,
    runNow: deps.runNow,
    workers: deps.workers,
    heartbeatMs: deps.heartbeatMs ?? DEFAULT_HEARTBEAT_SECONDS * 1000,
    oidc: deps.oidc,
    now: deps.now ?? (() => new Date()),
  });
  const app = Fastify({
    ...(transport.https ? { https: { cert: transport.https.cert, key: transport.https.key } } : {}),
    // pino's Logger is Fastify's logger with more: seen as the base type, the instance keeps Fastify's default generics.
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    trustProxy: options.trustProxy,
    bodyLimit: options.bodyLimit,
    // GET routes only: a HEAD route would be another entry to guard and document.
    exposeHeadRoutes: false,
    // A client-chosen request id would end up in the logs as if ours.
    requestIdHeader: false,
  }) as unknown as FastifyInstance; // the HTTPS server's instance serves the same routes
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(fastifyHelmet, { contentSecurityPolicy: { useDefaults: false, directives: cspFor(options) }, hsts: options.secureCookies ? { maxAge: 31_536_000 } : false });
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new XipError('RATE_LIMITED', `retry in ${context.after}`),
  });
  if (options.console) await useOpenapi(app, { secure: options.secureCookies });
  // The console's pages and files are what the 404 handler offers outside /api (plugins/console.ts).
  useErrors(app, options.console && deps.consoleDir !== undefined ? useConsole(app, { dir: deps.consoleDir }) : undefined);

  const tally = new RunTally({ connectors: d.connectors, ledger: d.ledger });
  await app.register(healthRoutes, { deps: d });
  await app.register(metricsRoutes, { tally, token: options.metricsToken });
  if (options.console) {
    await app.register(api, { prefix: '/api', deps: d, options, tally });
    if (d.oidc) await app.register(oidcRoutes, { prefix: '/auth/oidc', deps: d, options, provider: d.oidc });
  }
  await app.ready();
  return app;
}

interface ApiOptions {
  readonly deps: Deps;
  readonly options: ServerOptions;
  readonly tally: RunTally;
}

/** Everything under /api: the hooks of auth and CSRF apply to this scope, so to every route below. */
const api: FastifyPluginAsyncZod<ApiOptions> = async (app, { deps, options, tally }) => {
  // JSON bodies only: a cross-site HTML form can send text/plain, urlencoded or multipart, never JSON without a CORS preflight.
  app.removeContentTypeParser('text/plain');
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  useAuth(app as unknown as FastifyInstance, deps);
  await useCsrf(app as unknown as FastifyInstance);
  // Unknown URLs under /api pass the hooks above first: without a session, 401, so the API cannot be mapped by probing.
  useNotFound(app as unknown as FastifyInstance);

  const limiter = new LoginLimiter(options.loginRateLimit);
  await app.register(sessionRoutes, { deps, options, limiter });
  await app.register(ssoInfoRoutes, { deps });
  await app.register(setupRoutes, { deps });
  await app.register(connectorRoutes, { deps, tally });
  await app.register(runRoutes, { deps });
  await app.register(auditRoutes, { deps });
  await app.register(wizardRoutes, { deps });
  await app.register(evidenceRoutes, { deps });
  await app.register(workerRoutes, { deps });
};

/** Same-origin only: the console's scripts, styles and API calls all come from this server; nothing may frame it. */
function cspFor(options: ServerOptions): Record<string, string[]> {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    ...(options.secureCookies ? { upgradeInsecureRequests: [] } : {}),
  };
}
