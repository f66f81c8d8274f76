// What only PostgreSQL shows: migrations by several workers at once under
// the advisory lock, claims by many workers (separate pools, so separate
// backends) racing for the same copies, a backend terminated mid-operation,
// and a URL's password kept out of errors. One server for this file, a fresh
// database per test. The Ledger contract on PostgreSQL is in
// ledger-contract.test.ts, the stores' tests run on both engines.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type Migration } from 'kysely';
import pg from 'pg';
import { LEDGER_MIGRATIONS } from './migrations/index.js';
import type { Claim } from './port.js';
import { MIGRATION_LOCK_KEY, openPostgresKysely, openPostgresState } from './postgres.js';
import type { LedgerState } from './stores.js';
import { startPostgresDatabases, type PostgresDatabases } from './test-support/postgres-databases.js';

let dbs: PostgresDatabases;
before(async () => {
  dbs = await startPostgresDatabases();
});
after(() => dbs?.stop());

const LEASE_MS = 600_000;
const MAILBOX = 'ana@corp.example';
const FOLDER = 'Inbox/XIP';
const id = (n: number) => `<${n.toString(16).padStart(32, '0')}@xip.invalid>`;
const start = (state: LedgerState, pid: number) => state.ledger.startRun({ startedAt: new Date(), command: 'xip import', host: 'host-a', pid, leaseMs: LEASE_MS });

/** The ledger's migrations, each counting its runs in `ran`. */
function counted(ran: Map<string, number>): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(LEDGER_MIGRATIONS).map(([name, m]) => [
      name,
      {
        up: async (db) => {
          ran.set(name, (ran.get(name) ?? 0) + 1);
          await m.up(db);
        },
      },
    ]),
  );
}

async function client(url: string, applicationName: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: applicationName });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

describe('PostgreSQL migrations', () => {
  it('makes every table with the native types, the append-only triggers, and records each migration', async () => {
    const url = await dbs.empty();
    const ran = new Map<string, number>();
    const state = await openPostgresState(url, { migrations: counted(ran) });
    await state.ledger.close();
    assert.deepEqual([...ran], Object.keys(LEDGER_MIGRATIONS).map((n) => [n, 1]));
    const tables = await dbs.query<{ table_name: string }>(url, "select table_name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely%' order by table_name");
    assert.deepEqual(tables.map((t) => t.table_name), ['account_identities', 'accounts', 'audit', 'connector_leases', 'connectors', 'containers', 'deliveries', 'evidence', 'folders', 'items', 'run_failures', 'run_parts', 'runs', 'scheduled_slots', 'sessions', 'setup_token', 'source_files', 'sso_pending', 'workers']);
    const types = await dbs.query<{ c: string; data_type: string }>(
      url,
      "select table_name || '.' || column_name as c, data_type from information_schema.columns where (table_name, column_name) in (('runs','id'),('runs','lease_until'),('runs','ok'),('accounts','disabled'),('evidence','size'),('audit','seq'),('scheduled_slots','scheduled_for'),('run_parts','lease_until'),('sso_pending','expires_at')) order by c",
    );
    assert.deepEqual(types, [
      { c: 'accounts.disabled', data_type: 'boolean' },
      { c: 'audit.seq', data_type: 'integer' },
      { c: 'evidence.size', data_type: 'bigint' },
      { c: 'run_parts.lease_until', data_type: 'timestamp with time zone' },
      { c: 'runs.id', data_type: 'integer' },
      { c: 'runs.lease_until', data_type: 'timestamp with time zone' },
      { c: 'runs.ok', data_type: 'boolean' },
      { c: 'scheduled_slots.scheduled_for', data_type: 'timestamp with time zone' },
      { c: 'sso_pending.expires_at', data_type: 'timestamp with time zone' },
    ]);
    const triggers = await dbs.query<{ tgname: string }>(url, "select tgname from pg_trigger where tgrelid = 'audit'::regclass and not tgisinternal order by tgname");
    assert.deepEqual(triggers.map((t) => t.tgname), ['audit_no_delete', 'audit_no_truncate', 'audit_no_update']);
    const applied = await dbs.query<{ name: string }>(url, 'select name from kysely_migration order by name');
    assert.deepEqual(applied.map((r) => r.name), Object.keys(LEDGER_MIGRATIONS));
  });

  it('runs nothing the second time', async () => {
    const url = await dbs.migrated();
    const ran = new Map<string, number>();
    const state = await openPostgresState(url, { migrations: counted(ran) });
    await state.ledger.close();
    assert.deepEqual([...ran], []);
  });

  it('two workers starting together on a new database: each migration runs once, and both end ready', async () => {
    const url = await dbs.empty();
    const ran = new Map<string, number>();
    const [a, b] = await Promise.all([
      openPostgresState(url, { migrations: counted(ran), applicationName: 'xip-worker-a' }),
      openPostgresState(url, { migrations: counted(ran), applicationName: 'xip-worker-b' }),
    ]);
    try {
      assert.deepEqual([...ran], Object.keys(LEDGER_MIGRATIONS).map((n) => [n, 1]));
      const runs = [await start(a, 1), await start(b, 2)];
      assert.deepEqual((await a.ledger.liveRuns()).map((r) => r.id), runs);
    } finally {
      await Promise.all([a.ledger.close(), b.ledger.close()]);
    }
  });

  it('waits while another holds the migration lock (MIGRATION_LOCK_KEY), then migrates', async () => {
    const url = await dbs.empty();
    const holder = await client(url, 'xip-test-lock-holder');
    try {
      await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      let opened: LedgerState | undefined;
      const opening = openPostgresState(url, { applicationName: 'xip-worker-waits' }).then((s) => (opened = s));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(opened, undefined, 'still waiting for the lock');
      const tables = await holder.query("select 1 from information_schema.tables where table_schema = 'public'");
      assert.equal(tables.rowCount, 0, 'nothing made while the lock is held elsewhere');
      await holder.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
      const state = await opening;
      assert.ok((await start(state, 1)) > 0);
      await state.ledger.close();
    } finally {
      await holder.end();
    }
  });
});

describe('PostgreSQL claims under real concurrency', () => {
  it('many workers, each with its own pool, claiming the same copies at once: each copy is sent by one run only', async () => {
    const url = await dbs.migrated();
    const WORKERS = 8;
    const COPIES = 400;
    const BATCH = 50;
    const workers = await Promise.all(Array.from({ length: WORKERS }, (_, w) => openPostgresState(url, { applicationName: `xip-worker-${w}`, maxConnections: 3 })));
    try {
      const runs = await Promise.all(workers.map((s, w) => start(s, 100 + w)));
      // Each worker claims every copy, in batches of its own order (rotated), all workers at once.
      const answers = await Promise.all(
        workers.map(async (s, w) => {
          const ids = Array.from({ length: COPIES }, (_, i) => id((i + w * 37) % COPIES));
          const out: [string, Claim][] = [];
          const batches = [];
          for (let i = 0; i < ids.length; i += BATCH) batches.push(s.ledger.claim(MAILBOX, FOLDER, ids.slice(i, i + BATCH), runs[w]!));
          for (const m of await Promise.all(batches)) out.push(...m);
          return out;
        }),
      );
      const senders = new Map<string, number[]>();
      for (const [w, list] of answers.entries()) {
        assert.equal(list.length, COPIES);
        for (const [messageId, claim] of list) {
          if (claim.verdict === 'send') senders.set(messageId, [...(senders.get(messageId) ?? []), runs[w]!]);
          else assert.equal(claim.verdict, 'busy', `${messageId}: ${JSON.stringify(claim)}`);
        }
      }
      assert.equal(senders.size, COPIES, 'every copy was sent by some run');
      const twice = [...senders].filter(([, by]) => by.length > 1);
      assert.deepEqual(twice, [], 'no copy sent by two runs');
      const stored = await dbs.query<{ n: string; attempts: number; holders: string }>(url, 'select count(*) as n, max(attempts) as attempts, count(distinct run_id) as holders from deliveries');
      // pg gives count(*) (bigint) as text to this raw client.
      assert.deepEqual(stored, [{ n: String(COPIES), attempts: 1, holders: String(new Set([...senders.values()].flat()).size) }], 'one row per copy, claimed once');
      for (const [messageId, [runId]] of senders) {
        const [row] = await workers[0]!.ledger.getDeliveries([{ messageId, mailbox: MAILBOX, folder: FOLDER }]).then((m) => [...m.values()]);
        assert.deepEqual(row, { state: 'pending', ref: null, runId }, messageId);
        break; // one is enough: the count above covers the rest
      }
    } finally {
      await Promise.all(workers.map((s) => s.ledger.close()));
    }
  });
});

describe('PostgreSQL connector leases under real concurrency', () => {
  it('many workers asking for one connector\'s lease at once: one gets it; once it lapses, one of them takes it over', async () => {
    const url = await dbs.migrated();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = () => new Date(now);
    const workers = await Promise.all(Array.from({ length: 8 }, (_, w) => openPostgresState(url, { applicationName: `xip-worker-lease-${w}`, maxConnections: 2, now: clock })));
    try {
      const ask = () =>
        Promise.all(workers.map((s, w) => s.connectors.acquireLease('daily', { token: `t${w}-${now}`, host: `host-${w}`, pid: 100 + w }, 60_000, () => true)));
      const first = await ask();
      assert.equal(first.filter((r) => r.acquired).length, 1, JSON.stringify(first));
      const holder = first.findIndex((r) => r.acquired);
      for (const r of first) if (!r.acquired) assert.deepEqual([r.host, r.pid], [`host-${holder}`, 100 + holder], 'the others are told who holds it');
      now += 60_000; // the lease lapses at lease_until
      const second = await ask();
      assert.equal(second.filter((r) => r.acquired).length, 1, JSON.stringify(second));
    } finally {
      await Promise.all(workers.map((s) => s.ledger.close()));
    }
  });
});

describe('PostgreSQL faults', () => {
  /** Holds an exclusive lock on runs, so that the next statement on it waits (and can be cut off mid-operation). */
  async function lockRuns(url: string): Promise<{ release(): Promise<void>; waitingFor(app: string): Promise<void> }> {
    const holder = await client(url, 'xip-test-lock-holder');
    await holder.query('begin');
    await holder.query('lock table runs in access exclusive mode');
    return {
      async release() {
        await holder.query('commit');
        await holder.end();
      },
      async waitingFor(app) {
        for (let i = 0; i < 200; i++) {
          const r = await holder.query("select 1 from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'", [app]);
          if (r.rowCount) return;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error(`${app} never waited for the lock`);
      },
    };
  }

  it('a backend terminated mid-write: LEDGER_ERROR (57P01) and not retried (it may have committed); the next call works on a new connection', async () => {
    const url = await dbs.migrated();
    const app = 'xip-worker-cut-write';
    const state = await openPostgresState(url, { applicationName: app });
    const lock = await lockRuns(url);
    try {
      // The outcome kept at once: a rejection left unhandled while the test awaits the termination would fail the test file.
      const writing = start(state, 1);
      writing.catch(() => undefined);
      await lock.waitingFor(app);
      assert.ok((await dbs.server.terminateBackends(app)).length >= 1);
      await assert.rejects(writing, (e: { code?: string; detail?: string }) => {
        assert.equal(e.code, 'LEDGER_ERROR');
        assert.match(e.detail ?? '', /^startRun: 57P01: terminating connection due to administrator command \(the connection to the database was lost: not retried/);
        return true;
      });
    } finally {
      await lock.release();
    }
    try {
      const runId = await start(state, 2);
      assert.deepEqual((await state.ledger.liveRuns()).map((r) => [r.id, r.pid]), [[runId, 2]], 'the cut write left no run behind');
    } finally {
      await state.ledger.close();
    }
  });

  it('a backend terminated mid-read: the read is retried on a new connection and answers', async () => {
    const url = await dbs.migrated();
    const app = 'xip-worker-cut-read';
    const state = await openPostgresState(url, { applicationName: app });
    try {
      const runId = await start(state, 1);
      const lock = await lockRuns(url);
      let reading: Promise<unknown>;
      try {
        reading = state.ledger.liveRuns();
        await lock.waitingFor(app);
        assert.ok((await dbs.server.terminateBackends(app)).length >= 1);
      } finally {
        await lock.release();
      }
      assert.deepEqual(((await reading) as { id: number }[]).map((r) => r.id), [runId]);
    } finally {
      await state.ledger.close();
    }
  });

  it('a backend terminated between two statements of a transaction: the next statement fails, the process goes on, the next transaction works', async () => {
    const url = await dbs.migrated();
    const app = 'xip-worker-cut-between';
    const db = openPostgresKysely(url, { applicationName: app });
    let uncaught: unknown;
    const onUncaught = (e: unknown) => (uncaught = e);
    process.on('uncaughtException', onUncaught);
    try {
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await sql`select 1`.execute(trx);
          assert.ok((await dbs.server.terminateBackends(app)).length >= 1, 'the backend was terminated');
          await new Promise((r) => setTimeout(r, 300)); // the end reaches the client while no statement runs
          await sql`select 1`.execute(trx);
        }),
      );
      assert.equal(uncaught, undefined, 'no uncaught error event');
      const { rows } = await sql<{ n: number }>`select 1 as n`.execute(db);
      assert.deepEqual(rows, [{ n: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await db.destroy();
    }
  });

  it('never shows the password of the URL: a refused login is LEDGER_ERROR naming the URL with ***', async () => {
    const secret = 'not-the-password-4f1c';
    const url = dbs.server.urlFor('xip').replace(/:[^:@/]*@/, `:${secret}@`);
    await assert.rejects(openPostgresState(url), (e: Error & { code?: string; detail?: string }) => {
      assert.equal(e.code, 'LEDGER_ERROR');
      assert.match(e.detail ?? '', /^opening the database postgres:\/\/xip:\*\*\*@127\.0\.0\.1:\d+\/xip: .*28P01: password authentication failed for user "xip"/);
      assert.ok(!`${e.message} ${e.detail} ${e.stack}`.includes(secret), 'the password is nowhere in the error');
      return true;
    });
  });
});
