// `xip import` (the installed command over dist/) with its ledger in
// PostgreSQL (XIP_DATABASE_URL, issue 12) into a Maildir: the second import
// of the same container delivers nothing and counts every copy as a
// duplicate, from the ledger the first left in PostgreSQL; no SQLite file is
// made; the password of the URL shows nowhere. One server for this file.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { startPostgresDatabases, type PostgresDatabases } from '../src/ledger/test-support/postgres-databases.js';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { runXip } from './support/cli.js';

let dir: string;
let dbs: PostgresDatabases;
let container: string;

before(async () => {
  dir = await tempDir('xip-import-pg-');
  dbs = await startPostgresDatabases();
  writeFileSync(join(dir, 'ca.pem'), testIdentity().issued.caCertificatePem);
  writeFileSync(join(dir, 'users.csv'), 'email,name,aliases,litigationHold\nana@corp.example,Ana,,true\nbo@corp.example,Bo,,true\n');
  const items = ['a', 'b', 'c'].map((id) => JSON.stringify({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: 'ana@corp.example' }, participants: [{ email: 'bo@corp.example', role: 'to' }], body: { text: id } }));
  container = await buildContainer(join(dir, 'day.xip'), { data: { 'items/day.ndjson': `${items.join('\n')}\n` } });
});

after(async () => {
  await dbs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every message file under the Maildir root (cur/ and new/ of every folder). */
function messages(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name === 'cur' || e.name === 'new') out.push(...readdirSync(join(d, e.name)).map((n) => join(d, e.name, n)));
      else walk(join(d, e.name));
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

it('xip import with XIP_DATABASE_URL: delivered once, and the second import of the same container is all duplicates', async () => {
  const url = await dbs.migrated();
  const mailRoot = join(dir, 'mail');
  const args = ['import', container, '--trust', join(dir, 'ca.pem'), '--directory', join(dir, 'users.csv'), '--to', `maildir:${mailRoot}`, '--json'];
  const env = { XIP_DATABASE_URL: url };

  const first = await runXip(args, { cwd: dir, env });
  assert.equal(first.code, 0, first.stderr);
  const log1 = JSON.parse(first.stdout) as { imported: number; skippedDuplicates: number };
  assert.deepEqual([log1.imported, log1.skippedDuplicates], [6, 0], '3 items, each to ana and bo');
  assert.equal(messages(mailRoot).length, 6);

  const second = await runXip(args, { cwd: dir, env });
  assert.equal(second.code, 0, second.stderr);
  const log2 = JSON.parse(second.stdout) as { imported: number; skippedDuplicates: number };
  assert.deepEqual([log2.imported, log2.skippedDuplicates], [0, 6]);
  assert.equal(messages(mailRoot).length, 6, 'nothing delivered twice');

  // The ledger is PostgreSQL's: two runs, six delivered copies, one attempt each; no SQLite ledger was made.
  assert.deepEqual(await dbs.query(url, "select count(*)::int as runs, bool_and(ok) as ok from runs where command like 'xip import %'"), [{ runs: 2, ok: true }]);
  assert.deepEqual(await dbs.query(url, 'select state, count(*)::int as n, max(attempts) as attempts from deliveries group by state'), [{ state: 'delivered', n: 6, attempts: 1 }]);
  assert.equal(existsSync(join(dir, 'xip-state.db')), false);
  const password = new URL(url).password;
  assert.ok(![first.stdout, first.stderr, second.stdout, second.stderr].some((t) => t.includes(password)), 'the password is not printed');
});

it('refuses --state beside XIP_DATABASE_URL, and a URL that is not PostgreSQL, without showing the password (USAGE, exit 2)', async () => {
  const base = ['import', container, '--trust', join(dir, 'ca.pem'), '--directory', join(dir, 'users.csv'), '--to', `maildir:${join(dir, 'unused')}`];
  const both = await runXip([...base, '--state', join(dir, 'x.db')], { cwd: dir, env: { XIP_DATABASE_URL: dbs.server.url } });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /USAGE.*--state names a SQLite ledger and XIP_DATABASE_URL a PostgreSQL one/);
  const wrong = await runXip(base, { cwd: dir, env: { XIP_DATABASE_URL: 'mysql://xip:hunter2-secret@127.0.0.1/xip' } });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /XIP_DATABASE_URL must be postgres:\/\/.*"mysql:\/\/xip:\*\*\*@127\.0\.0\.1\/xip"/);
  assert.ok(!wrong.stderr.includes('hunter2-secret'));
  assert.equal(messages(join(dir, 'unused')).length, 0);
});
