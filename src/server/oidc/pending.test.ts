// Pending sign-ins over the installation's SQLite store: taken once, gone
// after their ten minutes, and what the table holds opens under no handle but
// the one the browser has.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openSqliteState, type SqliteState } from '../../ledger/sqlite.js';
import { rows, tempDir } from '../../ledger/test-support/ledgers.js';
import { newToken, sha256Hex } from '../secrets.js';
import { PENDING_TTL_MS, PendingSignIns, seal, unseal } from './pending.js';

const T0 = new Date('2026-12-01T09:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const SIGN_IN = { state: 'state-of-the-flow', nonce: 'nonce-of-the-flow', codeVerifier: 'verifier-of-the-flow-'.padEnd(43, 'v') };

describe('pending sign-ins in the database', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let state: SqliteState;
  beforeEach(async () => {
    tmp = tempDir();
    path = join(tmp.dir, 'xip.db');
    state = await openSqliteState(path);
  });
  afterEach(async () => {
    await state.ledger.close();
    tmp.remove();
  });

  it('gives a sign-in back once, to its handle, until it expires', async () => {
    const pending = new PendingSignIns(state.accounts);
    const [h1, h2] = [newToken(), newToken()];
    await pending.put(h1, SIGN_IN, T0);
    await pending.put(h2, SIGN_IN, T0);
    assert.equal(await pending.take(newToken(), at(1000)), undefined, 'another handle');
    assert.deepEqual(await pending.take(h1, at(1000)), SIGN_IN);
    assert.equal(await pending.take(h1, at(2000)), undefined, 'taken already');
    assert.equal(await pending.take(h2, at(PENDING_TTL_MS)), undefined, 'expired after ten minutes');
  });

  it('keeps the handle’s SHA-256 and the sign-in sealed: neither the handle, the state, the nonce nor the verifier in the clear', async () => {
    const handle = newToken();
    await new PendingSignIns(state.accounts).put(handle, SIGN_IN, T0);
    const [row] = rows<{ handle_sha256: string; sealed: string }>(path, 'select handle_sha256, sealed from sso_pending');
    assert.equal(row?.handle_sha256, sha256Hex(handle));
    for (const secret of [handle, ...Object.values(SIGN_IN)]) assert.ok(!row.sealed.includes(secret), secret);
    assert.deepEqual(unseal(handle, row.handle_sha256, row.sealed), SIGN_IN);
  });

  it('opens a sealed sign-in under its own handle and row only: another handle, another row or one altered byte opens nothing', () => {
    const handle = newToken();
    const sealed = seal(handle, sha256Hex(handle), SIGN_IN);
    assert.deepEqual(unseal(handle, sha256Hex(handle), sealed), SIGN_IN);
    const other = newToken();
    assert.equal(unseal(other, sha256Hex(handle), sealed), undefined, 'the row’s key known, the handle not');
    assert.equal(unseal(handle, sha256Hex(other), sealed), undefined, 'moved to another row');
    const parts = sealed.split('.');
    const text = Buffer.from(parts[2]!, 'base64url');
    text[0]! ^= 1;
    assert.equal(unseal(handle, sha256Hex(handle), [parts[0], parts[1], text.toString('base64url'), parts[3]].join('.')), undefined, 'altered');
    assert.equal(unseal(handle, sha256Hex(handle), `v0.${parts.slice(1).join('.')}`), undefined, 'a format this version does not know');
    assert.equal(unseal(handle, sha256Hex(handle), 'nonsense'), undefined);
  });
});
