// The AccountStore (ports/account-store.ts) over Kysely, in the ledger's
// database (migration 0005_accounts). Portable SQL like connector-store.ts,
// in the representation of schema.ts: times ISO 8601 UTC text, booleans
// written as booleans and read through isSet, the audit detail JSON text. The audit table refuses UPDATE and DELETE by
// trigger; this file only ever inserts into it.
import type { Generated, Kysely, Selectable } from 'kysely';
import { XipError } from '../errors.js';
import { ROLES, type Account, type AccountStore, type AuditEntry, type AuditQuery, type PendingSignInRecord, type Role, type Session, type SsoIdentity } from '../ports/account-store.js';
import { guard, guardIdempotent, guardRead } from './batches.js';
import { isForeignKeyViolation } from './faults.js';
import { isSet, type Flag } from './schema.js';

// The tables of 0005_accounts as Kysely sees them. They live here rather than
// in schema.ts's LedgerDatabase so that this store types only what it uses;
// sqlite.ts hands it the same Kysely instance, typed by these.
export interface AccountsTable {
  name: string;
  role: string;
  password_hash: string | null;
  created_at: string;
  disabled: Flag;
}

export interface SessionsTable {
  id_hash: string;
  account: string;
  csrf_secret: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  address: string | null;
}

export interface SetupTokenTable {
  /** Always 1: the table holds one row at most. */
  id: number;
  token_hash: string;
  created_at: string;
}

export interface AuditTable {
  seq: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  /** A JSON object. */
  detail: string;
  address: string | null;
}

/** 0006_sso_identities. */
export interface AccountIdentitiesTable {
  issuer: string;
  subject: string;
  account: string;
  created_at: string;
}

/** 0010_sso_pending. */
export interface SsoPendingTable {
  handle_sha256: string;
  sealed: string;
  created_at: string;
  expires_at: string;
}

export interface AccountDatabase {
  accounts: AccountsTable;
  account_identities: AccountIdentitiesTable;
  sessions: SessionsTable;
  setup_token: SetupTokenTable;
  sso_pending: SsoPendingTable;
  audit: AuditTable;
}

/** How many audit entries listAudit returns when the query does not say, and at most. */
export const AUDIT_PAGE = 100;
export const AUDIT_PAGE_MAX = 1000;

export class KyselyAccountStore implements AccountStore {
  readonly #db: Kysely<AccountDatabase>;

  constructor(db: Kysely<AccountDatabase>) {
    this.#db = db;
  }

  createAccount(account: { name: string; role: Role; passwordHash: string | null; at: Date }): Promise<void> {
    return guard('createAccount', async () => {
      const result = await this.#db
        .insertInto('accounts')
        .values({ name: account.name, role: checkRole(account.role), password_hash: account.passwordHash, created_at: account.at.toISOString(), disabled: false })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) throw new XipError('ACCOUNT_EXISTS', `an account named "${account.name}" already exists`);
    });
  }

  createSsoAccount(account: { name: string; role: Role; identity: SsoIdentity; at: Date }): Promise<void> {
    return guard('createSsoAccount', async () =>
      // One transaction: never an account without its identity, or an identity pointing at someone else's account.
      this.#db.transaction().execute(async (tx) => {
        const at = account.at.toISOString();
        const inserted = await tx
          .insertInto('accounts')
          .values({ name: account.name, role: checkRole(account.role), password_hash: null, created_at: at, disabled: false })
          .onConflict((oc) => oc.column('name').doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) throw new XipError('ACCOUNT_EXISTS', `an account named "${account.name}" already exists`);
        const bound = await tx
          .insertInto('account_identities')
          .values({ issuer: account.identity.issuer, subject: account.identity.subject, account: account.name, created_at: at })
          .onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing())
          .executeTakeFirst();
        // Thrown inside the transaction: the account inserted above is rolled back.
        if (Number(bound.numInsertedOrUpdatedRows ?? 0n) === 0) throw new XipError('ACCOUNT_EXISTS', 'this single sign-on identity already has an account');
      }),
    );
  }

  getAccountByIdentity(identity: SsoIdentity): Promise<Account | undefined> {
    return guardRead('getAccountByIdentity', async () => {
      const row = await this.#db
        .selectFrom('account_identities')
        .innerJoin('accounts', 'accounts.name', 'account_identities.account')
        .selectAll('accounts')
        .where('account_identities.issuer', '=', identity.issuer)
        .where('account_identities.subject', '=', identity.subject)
        .executeTakeFirst();
      return row && accountRow(row);
    });
  }

  getAccount(name: string): Promise<Account | undefined> {
    return guardRead('getAccount', async () => {
      const row = await this.#db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
      return row && accountRow(row);
    });
  }

  listAccounts(): Promise<Account[]> {
    return guardRead('listAccounts', async () => (await this.#db.selectFrom('accounts').selectAll().orderBy('name').execute()).map(accountRow));
  }

  setPassword(name: string, passwordHash: string): Promise<void> {
    return guardIdempotent('setPassword', async () => {
      // One statement: an identity bound between a check and the update could not slip a password in.
      const r = await this.#db
        .updateTable('accounts')
        .set({ password_hash: passwordHash })
        .where('name', '=', name)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('account_identities').select('account').whereRef('account_identities.account', '=', 'accounts.name'))))
        .executeTakeFirst();
      if (r.numUpdatedRows > 0n) return;
      const sso = await this.#db.selectFrom('account_identities').select('account').where('account', '=', name).executeTakeFirst();
      if (sso) throw new XipError('ACCOUNT_SSO', `account "${name}" signs in through single sign-on: it has no password here`);
      throw notFound(name);
    });
  }

  setRole(name: string, role: Role): Promise<void> {
    return guardIdempotent('setRole', async () => {
      const r = await this.#db.updateTable('accounts').set({ role: checkRole(role) }).where('name', '=', name).executeTakeFirst();
      if (r.numUpdatedRows === 0n) throw notFound(name);
    });
  }

  setDisabled(name: string, disabled: boolean): Promise<void> {
    return guardIdempotent('setDisabled', async () => {
      const r = await this.#db.updateTable('accounts').set({ disabled }).where('name', '=', name).executeTakeFirst();
      if (r.numUpdatedRows === 0n) throw notFound(name);
    });
  }

  countAccounts(): Promise<number> {
    return guardRead('countAccounts', async () => {
      const row = await this.#db.selectFrom('accounts').select((eb) => eb.fn.countAll<number | bigint>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  createSession(session: Omit<Session, 'revokedAt'>): Promise<void> {
    return guard('createSession', async () => {
      try {
        await this.#db
          .insertInto('sessions')
          .values({
            id_hash: session.idHash,
            account: session.account,
            csrf_secret: session.csrfSecret,
            created_at: session.createdAt.toISOString(),
            expires_at: session.expiresAt.toISOString(),
            revoked_at: null,
            address: session.address,
          })
          .execute();
      } catch (e) {
        if (isForeignKeyViolation(e)) throw notFound(session.account);
        throw e;
      }
    });
  }

  liveSession(idHash: string, now: Date): Promise<Session | undefined> {
    return guardRead('liveSession', async () => {
      const row = await this.#db
        .selectFrom('sessions')
        .innerJoin('accounts', 'accounts.name', 'sessions.account')
        .select(['sessions.id_hash', 'sessions.account', 'sessions.csrf_secret', 'sessions.created_at', 'sessions.expires_at', 'sessions.address', 'accounts.role'])
        .where('sessions.id_hash', '=', idHash)
        .where('sessions.revoked_at', 'is', null)
        .where('sessions.expires_at', '>', now.toISOString())
        .where('accounts.disabled', '=', false)
        .executeTakeFirst();
      // A role this version does not know grants nothing: the session is not live.
      if (!row || !isRole(row.role)) return undefined;
      return {
        idHash: row.id_hash,
        account: row.account,
        role: row.role,
        csrfSecret: row.csrf_secret,
        createdAt: new Date(row.created_at),
        expiresAt: new Date(row.expires_at),
        revokedAt: null,
        address: row.address,
      };
    });
  }

  revokeSession(idHash: string, at: Date): Promise<void> {
    return guardIdempotent('revokeSession', async () => {
      await this.#db.updateTable('sessions').set({ revoked_at: at.toISOString() }).where('id_hash', '=', idHash).where('revoked_at', 'is', null).execute();
    });
  }

  /** Revokes the account's sessions that are neither revoked nor expired at `at`; the count is theirs. */
  revokeSessions(account: string, at: Date): Promise<number> {
    return guard('revokeSessions', async () => {
      const r = await this.#db
        .updateTable('sessions')
        .set({ revoked_at: at.toISOString() })
        .where('account', '=', account)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at.toISOString())
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    });
  }

  setSetupToken(tokenHash: string, at: Date): Promise<void> {
    return guardIdempotent('setSetupToken', async () => {
      await this.#db
        .insertInto('setup_token')
        .values({ id: 1, token_hash: tokenHash, created_at: at.toISOString() })
        .onConflict((oc) => oc.column('id').doUpdateSet({ token_hash: tokenHash, created_at: at.toISOString() }))
        .execute();
    });
  }

  consumeSetupToken(tokenHash: string): Promise<boolean> {
    return guard('consumeSetupToken', async () =>
      // One transaction, one conditional statement: of two requests with the token, one deletes the row and the other
      // finds none; once an account exists, the token is refused even if its row is still there.
      this.#db.transaction().execute(async (tx) => {
        const r = await tx
          .deleteFrom('setup_token')
          .where('token_hash', '=', tokenHash)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('accounts').select('accounts.name'))))
          .executeTakeFirst();
        return r.numDeletedRows > 0n;
      }),
    );
  }

  putPendingSignIn(pending: PendingSignInRecord, max: number): Promise<void> {
    // Idempotent: a handle is 32 random bytes, so a conflict is this put run again after a lost connection.
    return guardIdempotent('putPendingSignIn', async () => {
      const now = pending.createdAt.toISOString();
      await this.#db.deleteFrom('sso_pending').where('expires_at', '<=', now).execute();
      // Every sign-in lives as long, so expiry order is start order (and the index on expires_at serves both).
      const oldestKept = await this.#db
        .selectFrom('sso_pending')
        .select('expires_at')
        .orderBy('expires_at', 'desc')
        .limit(1)
        .offset(Math.max(0, max - 1))
        .executeTakeFirst();
      if (oldestKept) await this.#db.deleteFrom('sso_pending').where('expires_at', '<=', oldestKept.expires_at).execute();
      await this.#db
        .insertInto('sso_pending')
        .values({ handle_sha256: pending.handleHash, sealed: pending.sealed, created_at: now, expires_at: pending.expiresAt.toISOString() })
        .onConflict((oc) => oc.column('handle_sha256').doNothing())
        .execute();
    });
  }

  takePendingSignIn(handleHash: string, now: Date): Promise<string | undefined> {
    // One conditional DELETE … RETURNING (SQLite ≥ 3.35, PostgreSQL): the row goes to whichever statement deletes it first,
    // so a replayed callback finds nothing on any worker. Not run again on a lost connection: it may have been taken.
    return guard('takePendingSignIn', async () => {
      const row = await this.#db
        .deleteFrom('sso_pending')
        .where('handle_sha256', '=', handleHash)
        .where('expires_at', '>', now.toISOString())
        .returning('sealed')
        .executeTakeFirst();
      return row?.sealed;
    });
  }

  audit(entry: Omit<AuditEntry, 'seq'>): Promise<number> {
    return guard('audit', async () => {
      const row = await this.#db
        .insertInto('audit')
        .values({ at: entry.at.toISOString(), actor: entry.actor, action: entry.action, target: entry.target, detail: JSON.stringify(entry.detail ?? {}), address: entry.address })
        .returning('seq')
        .executeTakeFirstOrThrow();
      return Number(row.seq);
    });
  }

  /** Newest first; `limit` defaults to AUDIT_PAGE and is held to 1…AUDIT_PAGE_MAX. */
  listAudit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    return guardRead('listAudit', async () => {
      const wanted = Math.trunc(query.limit ?? AUDIT_PAGE);
      const limit = Number.isNaN(wanted) ? AUDIT_PAGE : Math.min(AUDIT_PAGE_MAX, Math.max(1, wanted));
      let q = this.#db.selectFrom('audit').selectAll();
      if (query.before !== undefined) q = q.where('seq', '<', query.before);
      if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
      if (query.target !== undefined) q = q.where('target', '=', query.target);
      return (await q.orderBy('seq', 'desc').limit(limit).execute()).map(auditRow);
    });
  }
}

export function isRole(role: string): role is Role {
  return (ROLES as readonly string[]).includes(role);
}

function checkRole(role: string): Role {
  if (!isRole(role)) throw new XipError('USAGE', `"${role}" is not a role (${ROLES.join(', ')})`);
  return role;
}

function notFound(name: string): XipError {
  return new XipError('ACCOUNT_NOT_FOUND', `there is no account named "${name}"`);
}

function accountRow(r: Selectable<AccountsTable>): Account {
  if (!isRole(r.role)) throw new XipError('LEDGER_ERROR', `account "${r.name}" has the role "${r.role}", which this version does not know`);
  return { name: r.name, role: r.role, passwordHash: r.password_hash, createdAt: new Date(r.created_at), disabled: isSet(r.disabled) };
}

function auditRow(r: Selectable<AuditTable>): AuditEntry {
  return { seq: Number(r.seq), at: new Date(r.at), actor: r.actor, action: r.action, target: r.target, detail: JSON.parse(r.detail) as Record<string, unknown>, address: r.address };
}
