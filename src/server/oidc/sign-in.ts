// Which account a checked ID token signs in as, and with which role.
//
// - The account is found by its identity: the token's issuer and subject
//   (iss, sub), never by a name or an email, which the provider lets change
//   and reuses (an address given to someone new, a renamed user), and which
//   some providers let users set themselves: matching on them would hand an
//   existing account, its role and its history in the audit trail to whoever
//   holds the address next.
// - Its role comes from the groups claim at every sign-in, through the role
//   map; an account in no mapped group is refused (SSO_NO_ROLE) and none is
//   made. Several mapped groups: the first entry of --oidc-role-map that
//   matches wins. The roles are not nested (a connector-admin cannot read the
//   audit trail, an auditor cannot change a connector), so no order is right
//   for every installation; the map's own order makes the choice explicit
//   and the administrator's.
// - A token whose groups did not fit (Entra's "groups overage": no `groups`,
//   a `_claim_names.groups` pointing at Microsoft Graph instead) is refused
//   (SSO_GROUPS_OVERAGE) rather than followed: fetching the list would need
//   an access token for Graph with GroupMember.Read.All and a call out at
//   every sign-in, and a partial list must never pick a role.
// - A new identity gets an account named by preferred_username (else email),
//   lower-cased, without a password. A name that an account has already
//   (local, or another identity's) is refused with ACCOUNT_EXISTS, never
//   merged: the existing account may be someone else's.
import { XipError, type ErrorCode } from '../../errors.js';
import type { Account, Role, SsoIdentity } from '../../ports/account-store.js';
import type { Deps } from '../deps.js';
import { ACCOUNT_NAME } from '../schemas.js';
import { roleFor, type OidcOptions } from './options.js';
import type { IdClaims } from './provider.js';

/** Who signs in: the account, its role now, and what changed to get there (for the audit trail). */
export interface SsoSignIn {
  readonly account: Account;
  readonly role: Role;
  readonly group: string;
  readonly created: boolean;
  /** The role it had before this sign-in, when the groups changed it. */
  readonly previousRole?: Role;
}

/** A sign-in refused: its code (the browser is sent to /login?error=CODE), and why, for the audit trail. */
export class SsoRefusal extends XipError {
  readonly reason: string;
  readonly target: string | null;
  readonly facts: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, reason: string, target: string | null, facts: Record<string, unknown> = {}, detail?: string) {
    super(code, detail);
    this.reason = reason;
    this.target = target;
    this.facts = facts;
  }
}

/** At most this many group ids go into an audit entry: enough to see why, not a whole directory. */
const GROUPS_AUDITED = 20;

export function groupsOf(claims: IdClaims, claim: string): { groups: string[]; overage: boolean } {
  const value = claims[claim];
  const names = claims._claim_names;
  const overage = value === undefined && typeof names === 'object' && names !== null && Object.hasOwn(names, claim);
  const groups = Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string') : [];
  return { groups, overage };
}

/** The account's name for a new identity: preferred_username, else email, lower-cased, if it is a valid account name. */
export function nameOf(claims: IdClaims): string | undefined {
  for (const key of ['preferred_username', 'email']) {
    const value = claims[key];
    if (typeof value === 'string' && ACCOUNT_NAME.test(value)) return value.toLowerCase();
  }
  return undefined;
}

export async function ssoSignIn(deps: Deps, options: OidcOptions, claims: IdClaims): Promise<SsoSignIn> {
  const identity: SsoIdentity = { issuer: claims.iss, subject: claims.sub };
  const who = { issuer: identity.issuer, subject: identity.subject };
  const existing = await deps.accounts.getAccountByIdentity(identity);
  const target = existing?.name ?? nameOf(claims) ?? null;

  const { groups, overage } = groupsOf(claims, options.groupsClaim);
  if (overage) throw new SsoRefusal('SSO_GROUPS_OVERAGE', 'groups-overage', target, who);
  const mapped = roleFor(options, groups);
  if (!mapped) throw new SsoRefusal('SSO_NO_ROLE', 'no-role', target, { ...who, groups: groups.slice(0, GROUPS_AUDITED), groupCount: groups.length });

  if (existing) {
    if (existing.disabled) throw new SsoRefusal('SSO_ACCOUNT_DISABLED', 'disabled', existing.name, who);
    if (existing.role === mapped.role) return { account: existing, role: mapped.role, group: mapped.group, created: false };
    await deps.accounts.setRole(existing.name, mapped.role);
    return { account: { ...existing, role: mapped.role }, role: mapped.role, group: mapped.group, created: false, previousRole: existing.role };
  }

  const name = nameOf(claims);
  if (!name) throw new SsoRefusal('SSO_NAME_INVALID', 'name-invalid', null, who);
  // Names compare without case here: "Ana@corp.example" made by xip user add and "ana@corp.example" from the provider would read as one person in the audit trail.
  const taken = (await deps.accounts.listAccounts()).find((a) => a.name.toLowerCase() === name);
  if (taken) throw new SsoRefusal('ACCOUNT_EXISTS', 'account-exists', taken.name, who, `an account named "${taken.name}" exists already and is not this identity's: it is not taken over`);
  try {
    await deps.accounts.createSsoAccount({ name, role: mapped.role, identity, at: deps.now() });
  } catch (e) {
    // Two first sign-ins at once: the other made it.
    if (e instanceof XipError && e.code === 'ACCOUNT_EXISTS') throw new SsoRefusal('ACCOUNT_EXISTS', 'account-exists', name, who, e.detail);
    throw e;
  }
  const account = await deps.accounts.getAccount(name);
  if (!account) throw new XipError('LEDGER_ERROR', `the account "${name}" was made and is gone`);
  return { account, role: mapped.role, group: mapped.group, created: true };
}
