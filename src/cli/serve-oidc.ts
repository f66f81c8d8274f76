// xip serve's single sign-on flags (--oidc-*), checked before anything
// starts: a flag without --oidc-issuer, a missing one, a bad role map, an
// http:// issuer are USAGE errors naming the flag; then the provider's
// metadata is read once (SSO_DISCOVERY_FAILED when it cannot be, or names
// another issuer), so that a wrong configuration stops the start rather
// than the first sign-in.
//
// The client secret comes from the environment only (XIP_OIDC_CLIENT_SECRET):
// a flag would show in the process list. A provider whose certificate is
// signed by a private CA is trusted through NODE_EXTRA_CA_CERTS (Node's own
// fetch reads it at start).
import type { Command } from 'commander';
import { XipError } from '../errors.js';
import { checkOidcOptions, DEFAULT_GROUPS_CLAIM, DEFAULT_LABEL, parseRoleMap } from '../server/oidc/options.js';
import { discoverOidc, type OidcProvider } from '../server/oidc/provider.js';

export interface OidcFlags {
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcRedirectUrl?: string;
  oidcLabel?: string;
  oidcGroupsClaim?: string;
  oidcRoleMap?: string;
}

export function addOidcFlags(command: Command): Command {
  return command
    .option('--oidc-issuer <url>', 'single sign-on with OpenID Connect: the issuer (Microsoft Entra ID: https://login.microsoftonline.com/TENANT-ID/v2.0); the client secret in XIP_OIDC_CLIENT_SECRET')
    .option('--oidc-client-id <id>', 'single sign-on: the application (client) id')
    .option('--oidc-redirect-url <url>', 'single sign-on: https://HOST/auth/oidc/callback as browsers reach it, registered at the provider')
    .option('--oidc-label <text>', `single sign-on: the sign-in button says "Sign in with TEXT" (default "${DEFAULT_LABEL}")`)
    .option('--oidc-groups-claim <claim>', `single sign-on: the ID token claim listing the groups (default ${DEFAULT_GROUPS_CLAIM})`)
    .option('--oidc-role-map <map>', 'single sign-on: GROUP=ROLE,GROUP=ROLE… (Entra: group object ids); the first that matches gives the role');
}

const FLAG_NAMES: Readonly<Record<keyof OidcFlags, string>> = {
  oidcIssuer: '--oidc-issuer',
  oidcClientId: '--oidc-client-id',
  oidcRedirectUrl: '--oidc-redirect-url',
  oidcLabel: '--oidc-label',
  oidcGroupsClaim: '--oidc-groups-claim',
  oidcRoleMap: '--oidc-role-map',
};

/** The provider the flags configure, discovered; undefined when single sign-on is off (no --oidc-issuer). */
export async function oidcFromFlags(flags: OidcFlags, env: NodeJS.ProcessEnv): Promise<OidcProvider | undefined> {
  const given = (Object.keys(FLAG_NAMES) as (keyof OidcFlags)[]).filter((k) => flags[k] !== undefined);
  if (flags.oidcIssuer === undefined) {
    if (given.length > 0) throw new XipError('USAGE', `${given.map((k) => FLAG_NAMES[k]).join(', ')}: single sign-on needs --oidc-issuer`);
    return undefined;
  }
  const missing = (['oidcClientId', 'oidcRedirectUrl', 'oidcRoleMap'] as const).filter((k) => flags[k] === undefined || flags[k].trim() === '');
  if (missing.length > 0) throw new XipError('USAGE', `--oidc-issuer needs ${missing.map((k) => FLAG_NAMES[k]).join(', ')}`);
  // An empty XIP_OIDC_CLIENT_SECRET= (a unit file's placeholder) counts as unset.
  const secret = env.XIP_OIDC_CLIENT_SECRET?.trim();
  if (!secret) throw new XipError('USAGE', 'XIP_OIDC_CLIENT_SECRET: --oidc-issuer needs the client secret in this environment variable (never a flag: command lines show in the process list)');
  const options = checkOidcOptions({
    issuer: flags.oidcIssuer,
    clientId: flags.oidcClientId,
    clientSecret: secret,
    redirectUrl: flags.oidcRedirectUrl,
    ...(flags.oidcLabel !== undefined ? { label: flags.oidcLabel } : {}),
    ...(flags.oidcGroupsClaim !== undefined ? { groupsClaim: flags.oidcGroupsClaim } : {}),
    roleMap: parseRoleMap(flags.oidcRoleMap!),
  });
  return discoverOidc(options);
}
