// The ConnectorStore (ports/connector-store.ts) over Kysely, in the ledger's
// database. Every statement is portable SQL (SQLite today, PostgreSQL for
// several workers); the lease is taken by one conditional upsert so that two
// processes asking at once cannot both get it, whatever the isolation level:
// the row is written only where the WHERE holds against the row version the
// upsert sees, and RETURNING tells the winner.
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { XipError } from '../errors.js';
import type { SourceFile } from '../ports/container-source.js';
import { SLOT_KEEP_DAYS, type ConnectorRow, type ConnectorRun, type ConnectorStore, type EvidenceRow, type LeaseHolder } from '../ports/connector-store.js';
import { guard, guardIdempotent, guardRead } from './batches.js';
import type { RunPartsDatabase } from './run-parts.js';
import { isSet, type EvidenceTable, type LedgerDatabase, type RunsTable } from './schema.js';

export function newLeaseToken(): string {
  return randomUUID();
}

export class KyselyConnectorStore implements ConnectorStore {
  readonly #db: Kysely<LedgerDatabase>;
  readonly #now: () => Date;
  readonly #close: () => Promise<void>;

  constructor(db: Kysely<LedgerDatabase>, options: { now?: (() => Date) | undefined; close?: () => Promise<void> } = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#close = options.close ?? (() => db.destroy());
  }

  addConnector(name: string, config: string): Promise<void> {
    return guard('addConnector', async () => {
      const now = this.#now().toISOString();
      const result = await this.#db
        .insertInto('connectors')
        .values({ name, config, paused: false, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) throw new XipError('CONNECTOR_EXISTS', `a connector named "${name}" already exists`);
    });
  }

  getConnector(name: string): Promise<ConnectorRow | undefined> {
    return guardRead('getConnector', async () => {
      const row = await this.#db.selectFrom('connectors').selectAll().where('name', '=', name).executeTakeFirst();
      return row && connectorRow(row);
    });
  }

  listConnectors(): Promise<ConnectorRow[]> {
    return guardRead('listConnectors', async () => (await this.#db.selectFrom('connectors').selectAll().orderBy('name').execute()).map(connectorRow));
  }

  updateConnector(name: string, config: string): Promise<void> {
    return guardIdempotent('updateConnector', async () => {
      const r = await this.#db.updateTable('connectors').set({ config, updated_at: this.#now().toISOString() }).where('name', '=', name).executeTakeFirst();
      if (r.numUpdatedRows === 0n) throw notFound(name);
    });
  }

  setPaused(name: string, paused: boolean): Promise<void> {
    return guardIdempotent('setPaused', async () => {
      const r = await this.#db.updateTable('connectors').set({ paused, updated_at: this.#now().toISOString() }).where('name', '=', name).executeTakeFirst();
      if (r.numUpdatedRows === 0n) throw notFound(name);
    });
  }

  removeConnector(name: string): Promise<void> {
    return guard('removeConnector', async () => {
      const r = await this.#db.deleteFrom('connectors').where('name', '=', name).executeTakeFirst();
      if (r.numDeletedRows === 0n) throw notFound(name);
    });
  }

  listRuns(connector: string, limit = 1000, before?: number): Promise<ConnectorRun[]> {
    return guardRead('listRuns', async () => {
      let q = this.#db.selectFrom('runs').selectAll().where('connector', '=', connector);
      if (before !== undefined) q = q.where('id', '<', before);
      const rows = await q.orderBy('id', 'desc').limit(limit).execute();
      return rows.map(runRow);
    });
  }

  getRunById(id: number): Promise<ConnectorRun | undefined> {
    return guardRead('getRunById', async () => {
      const row = await this.#db.selectFrom('runs').selectAll().where('id', '=', id).where('connector', 'is not', null).executeTakeFirst();
      return row && runRow(row);
    });
  }

  getRun(connector: string, id: number): Promise<ConnectorRun | undefined> {
    return guardRead('getRun', async () => {
      const row = await this.#db.selectFrom('runs').selectAll().where('connector', '=', connector).where('id', '=', id).executeTakeFirst();
      return row && runRow(row);
    });
  }

  pruneRuns(connector: string, before: Date): Promise<number> {
    return guardIdempotent('pruneRuns', async () =>
      this.#db.transaction().execute(async (tx) => {
        const ids = (
          await tx
            .selectFrom('runs')
            .select('id')
            .where('connector', '=', connector)
            .where('finished_at', 'is not', null)
            .where('log', 'is not', null)
            .where('started_at', '<', before.toISOString())
            .execute()
        ).map((r) => r.id);
        if (ids.length === 0) return 0;
        // With their parts (a shared run's): the parts' runs, failures and logs.
        const parts = (await tx.selectFrom('runs').select('id').where('parent_run_id', 'in', ids).execute()).map((r) => r.id);
        const all = [...ids, ...parts];
        await tx.deleteFrom('run_failures').where('run_id', 'in', all).execute();
        await tx.updateTable('runs').set({ log: null }).where('id', 'in', all).execute();
        await (tx as unknown as Transaction<RunPartsDatabase>).deleteFrom('run_parts').where('run_id', 'in', ids).execute();
        return ids.length;
      }),
    );
  }

  acquireLease(connector: string, holder: LeaseHolder, leaseMs: number, isAlive: (pid: number) => boolean) {
    return guard('acquireLease', async () => {
      const now = this.#now();
      const current = await this.#db.selectFrom('connector_leases').selectAll().where('connector', '=', connector).executeTakeFirst();
      // A holder of this host whose process is gone need not be waited for: the condition below names its token, so a
      // holder that renewed (or another process that took over) in between is not displaced.
      const deadToken = current && current.host === holder.host && current.lease_until > now.toISOString() && !isAlive(current.pid) ? current.holder : null;
      const until = new Date(now.getTime() + leaseMs).toISOString();
      const won = await this.#db
        .insertInto('connector_leases')
        .values({ connector, holder: holder.token, host: holder.host, pid: holder.pid, lease_until: until })
        .onConflict((oc) =>
          oc
            .column('connector')
            .doUpdateSet({ holder: holder.token, host: holder.host, pid: holder.pid, lease_until: until })
            .where((eb) =>
              eb.or([
                eb('connector_leases.lease_until', '<=', now.toISOString()),
                ...(deadToken ? [eb('connector_leases.holder', '=', deadToken)] : []),
              ]),
            ),
        )
        .returning('holder')
        .executeTakeFirst();
      if (won?.holder === holder.token) return { acquired: true as const };
      const keeper = await this.#db.selectFrom('connector_leases').selectAll().where('connector', '=', connector).executeTakeFirstOrThrow();
      return { acquired: false as const, host: keeper.host, pid: keeper.pid, leaseUntil: new Date(keeper.lease_until) };
    });
  }

  renewLease(connector: string, token: string, leaseMs: number): Promise<boolean> {
    return guardIdempotent('renewLease', async () => {
      const now = this.#now();
      const r = await this.#db
        .updateTable('connector_leases')
        .set({ lease_until: new Date(now.getTime() + leaseMs).toISOString() })
        .where('connector', '=', connector)
        .where('holder', '=', token)
        .where('lease_until', '>', now.toISOString())
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    });
  }

  releaseLease(connector: string, token: string): Promise<void> {
    return guardIdempotent('releaseLease', async () => {
      await this.#db.deleteFrom('connector_leases').where('connector', '=', connector).where('holder', '=', token).execute();
    });
  }

  claimScheduledSlot(connector: string, scheduledFor: Date, worker: string): Promise<boolean> {
    // Idempotent for its worker (the answer is whose row it is), so a claim whose commit was not seen is retried safely.
    return guardIdempotent('claimScheduledSlot', async () => {
      const now = this.#now();
      const slot = { connector, scheduled_for: scheduledFor.toISOString() };
      const inserted = await this.#db
        .insertInto('scheduled_slots')
        .values({ ...slot, worker, claimed_at: now.toISOString() })
        .onConflict((oc) => oc.columns(['connector', 'scheduled_for']).doNothing())
        .returning('worker')
        .executeTakeFirst();
      const holder = inserted?.worker ?? (await this.#db.selectFrom('scheduled_slots').select('worker').where('connector', '=', connector).where('scheduled_for', '=', slot.scheduled_for).executeTakeFirstOrThrow()).worker;
      if (holder !== worker) return false;
      // Pruned here rather than in pruneRuns: that one is an admin's command, per connector, and may never be run; the
      // winner of each slot trims the table instead, so it stays at about SLOT_KEEP_DAYS of slots per connector.
      await this.#db.deleteFrom('scheduled_slots').where('scheduled_for', '<', new Date(now.getTime() - SLOT_KEEP_DAYS * 86_400_000).toISOString()).execute();
      return true;
    });
  }

  sourceFile(connector: string, file: SourceFile): Promise<{ sha256: string | null } | undefined> {
    return guardRead('sourceFile', async () => {
      const row = await this.#db
        .selectFrom('source_files')
        .select('sha256')
        .where('connector', '=', connector)
        .where('name', '=', file.name)
        .where('size', '=', file.size)
        .where('modified', '=', file.modified.toISOString())
        .executeTakeFirst();
      return row && { sha256: row.sha256 };
    });
  }

  recordSourceFile(connector: string, file: SourceFile, sha256: string, runId: number): Promise<void> {
    return guardIdempotent('recordSourceFile', async () => {
      await this.#db
        .insertInto('source_files')
        .values({ connector, name: file.name, size: file.size, modified: file.modified.toISOString(), sha256, first_seen: this.#now().toISOString(), run_id: runId })
        .onConflict((oc) => oc.columns(['connector', 'name', 'size', 'modified']).doUpdateSet({ sha256, run_id: runId }))
        .execute();
    });
  }

  recordEvidence(e: { sha256: string; size: number; connector: string; name: string }): Promise<EvidenceRow> {
    return guardIdempotent('recordEvidence', async () => {
      await this.#db
        .insertInto('evidence')
        .values({ sha256: e.sha256, size: e.size, stored_at: this.#now().toISOString(), first_connector: e.connector, first_name: e.name, done_run_id: null, done_at: null, ok: null, code: null })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      return evidenceRow(await this.#db.selectFrom('evidence').selectAll().where('sha256', '=', e.sha256).executeTakeFirstOrThrow());
    });
  }

  getEvidence(sha256: string): Promise<EvidenceRow | undefined> {
    return guardRead('getEvidence', async () => {
      const row = await this.#db.selectFrom('evidence').selectAll().where('sha256', '=', sha256).executeTakeFirst();
      return row && evidenceRow(row);
    });
  }

  listEvidence(): Promise<EvidenceRow[]> {
    return guardRead('listEvidence', async () => (await this.#db.selectFrom('evidence').selectAll().orderBy('stored_at').orderBy('sha256').execute()).map(evidenceRow));
  }

  evidencePage(limit: number, before?: string): Promise<EvidenceRow[]> {
    return guardRead('evidencePage', async () => {
      let q = this.#db.selectFrom('evidence').selectAll();
      if (before !== undefined) {
        const from = await this.#db.selectFrom('evidence').select(['stored_at', 'sha256']).where('sha256', '=', before).executeTakeFirst();
        if (!from) return [];
        // Keyset paging on (stored_at, sha256): files stored in the same instant are neither skipped nor shown twice.
        q = q.where((eb) => eb.or([eb('stored_at', '<', from.stored_at), eb.and([eb('stored_at', '=', from.stored_at), eb('sha256', '<', from.sha256)])]));
      }
      return (await q.orderBy('stored_at', 'desc').orderBy('sha256', 'desc').limit(limit).execute()).map(evidenceRow);
    });
  }

  evidenceToRetry(connector: string): Promise<EvidenceRow[]> {
    return guardRead('evidenceToRetry', async () =>
      (await this.#db.selectFrom('evidence').selectAll().where('first_connector', '=', connector).where('done_run_id', 'is', null).orderBy('stored_at').orderBy('sha256').execute()).map(evidenceRow),
    );
  }

  markEvidenceDone(sha256: string, runId: number, verdict: { ok: boolean; code: string | null }): Promise<void> {
    return guardIdempotent('markEvidenceDone', async () => {
      await this.#db
        .updateTable('evidence')
        .set({ done_run_id: runId, done_at: this.#now().toISOString(), ok: verdict.ok, code: verdict.code })
        .where('sha256', '=', sha256)
        .where('done_run_id', 'is', null)
        .execute();
    });
  }

  close(): Promise<void> {
    return this.#close();
  }
}

function notFound(name: string): XipError {
  return new XipError('CONNECTOR_NOT_FOUND', `there is no connector named "${name}"`);
}

function connectorRow(r: Selectable<LedgerDatabase['connectors']>): ConnectorRow {
  return { name: r.name, config: r.config, paused: isSet(r.paused), createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at) };
}

function runRow(r: Selectable<RunsTable>): ConnectorRun {
  return {
    id: r.id,
    connector: r.connector ?? '',
    trigger: r.trigger,
    startedAt: new Date(r.started_at),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
    ok: r.ok === null ? null : isSet(r.ok),
    code: r.code,
    host: r.host,
    pid: r.pid,
    leaseUntil: r.lease_until === null ? null : new Date(r.lease_until),
    log: r.log === null ? null : (JSON.parse(r.log) as unknown),
    pruned: r.finished_at !== null && r.log === null,
  };
}

function evidenceRow(r: Selectable<EvidenceTable>): EvidenceRow {
  return {
    sha256: r.sha256,
    size: r.size,
    storedAt: new Date(r.stored_at),
    firstConnector: r.first_connector,
    firstName: r.first_name,
    doneRunId: r.done_run_id,
    doneAt: r.done_at === null ? null : new Date(r.done_at),
    ok: r.ok === null ? null : isSet(r.ok),
    code: r.code,
  };
}

