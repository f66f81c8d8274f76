// The server's options, checked once at start-up and frozen (style.md:
// Fastify's options checked against a schema). A mistake is a USAGE error
// naming the option, before anything is built.
import { z } from 'zod';
import { XipError } from '../errors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_SESSION_TTL_MS = 8 * HOUR;
export const DEFAULT_LOGIN_RATE_LIMIT = Object.freeze({ max: 5, windowMs: 15 * MINUTE });
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

const serverOptions = z.strictObject({
  /**
   * false: a worker without the web console (xip serve --no-console): only /healthz and /metrics, for the
   * load balancer and Prometheus; the console's pages, /api, /auth, /docs and /openapi.json are not registered.
   */
  console: z.boolean().default(true),
  /** Sets Secure on the session cookie, HSTS and upgrade-insecure-requests: true whenever the console is reached over TLS (directly or through a proxy). */
  secureCookies: z.boolean(),
  /** How long a session lasts from sign-in (absolute, not sliding). */
  sessionTtlMs: z.number().int().min(MINUTE).max(30 * 24 * HOUR).default(DEFAULT_SESSION_TTL_MS),
  /** Failed sign-ins allowed per account name and, separately, per address within the window. */
  loginRateLimit: z
    .strictObject({ max: z.number().int().min(1).max(1000), windowMs: z.number().int().min(1000).max(24 * HOUR) })
    .default({ ...DEFAULT_LOGIN_RATE_LIMIT }),
  /** When set, /metrics asks for "Authorization: Bearer <metricsToken>"; unset, it is public. */
  metricsToken: z.string().min(16, 'must be at least 16 characters (openssl rand -hex 16 makes one)').optional(),
  /** Fastify's trustProxy: whom to believe about the client's address (X-Forwarded-For), for rate limits and the audit trail. */
  trustProxy: z.union([z.boolean(), z.string(), z.array(z.string())]).default(false),
  /** The largest request body, in bytes (a configuration carries its directory and certificates). */
  bodyLimit: z.number().int().min(1024).max(64 * 1024 * 1024).default(DEFAULT_BODY_LIMIT),
});

export type ServerOptionsInput = z.input<typeof serverOptions>;
export type ServerOptions = Readonly<z.output<typeof serverOptions>>;

export function checkServerOptions(input: unknown): ServerOptions {
  const parsed = serverOptions.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'options'}: ${i.message}`);
    throw new XipError('USAGE', `server options: ${lines.join('; ')}`);
  }
  const o = parsed.data;
  return Object.freeze({ ...o, loginRateLimit: Object.freeze({ ...o.loginRateLimit }), trustProxy: Array.isArray(o.trustProxy) ? Object.freeze([...o.trustProxy]) as string[] : o.trustProxy });
}
