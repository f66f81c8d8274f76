// Single sign-on's pending sign-ins (issue 12, several `xip serve` on one
// database; src/server/oidc/pending.ts): what /auth/oidc/start keeps for its
// callback, in the database so that a callback may reach any worker. One
// row per sign-in started, keyed by the SHA-256 (hex) of the random handle
// that only the browser's flow cookie holds; `sealed` is the state, nonce
// and PKCE verifier encrypted under a key derived from that handle
// (AES-256-GCM), so that reading this table finishes no sign-in. A row is
// taken (deleted) once by its callback; expired rows are pruned when a
// sign-in starts, by the index on expires_at.
import type { Kysely } from 'kysely';
import { columnTypes } from './engine.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('sso_pending')
    .addColumn('handle_sha256', 'text', (c) => c.primaryKey())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('expires_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_pending_by_expiry').on('sso_pending').column('expires_at').execute();
}
