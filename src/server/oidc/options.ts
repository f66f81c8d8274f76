// The options of single sign-on with OpenID Connect (xip serve --oidc-*),
// checked once at start-up and frozen, like the server's own (options.ts).
// A mistake is a USAGE error naming the flag, before anything connects.
//
// The client secret is never a flag (any user of the host reads command
// lines in the process list): the wiring takes it from
// XIP_OIDC_CLIENT_SECRET. The redirect URL is required rather than derived
// from the request: behind a proxy the server does not know the address the
// browser used, and a Host header is the client's to choose.
import { z } from 'zod';
import { XipError } from '../../errors.js';
import { ROLES, type Role } from '../../ports/account-store.js';

/** The path the callback is served at; the redirect URL must end with it (a proxy may put the server under a prefix). */
export const CALLBACK_PATH = '/auth/oidc/callback';
export const START_PATH = '/auth/oidc/start';
export const DEFAULT_GROUPS_CLAIM = 'groups';
export const DEFAULT_LABEL = 'single sign-on';

/** Where each option comes from, for the messages. */
export const OIDC_FLAGS: Readonly<Record<string, string>> = Object.freeze({
  issuer: '--oidc-issuer',
  clientId: '--oidc-client-id',
  clientSecret: 'XIP_OIDC_CLIENT_SECRET',
  redirectUrl: '--oidc-redirect-url',
  label: '--oidc-label',
  groupsClaim: '--oidc-groups-claim',
  roleMap: '--oidc-role-map',
});

const isLoopback = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

const httpsUrl = (what: string) =>
  z
    .string()
    .refine((s) => URL.canParse(s), 'must be an absolute URL')
    .refine((s) => !URL.canParse(s) || new URL(s).protocol === 'https:', `must be https:// (${what})`)
    .refine((s) => !URL.canParse(s) || (new URL(s).search === '' && new URL(s).hash === ''), 'must have no query or fragment');

const roleMapEntry = z.strictObject({ group: z.string().min(1).max(256), role: z.enum(ROLES) });

const oidcOptions = z.strictObject({
  /** The issuer identifier; its metadata is read from ISSUER/.well-known/openid-configuration. */
  issuer: httpsUrl('openid-client speaks to identity providers over TLS only'),
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1, 'is empty').max(4096),
  /** The absolute URL of /auth/oidc/callback as the browser reaches it; registered at the provider. */
  redirectUrl: z
    .string()
    .refine((s) => URL.canParse(s), 'must be an absolute URL')
    .refine((s) => {
      if (!URL.canParse(s)) return true;
      const u = new URL(s);
      return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopback(u.hostname));
    }, 'must be https:// (http:// only for localhost or 127.0.0.1, as Microsoft Entra ID allows)')
    .refine((s) => !URL.canParse(s) || new URL(s).pathname.endsWith(CALLBACK_PATH), `must end with ${CALLBACK_PATH}`)
    .refine((s) => !URL.canParse(s) || (new URL(s).search === '' && new URL(s).hash === ''), 'must have no query or fragment'),
  /** What the sign-in page's button says: "Sign in with {label}". */
  label: z.string().min(1).max(64).default(DEFAULT_LABEL),
  /** The ID token claim that lists the account's groups (Entra: `groups`, group object ids). */
  groupsClaim: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be a claim name (letters, digits, "_", ".", ":" or "-")').default(DEFAULT_GROUPS_CLAIM),
  /** Group → role, in order of precedence: the first entry whose group the account is in gives its role. */
  roleMap: z
    .array(roleMapEntry)
    .min(1, 'must give at least one GROUP=ROLE: without it no one could sign in')
    .refine((entries) => new Set(entries.map((e) => e.group)).size === entries.length, 'names a group twice: a group gives one role'),
});

export type OidcOptionsInput = z.input<typeof oidcOptions>;
export type OidcOptions = Readonly<Omit<z.output<typeof oidcOptions>, 'roleMap'>> & { readonly roleMap: readonly Readonly<{ group: string; role: Role }>[] };

export function checkOidcOptions(input: unknown): OidcOptions {
  const parsed = oidcOptions.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      return `${OIDC_FLAGS[key] ?? (key || 'single sign-on')}: ${i.message}`;
    });
    throw new XipError('USAGE', `single sign-on: ${lines.join('; ')}`);
  }
  const o = parsed.data;
  return Object.freeze({ ...o, roleMap: Object.freeze(o.roleMap.map((e) => Object.freeze({ ...e }))) });
}

/**
 * `GROUP=ROLE,GROUP2=ROLE2` as --oidc-role-map takes it; the order is kept
 * (it is the precedence). Entries are checked by checkOidcOptions; here only
 * the form.
 */
export function parseRoleMap(text: string): { group: string; role: string }[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const at = part.lastIndexOf('=');
      if (at <= 0 || at === part.length - 1) throw new XipError('USAGE', `--oidc-role-map: "${part.slice(0, 80)}" is not GROUP=ROLE (roles: ${ROLES.join(', ')})`);
      return { group: part.slice(0, at).trim(), role: part.slice(at + 1).trim() };
    });
}

/** The role of an account in these groups: the first entry of the role map whose group it is in (its order is the precedence); undefined if none. */
export function roleFor(options: Pick<OidcOptions, 'roleMap'>, groups: readonly string[]): { role: Role; group: string } | undefined {
  const member = new Set(groups);
  const entry = options.roleMap.find((e) => member.has(e.group));
  return entry && { role: entry.role, group: entry.group };
}
