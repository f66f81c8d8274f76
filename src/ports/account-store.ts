// Who may use the console and the HTTP API, and what they did: local
// accounts with a role, their sessions, and an append-only audit trail.
// src/ledger/account-store.ts implements it in the installation's database
// (XIP_HOME/xip.db), beside the connectors and the ledger, so that a whole
// installation stays one folder.
//
// Secrets never stored in the clear: a password is kept as its argon2id
// hash (PHC string), a session as the SHA-256 of its random id (the cookie
// holds the id), the first account's one-time setup token as its SHA-256,
// a pending single sign-on under the SHA-256 of its handle, sealed under a
// key only that handle gives (src/server/oidc/pending.ts).

export const ROLES = ['connector-admin', 'viewer', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface Account {
  readonly name: string;
  readonly role: Role;
  /** argon2id PHC string; null for an account that signs in only by single sign-on. */
  readonly passwordHash: string | null;
  readonly createdAt: Date;
  readonly disabled: boolean;
}

export interface Session {
  /** SHA-256 (hex) of the session id the cookie carries. */
  readonly idHash: string;
  readonly account: string;
  readonly role: Role;
  /** The CSRF secret bound to this session (@fastify/csrf-protection's, kept server-side). */
  readonly csrfSecret: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  /** Address the session was opened from, for the audit trail. */
  readonly address: string | null;
}

export interface AuditEntry {
  /** Increasing, gap-free within one database: the order of the trail. */
  readonly seq: number;
  readonly at: Date;
  /** The account that acted, or "system" / "cli:<user>" for actions from the command line. */
  readonly actor: string;
  /** sign-in, sign-in-failed, sign-out, connector-created, connector-edited, connector-run, connector-paused, connector-resumed, connector-removed, user-added, … */
  readonly action: string;
  /** What it acted on (a connector's or account's name), if anything. */
  readonly target: string | null;
  /** Anything else worth keeping, never a secret (JSON object). */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly address: string | null;
}

export interface AuditQuery {
  /** Entries with seq < before (paging backwards); default: the newest. */
  readonly before?: number;
  readonly limit?: number;
  readonly actor?: string;
  readonly target?: string;
}

/**
 * A single sign-on identity: the ID token's issuer and subject (OpenID
 * Connect Core §2: `sub` is never reassigned within its issuer). Never an
 * email or a user name, which change and get reused.
 */
export interface SsoIdentity {
  readonly issuer: string;
  readonly subject: string;
}

/**
 * A single sign-on started and not yet finished, as the store keeps it: under
 * the SHA-256 (hex) of the random handle the browser's flow cookie holds;
 * what its callback needs (state, nonce, PKCE verifier) sealed by
 * src/server/oidc/pending.ts, opaque here.
 */
export interface PendingSignInRecord {
  readonly handleHash: string;
  readonly sealed: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export interface AccountStore {
  createAccount(account: { name: string; role: Role; passwordHash: string | null; at: Date }): Promise<void>;
  /** A password-less account bound to this identity, in one transaction: ACCOUNT_EXISTS when the name is taken (or the identity already has an account). */
  createSsoAccount(account: { name: string; role: Role; identity: SsoIdentity; at: Date }): Promise<void>;
  getAccount(name: string): Promise<Account | undefined>;
  /** The account this single sign-on identity signs in as, if any. */
  getAccountByIdentity(identity: SsoIdentity): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;
  /** ACCOUNT_NOT_FOUND; ACCOUNT_SSO for an account bound to a single sign-on identity (it never gets a password: the provider decides who may sign in as it). */
  setPassword(name: string, passwordHash: string): Promise<void>;
  setRole(name: string, role: Role): Promise<void>;
  setDisabled(name: string, disabled: boolean): Promise<void>;
  countAccounts(): Promise<number>;

  createSession(session: Omit<Session, 'revokedAt'>): Promise<void>;
  /** The session with this id hash, unrevoked and unexpired at `now`, with its account's current role; undefined otherwise. */
  liveSession(idHash: string, now: Date): Promise<Session | undefined>;
  revokeSession(idHash: string, at: Date): Promise<void>;
  /** Revokes every session of an account (password changed, account disabled); returns how many. */
  revokeSessions(account: string, at: Date): Promise<number>;

  /** The first account's one-time token (its SHA-256): set when an empty installation starts. */
  setSetupToken(tokenHash: string, at: Date): Promise<void>;
  /** Takes the setup token if it matches and no account exists yet: true once, then false. */
  consumeSetupToken(tokenHash: string): Promise<boolean>;

  /**
   * Keeps a sign-in started, first removing those expired at its createdAt
   * and, past `max` kept, the oldest: a flood of starts from many addresses
   * (the start route's rate limit is per address) cannot grow the table.
   */
  putPendingSignIn(pending: PendingSignInRecord, max: number): Promise<void>;
  /**
   * The sealed sign-in kept under this handle hash and unexpired at `now`,
   * removed in the same statement: of two callbacks with one handle, on any
   * workers, one gets it; undefined for the other, an unknown handle or an
   * expired one.
   */
  takePendingSignIn(handleHash: string, now: Date): Promise<string | undefined>;

  /** Appends to the trail; returns the entry's seq. Never updated or deleted. */
  audit(entry: Omit<AuditEntry, 'seq'>): Promise<number>;
  listAudit(query?: AuditQuery): Promise<AuditEntry[]>;
}
