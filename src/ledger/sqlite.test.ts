import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { deliveryKey, type CopyKey } from './port.js';
import { openSqliteLedger } from './sqlite.js';
import { tempDir } from './test-support/ledgers.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const run = promisify(execFile);

/** Runs test-support/ledger-child.ts in another Node process. */
async function child(path: string, action: 'read' | 'deliver', arg: unknown): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(here, 'test-support', 'ledger-child.ts'), path, action, JSON.stringify(arg)], { cwd: root });
  return stdout.trim();
}

const a: CopyKey = { messageId: '<a@xip.invalid>', mailbox: 'ana@corp.example', folder: 'Inbox/XIP' };
const b: CopyKey = { ...a, messageId: '<b@xip.invalid>' };

describe('openSqliteLedger', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  describe('refuses with LEDGER_ERROR, naming the path', () => {
    const refuse = async (path: string, detail: RegExp) => {
      await assert.rejects(openSqliteLedger(path), (e: { code?: string; detail?: string }) => {
        assert.equal(e.code, 'LEDGER_ERROR');
        assert.match(e.detail ?? '', detail);
        return true;
      });
    };

    it('a path in a directory that does not exist', async () => {
      const path = join(tmp.dir, 'missing', 'ledger.db');
      await refuse(path, new RegExp(`^opening the ledger ${path}: .*directory does not exist`));
    });

    it('a path that is a directory', async () => {
      mkdirSync(join(tmp.dir, 'ledger.db'));
      await refuse(join(tmp.dir, 'ledger.db'), /SQLITE_CANTOPEN/);
    });

    it('a file that is not a database', async () => {
      writeFileSync(join(tmp.dir, 'ledger.db'), 'email,name\n'.repeat(100));
      await refuse(join(tmp.dir, 'ledger.db'), /SQLITE_NOTADB: file is not a database/);
    });

    const corrupt = async (from: number, to: number | undefined): Promise<string> => {
      const path = join(tmp.dir, 'ledger.db');
      const ledger = await openSqliteLedger(path);
      await ledger.close();
      const bytes = readFileSync(path);
      bytes.fill(0xa5, from, to ?? bytes.length);
      writeFileSync(path, bytes);
      return path;
    };

    it('a database whose schema page is corrupt', async () => {
      await refuse(await corrupt(100, 4096), /SQLITE_CORRUPT: database disk image is malformed/);
    });

    it('a database whose other pages are corrupt', async () => {
      await refuse(await corrupt(4096, undefined), /malformed/);
    });

    it('a database cut short', async () => {
      const path = join(tmp.dir, 'ledger.db');
      const ledger = await openSqliteLedger(path);
      await ledger.close();
      writeFileSync(path, readFileSync(path).subarray(0, 4096));
      await refuse(path, /SQLITE_CORRUPT/);
    });
  });

  it('lets a second process read committed rows from the WAL while the first keeps the file open, and write to it', async () => {
    const path = join(tmp.dir, 'ledger.db');
    const ledger = await openSqliteLedger(path);
    try {
      const runId = await ledger.startRun({ startedAt: new Date(), command: 'xip import', host: 'h', pid: process.pid, leaseMs: 60_000 });
      await ledger.claim(a.mailbox, a.folder, [a.messageId, b.messageId], runId);
      await ledger.markDelivered([{ ...a, ref: '1:1' }], runId);
      assert.ok(statSync(`${path}-wal`).size > 0, 'the commits should still be in the WAL');

      assert.deepEqual(JSON.parse(await child(path, 'read', [a, b])), [
        [deliveryKey(a), { state: 'delivered', ref: '1:1', runId }],
        [deliveryKey(b), { state: 'pending', ref: null, runId }],
      ]);
      assert.equal(await child(path, 'deliver', { runId, rows: [{ ...b, ref: '1:2' }] }), 'delivered');
      assert.deepEqual((await ledger.getDeliveries([b])).get(deliveryKey(b)), { state: 'delivered', ref: '1:2', runId });
      assert.deepEqual(await ledger.pendingFor(a.mailbox, a.folder), []);
    } finally {
      await ledger.close();
    }
  });

  it('makes a second process wait for a write transaction in progress (busy_timeout), not fail', async () => {
    const path = join(tmp.dir, 'ledger.db');
    const ledger = await openSqliteLedger(path);
    const runId = await ledger.startRun({ startedAt: new Date(), command: 'xip import', host: 'h', pid: process.pid, leaseMs: 60_000 });
    await ledger.close();
    const holder = new Database(path);
    holder.exec('begin immediate');
    try {
      const started = Date.now();
      const writing = child(path, 'deliver', { runId, rows: [{ ...a, ref: '1:1' }] });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      holder.exec('commit');
      assert.equal(await writing, 'delivered');
      assert.ok(Date.now() - started >= 1500, 'the child should have waited for the lock');
    } finally {
      if (holder.inTransaction) holder.exec('rollback');
      holder.close();
    }
  });
});

it('opens no database when the ledger and mapping modules are imported', async () => {
  const tmp = tempDir();
  try {
    const script = [
      `await import(${JSON.stringify(join(here, 'index.ts'))});`,
      `await import(${JSON.stringify(join(here, '../mapping/index.ts'))});`,
      `const { readdirSync, readlinkSync } = await import('node:fs');`,
      `const open = readdirSync('/proc/self/fd').flatMap((fd) => { try { return [readlinkSync('/proc/self/fd/' + fd)]; } catch { return []; } });`,
      `console.log(JSON.stringify(open.filter((f) => /\\.db|sqlite/.test(f))));`,
    ].join('\n');
    // In an empty directory, where a database opened at import by a relative name would appear.
    const { stdout } = await run(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { cwd: tmp.dir });
    assert.deepEqual(JSON.parse(stdout.trim()), []);
    assert.deepEqual(readdirSync(tmp.dir), []);
  } finally {
    tmp.remove();
  }
});
