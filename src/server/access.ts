// Who may call a route, declared in the route's own config (`config.access`)
// so that the guard (plugins/auth.ts), the OpenAPI document (x-xip-access,
// plugins/openapi.ts) and the API test read the same declaration. A route
// under /api without one is refused at start-up: a route cannot forget auth.
import { ROLES, type Role } from '../ports/account-store.js';

export type Access =
  /** Anyone, signed in or not (sign-in, first account, health, metrics, the OpenAPI document). */
  | { readonly public: true }
  /** A live session whose account has one of these roles. */
  | { readonly roles: readonly Role[] };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

export const PUBLIC: Access = Object.freeze({ public: true });
/** Any signed-in account: its own session. */
export const SIGNED_IN: Access = Object.freeze({ roles: Object.freeze([...ROLES]) });
/** Reading connectors, runs and logs: every role. */
export const READ: Access = Object.freeze({ roles: Object.freeze(['connector-admin', 'viewer', 'auditor'] as const) });
/** Creating, editing, running, pausing, resuming and removing connectors. */
export const ADMIN: Access = Object.freeze({ roles: Object.freeze(['connector-admin'] as const) });
/** The audit trail (and, later, evidence). */
export const AUDIT: Access = Object.freeze({ roles: Object.freeze(['auditor'] as const) });

export function isPublic(access: Access): access is { readonly public: true } {
  return 'public' in access && access.public;
}

export function allows(access: Access, role: Role): boolean {
  return isPublic(access) || access.roles.includes(role);
}

/** Methods that change state: they need the session's CSRF token (plugins/csrf.ts), unless the route is public. */
export function changesState(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}
