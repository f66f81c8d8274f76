// Accounts for the web console and the HTTP API (issue 11;
// ports/account-store.ts, ledger/account-store.ts).
//
// - accounts: one row per local account, its role and its password as an
//   argon2id PHC string (null for an account that signs in only by single
//   sign-on). Accounts are disabled, never deleted, so that the audit trail
//   always names someone who existed.
// - sessions: one row per console session, keyed by the SHA-256 of the
//   random id its cookie holds (a copy of the database opens no session).
//   A session is live while revoked_at is null, expires_at is ahead and its
//   account is enabled; removing an account would take its sessions along.
// - setup_token: the first account's one-time token (its SHA-256), set when
//   an empty installation starts. At most one row: the `id` column may only
//   be 1.
// - audit: the trail of who did what, in the order of seq (AUTOINCREMENT: a
//   seq is never reused; PostgreSQL: an identity, GENERATED ALWAYS). It is
//   append-only (on PostgreSQL by a PL/pgSQL trigger function, below): triggers ABORT every UPDATE and
//   every DELETE on it, and an INSERT OR REPLACE of an existing entry
//   (which deletes without firing delete triggers), whoever runs them, so
//   that neither a fault of the code nor a statement typed into the sqlite3
//   shell rewrites history (only dropping the triggers, which shows in the
//   schema, would).
import { sql, type Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('accounts')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('disabled', t.flag, (c) => c.notNull().defaultTo(t.no))
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull().references('accounts.name').onDelete('cascade'))
    .addColumn('csrf_secret', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('expires_at', t.time, (c) => c.notNull())
    .addColumn('revoked_at', t.time)
    .addColumn('address', 'text')
    .execute();
  await db.schema.createIndex('sessions_by_account').on('sessions').column('account').execute();

  await db.schema
    .createTable('setup_token')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit')
    .addColumn('seq', 'integer', t.id('always'))
    .addColumn('at', t.time, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('detail', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('address', 'text')
    .execute();
  await db.schema.createIndex('audit_by_target').on('audit').columns(['target', 'seq']).execute();
  await db.schema.createIndex('audit_by_actor').on('audit').columns(['actor', 'seq']).execute();
  if (t.engine === 'postgres') {
    // One PL/pgSQL function refuses every change: row triggers for UPDATE (an
    // INSERT … ON CONFLICT DO UPDATE fires it too) and DELETE, a statement
    // trigger for TRUNCATE, which fires no row trigger. seq is GENERATED
    // ALWAYS: an INSERT may not pick it (without OVERRIDING SYSTEM VALUE).
    // The messages are SQLite's (SQLSTATE P0001, raise_exception).
    await sql`create function audit_append_only() returns trigger language plpgsql as $$
begin
  raise exception using message = case tg_op
    when 'UPDATE' then 'the audit trail is append-only: no entry may be changed'
    else 'the audit trail is append-only: no entry may be removed' end;
end
$$`.execute(db);
    await sql`create trigger audit_no_update before update on audit for each row execute function audit_append_only()`.execute(db);
    await sql`create trigger audit_no_delete before delete on audit for each row execute function audit_append_only()`.execute(db);
    await sql`create trigger audit_no_truncate before truncate on audit for each statement execute function audit_append_only()`.execute(db);
    return;
  }
  await sql`create trigger audit_no_update before update on audit begin select raise(abort, 'the audit trail is append-only: no entry may be changed'); end`.execute(db);
  await sql`create trigger audit_no_delete before delete on audit begin select raise(abort, 'the audit trail is append-only: no entry may be removed'); end`.execute(db);
  // INSERT OR REPLACE deletes the row it replaces without firing delete triggers (unless recursive_triggers is on).
  await sql`create trigger audit_no_replace before insert on audit when exists (select 1 from audit where seq = new.seq) begin select raise(abort, 'the audit trail is append-only: no entry may be replaced'); end`.execute(db);
}
