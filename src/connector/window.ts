// The delivery window: copies between the build stage and their record,
// bounded in count AND bytes, so that a run holds the same memory for 10,000
// items as for 200,000, and 30 items of 60 MB do not all sit in memory at
// once. Copies wait in one queue per mailbox; a queue goes out as a batch
// when it is full, when the window is full (the largest queue first), or at
// the end. At most `concurrency` batches are in flight, for one mailbox or
// several: their claims and records overlap, and a target that must deliver
// one batch at a time into a mailbox (IMAP: one session per mailbox) orders
// them itself. Nothing depends on their order: each copy is claimed.
//
// A copy's bytes are its message's size: an upper bound of what it holds
// (attachments are streamed from the container, not held), so the bound is
// conservative. One message larger than the window still goes, alone.
export interface WindowCopy {
  readonly size: number;
}

export interface WindowLimits {
  readonly batchSize: number;
  readonly windowCopies: number;
  readonly windowBytes: number;
  readonly concurrency: number;
}

export type SendBatch<C> = (mailbox: string, copies: readonly C[]) => Promise<void>;

export class DeliveryWindow<C extends WindowCopy> {
  readonly #limits: WindowLimits;
  readonly #send: SendBatch<C>;
  readonly #queues = new Map<string, C[]>();
  readonly #inFlight = new Set<Promise<void>>();
  #heldCopies = 0;
  #heldBytes = 0;
  #queued = 0;
  #failure: { error: unknown } | undefined;

  constructor(limits: WindowLimits, send: SendBatch<C>) {
    this.#limits = limits;
    this.#send = send;
  }

  /** What the window holds now (queued and in flight): for tests and the bench. */
  get held(): { copies: number; bytes: number } {
    return { copies: this.#heldCopies, bytes: this.#heldBytes };
  }

  /** Adds a copy for `mailbox`, first making room: sends queues or waits for batches in flight. */
  async add(mailbox: string, copy: C): Promise<void> {
    this.#rethrow();
    while (this.#heldCopies > 0 && (this.#heldCopies + 1 > this.#limits.windowCopies || this.#heldBytes + copy.size > this.#limits.windowBytes)) {
      if (this.#queued > 0) await this.#flush(this.#largestQueue());
      else await Promise.race(this.#inFlight);
      this.#rethrow();
    }
    let queue = this.#queues.get(mailbox);
    if (!queue) this.#queues.set(mailbox, (queue = []));
    queue.push(copy);
    this.#queued++;
    this.#heldCopies++;
    this.#heldBytes += copy.size;
    if (queue.length >= this.#limits.batchSize) await this.#flush(mailbox);
  }

  /** Sends every queue and waits for every batch; rethrows the first batch's error. */
  async drain(): Promise<void> {
    for (const mailbox of [...this.#queues.keys()]) await this.#flush(mailbox);
    await Promise.all(this.#inFlight);
    this.#rethrow();
  }

  /** Waits for the batches in flight, whatever they end in (before their container is closed). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  #largestQueue(): string {
    let largest = '';
    let size = -1;
    for (const [mailbox, queue] of this.#queues) {
      if (queue.length > size) [largest, size] = [mailbox, queue.length];
    }
    return largest;
  }

  async #flush(mailbox: string): Promise<void> {
    const copies = this.#queues.get(mailbox);
    if (!copies || copies.length === 0) return;
    this.#queues.delete(mailbox);
    this.#queued -= copies.length;
    while (this.#inFlight.size >= this.#limits.concurrency) await Promise.race(this.#inFlight);
    this.#rethrow();
    const bytes = copies.reduce((n, c) => n + c.size, 0);
    const tracked: Promise<void> = this.#send(mailbox, copies)
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => {
        this.#inFlight.delete(tracked);
        this.#heldCopies -= copies.length;
        this.#heldBytes -= bytes;
      });
    this.#inFlight.add(tracked);
  }

  #rethrow(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
