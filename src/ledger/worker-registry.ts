// The WorkerRegistry (ports/worker-registry.ts) over Kysely, in the ledger's
// database (migration 0007_workers). Portable SQL like connector-store.ts:
// times ISO 8601 UTC text on both engines (postgres.ts reads timestamptz
// back as the same text). The heartbeat is this store's clock (`now`), not
// the caller's, so that a test can move it.
import type { Kysely, Selectable } from 'kysely';
import type { Worker, WorkerRegistry } from '../ports/worker-registry.js';
import { guard, guardIdempotent, guardRead } from './batches.js';

export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  doing: string | null;
  version: string;
}

export interface WorkerDatabase {
  workers: WorkersTable;
}

export class KyselyWorkerRegistry implements WorkerRegistry {
  readonly #db: Kysely<WorkerDatabase>;
  readonly #now: () => Date;

  constructor(db: Kysely<WorkerDatabase>, options: { now?: (() => Date) | undefined } = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
  }

  beat(worker: Omit<Worker, 'heartbeatAt'>): Promise<void> {
    return guardIdempotent('beat', async () => {
      const heartbeat = this.#now().toISOString();
      await this.#db
        .insertInto('workers')
        .values({ id: worker.id, host: worker.host, pid: worker.pid, started_at: worker.startedAt.toISOString(), heartbeat_at: heartbeat, doing: worker.doing, version: worker.version })
        .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: heartbeat, doing: worker.doing }))
        .execute();
    });
  }

  leave(id: string): Promise<void> {
    return guardIdempotent('leave', async () => {
      await this.#db.deleteFrom('workers').where('id', '=', id).execute();
    });
  }

  listWorkers(): Promise<Worker[]> {
    return guardRead('listWorkers', async () => {
      const rows = await this.#db.selectFrom('workers').selectAll().orderBy('heartbeat_at', 'desc').orderBy('id').execute();
      return rows.map(workerOf);
    });
  }

  forgetSilent(before: Date): Promise<number> {
    return guard('forgetSilent', async () => {
      const result = await this.#db.deleteFrom('workers').where('heartbeat_at', '<', before.toISOString()).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}

function workerOf(r: Selectable<WorkersTable>): Worker {
  return { id: r.id, host: r.host, pid: Number(r.pid), startedAt: new Date(r.started_at), heartbeatAt: new Date(r.heartbeat_at), doing: r.doing, version: r.version };
}
