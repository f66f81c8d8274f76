// What the wiring of `xip serve` needs from the HTTP server.
export { buildServer, type ServerTransport } from './app.js';
export { ensureSetupToken } from './setup-token.js';
export type { PasswordHasher, RunNow, ServerDeps } from './deps.js';
export { checkServerOptions, DEFAULT_LOGIN_RATE_LIMIT, DEFAULT_SESSION_TTL_MS, type ServerOptions, type ServerOptionsInput } from './options.js';
export { SESSION_COOKIE } from './plugins/auth.js';
export { CSRF_HEADER } from './plugins/csrf.js';
export { HTTP_STATUS } from './errors.js';
