// The record stage's bookkeeping: every event goes through the run log's
// reducer, and what the ledger keeps of it (item records, every failure) is
// buffered and written in chunks, so that neither grows with the run.
import type { FailureRecord, ItemRecord, Ledger } from '../ports/ledger.js';
import type { RunEvent, RunLog } from './run-log.js';

const CHUNK = 500;

export class Recorder {
  readonly #ledger: Ledger;
  readonly #runId: number;
  readonly #log: RunLog;
  #items: ItemRecord[] = [];
  #failures: FailureRecord[] = [];
  readonly #observer: ((event: RunEvent) => void) | undefined;

  constructor(ledger: Ledger, runId: number, log: RunLog, observer?: (event: RunEvent) => void) {
    this.#ledger = ledger;
    this.#runId = runId;
    this.#log = log;
    this.#observer = observer;
  }

  emit(event: RunEvent): void {
    this.#log.apply(event);
    this.#observer?.(event);
    if (event.kind === 'item-failed' || event.kind === 'copy-failed') {
      const f = event.failure;
      this.#failures.push({ itemId: f.itemId, sourceUserId: f.sourceUserId, mailbox: f.mailbox, code: f.code, reason: f.reason, entry: f.entry, line: f.line, file: f.file });
    }
  }

  item(record: ItemRecord): void {
    this.#items.push(record);
  }

  async flushIfFull(): Promise<void> {
    if (this.#items.length >= CHUNK || this.#failures.length >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#items.length > 0) await this.#ledger.recordItems(this.#items.splice(0));
    if (this.#failures.length > 0) await this.#ledger.recordFailures(this.#runId, this.#failures.splice(0));
  }
}
