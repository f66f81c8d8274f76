// How the stores read a fault of either engine, and how a URL is shown.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isConnectionLost, isForeignKeyViolation, isRolledBackConflict, scrubSecrets } from './faults.js';

it('shows a database URL with its password as ***, whatever the password holds, and leaves other text alone', () => {
  assert.equal(scrubSecrets('postgres://xip:s3cret@db.corp.example:5432/xip'), 'postgres://xip:***@db.corp.example:5432/xip');
  assert.equal(scrubSecrets('opening postgresql://app:p%40ss%3Aw0rd@10.0.0.5/x failed'), 'opening postgresql://app:***@10.0.0.5/x failed');
  assert.equal(scrubSecrets('host=db user=xip password=s3cret dbname=xip'), 'host=db user=xip password=*** dbname=xip');
  assert.equal(scrubSecrets("password='two words' sslmode=require"), 'password=*** sslmode=require');
  assert.equal(scrubSecrets('postgres://xip@db/xip and sha256 ab:cd'), 'postgres://xip@db/xip and sha256 ab:cd', 'no password: unchanged');
});

it('tells a lost connection, a rolled-back conflict and a broken foreign key apart, on both engines', () => {
  const pg = (code: string) => Object.assign(new Error('x'), { code });
  for (const code of ['57P01', '57P02', '57P03', '08006', '08003', '53300', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']) assert.equal(isConnectionLost(pg(code)), true, code);
  assert.equal(isConnectionLost(new Error('Connection terminated unexpectedly')), true);
  for (const code of ['23505', '40P01', 'SQLITE_BUSY', '42P01']) assert.equal(isConnectionLost(pg(code)), false, code);
  assert.deepEqual(['40001', '40P01', '57P01'].map((c) => isRolledBackConflict(pg(c))), [true, true, false]);
  assert.deepEqual(['23503', 'SQLITE_CONSTRAINT_FOREIGNKEY', '23505'].map((c) => isForeignKeyViolation(pg(c))), [true, true, false]);
});
