// An in-memory MailboxTarget, a test double named as such: the import run's
// unit tests use it for what a real server cannot be made to answer on
// demand — an `unknown` outcome (stored or not), a failure of one copy, a
// target that fails as a whole mid-batch — and to interleave runs.
import { delivered, DeliveryError, failed, unknown, type DeliveryOutcome, type MailboxTarget, type OutgoingMessage } from '../../ports/mailbox-target.js';

/**
 * What happens to one message of a deliverBatch call:
 *   store            stored, outcome delivered
 *   fail             not stored, outcome failed
 *   unknown-stored   stored, but the outcome says unknown (the answer was lost)
 *   unknown-lost     not stored, outcome unknown
 *   throw            the target fails as a whole here: DeliveryError, with the outcomes so far as partial
 */
export type Fate = 'store' | 'fail' | 'unknown-stored' | 'unknown-lost' | 'throw';

export class InMemoryTarget implements MailboxTarget {
  readonly description = 'in-memory target (test double)';
  /** MailboxTarget.settleMs: nothing lands late here unless a test makes it (landLate). */
  settleMs = 0;
  /** `${mailbox}\0${folder}` → Message-ID → ref */
  readonly stored = new Map<string, Map<string, string>>();
  /** Every message handed to deliverBatch, in order. */
  readonly attempts: { mailbox: string; messageId: string }[] = [];
  fate: (mailbox: string, messageId: string) => Fate = () => 'store';
  /** Awaited at the start of each deliverBatch: lets a test interleave runs. */
  beforeBatch: (mailbox: string, messages: readonly OutgoingMessage[]) => Promise<void> = async () => undefined;
  #next = 1;

  folder(mailbox: string, folder: string): Map<string, string> {
    const key = `${mailbox}\0${folder}`;
    let f = this.stored.get(key);
    if (!f) this.stored.set(key, (f = new Map()));
    return f;
  }

  /** How many times each Message-ID was stored in the folder (always 0 or 1 here: a Map) — use attempts to see resends. */
  copiesIn(mailbox: string, folder: string): string[] {
    return [...this.folder(mailbox, folder).keys()];
  }

  async findExisting(mailbox: string, folder: string, messageIds: readonly string[]): Promise<Map<string, string>> {
    const f = this.folder(mailbox, folder);
    return new Map(messageIds.filter((id) => f.has(id)).map((id) => [id, f.get(id)!]));
  }

  async listExisting(mailbox: string, folder: string): Promise<Map<string, string>> {
    return new Map(this.folder(mailbox, folder));
  }

  async deliverBatch(mailbox: string, folder: string, messages: readonly OutgoingMessage[]): Promise<DeliveryOutcome[]> {
    await this.beforeBatch(mailbox, messages);
    const f = this.folder(mailbox, folder);
    const outcomes: DeliveryOutcome[] = [];
    for (const m of messages) {
      this.attempts.push({ mailbox, messageId: m.messageId });
      const fate = this.fate(mailbox, m.messageId);
      if (fate === 'throw') throw new DeliveryError('TARGET_UNAVAILABLE', 'the in-memory target failed as a whole', { partial: outcomes });
      if (fate === 'fail') {
        outcomes.push(failed(m.messageId, 'TARGET_REJECTED', 'refused by the test'));
        continue;
      }
      if (fate === 'store' || fate === 'unknown-stored') {
        if (f.has(m.messageId)) throw new Error(`in-memory target: ${m.messageId} delivered twice into ${mailbox}`);
        f.set(m.messageId, `mem:${this.#next++}`);
      }
      outcomes.push(fate === 'store' ? delivered(m.messageId, f.get(m.messageId)!) : unknown(m.messageId, 'TARGET_UNAVAILABLE', 'the answer was lost (test)'));
    }
    return outcomes;
  }

  async close(): Promise<void> {}
}
