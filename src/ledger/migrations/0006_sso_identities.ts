// Single sign-on identities (issue 11; ports/account-store.ts,
// src/server/oidc/): which account an OpenID Connect identity signs in as.
//
// An identity is the pair (issuer, subject): the ID token's `iss` and `sub`,
// which OpenID Connect Core §2 defines as locally unique and never
// reassigned within the issuer. It is never an email address or a user
// name: those change and get reused (Microsoft's ID token reference says
// preferred_username "is mutable and might change over time", so "must not
// be used to make authorization decisions"), and an email claim is not
// always verified by the provider. An account has at most one identity
// (`account` is unique), and its row goes with the account.
import type { Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('account_identities')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('account', 'text', (c) => c.notNull().unique().references('accounts.name').onDelete('cascade'))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('account_identities_pk', ['issuer', 'subject'])
    .execute();
}
