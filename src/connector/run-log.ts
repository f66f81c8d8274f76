// The run's log: the figures Microsoft 365 connectors report, so that every
// source item is accounted for. One reducer (RunLog.apply) takes the events
// the stages emit; nothing else counts. Counts of items and counts of copies
// (one copy = one item in one mailbox) are kept apart:
//   itemsFromSource      items read from verified containers, valid or not
//   itemsForImport       copies planned after fan-out to mailboxes
//   imported             copies delivered by this run
//   skippedDuplicates    copies already in their mailbox (ledger or target said so)
//   inProgressElsewhere  copies another live run had claimed: that run delivers them
//   failed               copies not delivered (failed, or unknown: may be
//                        stored, looked up before any resend), plus items that
//                        could not be imported at all (invalid, duplicate id,
//                        mapped to nobody) and containers whose item count
//                        differs from what they declare
//   partiallyImported    items with some copies in place and some failed
// Memory stays bounded: a copy's tally lives only until its item's copies
// are settled, and at most `maxFailures` failure lines are kept (the ledger
// keeps them all: recordFailures).
export interface ContainerLine {
  readonly file: string;
  readonly sha256: string | null;
  readonly ok: boolean;
  readonly code: string | null;
  readonly message?: string;
  readonly items?: number;
  readonly itemsDeclared?: number;
  /** The signing certificate's subject ("CN=…, O=…"), once its signature verified; absent for a container rejected before that (and in logs written before it was recorded). */
  readonly signer?: string;
}

export interface FailureLine {
  readonly itemId: string | null;
  readonly sourceUserId: string | null;
  readonly mailbox: string | null;
  readonly reason: string;
  readonly code: string;
  readonly entry?: string;
  readonly line?: number;
  readonly file?: string;
  /** 'unknown': the copy may be stored; the next run looks it up before resending it. */
  readonly outcome?: 'failed' | 'unknown';
}

export interface UnmappedLine {
  readonly sourceId: string | null;
  readonly email: string | null;
  items: number;
}

export interface RunLogJson {
  readonly runId?: number;
  readonly containers: ContainerLine[];
  readonly itemsFromSource: number;
  readonly itemsForImport: number;
  readonly imported: number;
  readonly partiallyImported: number;
  readonly skippedDuplicates: number;
  readonly inProgressElsewhere: number;
  readonly failed: number;
  /** Of `failed`: copies planned and not delivered (failed, or unknown). */
  readonly failedCopies?: number;
  /** Of `failed`: items (and item-count mismatches) that could not be planned as copies at all. */
  readonly failedItems?: number;
  /** Copies planned but never attempted because the run stopped early (not in `failed`). */
  readonly notAttempted?: number;
  readonly failures: FailureLine[];
  /** Failure lines beyond the in-memory cap: all are in the ledger's failures of the run. */
  readonly failuresOmitted: number;
  readonly unmapped: UnmappedLine[];
  readonly skippedNotOnHold: number;
  /** The code of the fault that ended the run early, if one did. */
  readonly stoppedBy?: string;
}

/** Everything a stage reports; `seq` numbers the items of the run, to settle their copies. */
export type RunEvent =
  | { readonly kind: 'staged'; readonly file: string; readonly sha256: string; readonly declaredItems: number | undefined }
  | { readonly kind: 'container'; readonly line: ContainerLine }
  | { readonly kind: 'item-read' }
  | { readonly kind: 'item-failed'; readonly failure: FailureLine }
  | { readonly kind: 'unmapped'; readonly sourceId: string | undefined; readonly email: string | undefined }
  | { readonly kind: 'not-on-hold'; readonly mailboxes: number }
  | { readonly kind: 'planned'; readonly seq: number; readonly copies: number }
  | { readonly kind: 'copy'; readonly seq: number; readonly result: 'delivered' | 'duplicate' | 'elsewhere' }
  | { readonly kind: 'copy-failed'; readonly seq: number; readonly failure: FailureLine }
  | { readonly kind: 'stopped'; readonly code: string }
  /** A part of a shared run finished (ports/run-parts.ts): its log's counts, failures and unmapped users join the run's; its containers do not (the run has its own line). */
  | { readonly kind: 'part'; readonly log: RunLogJson };

/** Per item: how its copies ended, to count partially imported items. */
interface ItemTally {
  placed: number;
  failed: number;
  open: number;
}

export const DEFAULT_MAX_FAILURES = 1000;

export class RunLog {
  readonly #containers: ContainerLine[] = [];
  readonly #failures: FailureLine[] = [];
  readonly #unmapped = new Map<string, UnmappedLine>();
  readonly #tallies = new Map<number, ItemTally>();
  readonly #maxFailures: number;
  #counts = { itemsFromSource: 0, itemsForImport: 0, imported: 0, skippedDuplicates: 0, inProgressElsewhere: 0, failed: 0, failedCopies: 0, failedItems: 0, skippedNotOnHold: 0, partial: 0, omitted: 0 };
  #stoppedBy: string | undefined;
  /** Copies the parts of a shared run planned and never attempted. */
  #partsNotAttempted = 0;
  runId: number | undefined;

  constructor(maxFailures = DEFAULT_MAX_FAILURES) {
    this.#maxFailures = maxFailures;
  }

  apply(event: RunEvent): void {
    const c = this.#counts;
    switch (event.kind) {
      case 'staged':
        return; // for observers (progress): the container's line comes when it is done
      case 'container':
        this.#containers.push(event.line);
        return;
      case 'item-read':
        c.itemsFromSource++;
        return;
      case 'item-failed':
        c.failed++;
        c.failedItems++;
        this.#keep(event.failure);
        return;
      case 'unmapped':
        this.#addUnmapped(event.sourceId, event.email);
        return;
      case 'not-on-hold':
        c.skippedNotOnHold += event.mailboxes;
        return;
      case 'planned':
        c.itemsForImport += event.copies;
        this.#tallies.set(event.seq, { placed: 0, failed: 0, open: event.copies });
        return;
      case 'copy':
        if (event.result === 'delivered') c.imported++;
        else if (event.result === 'duplicate') c.skippedDuplicates++;
        else c.inProgressElsewhere++;
        this.#settle(event.seq, 'placed');
        return;
      case 'copy-failed':
        c.failed++;
        c.failedCopies++;
        this.#keep(event.failure);
        this.#settle(event.seq, 'failed');
        return;
      case 'stopped':
        this.#stoppedBy ??= event.code;
        return;
      case 'part':
        this.#merge(event.log);
        return;
    }
  }

  #merge(part: RunLogJson): void {
    const c = this.#counts;
    c.itemsFromSource += part.itemsFromSource;
    c.itemsForImport += part.itemsForImport;
    c.imported += part.imported;
    c.partial += part.partiallyImported;
    c.skippedDuplicates += part.skippedDuplicates;
    c.inProgressElsewhere += part.inProgressElsewhere;
    c.failed += part.failed;
    c.failedCopies += part.failedCopies ?? 0;
    c.failedItems += part.failedItems ?? 0;
    c.skippedNotOnHold += part.skippedNotOnHold;
    c.omitted += part.failuresOmitted;
    this.#partsNotAttempted += part.notAttempted ?? 0;
    for (const f of part.failures) this.#keep(f);
    for (const u of part.unmapped) {
      const key = unmappedKey(u.sourceId ?? undefined, u.email ?? undefined);
      const line = this.#unmapped.get(key);
      if (line) line.items += u.items;
      else this.#unmapped.set(key, { ...u });
    }
    // A container that verified for this run but not for the part (its stored copy changed since): the run says so.
    for (const line of part.containers) if (!line.ok) this.#containers.push(line);
    if (part.stoppedBy !== undefined) this.#stoppedBy ??= part.stoppedBy;
  }

  get ok(): boolean {
    return this.#counts.failed === 0 && this.#stoppedBy === undefined && this.#containers.every((l) => l.ok);
  }

  toJSON(): RunLogJson {
    const c = this.#counts;
    return {
      ...(this.runId !== undefined ? { runId: this.runId } : {}),
      containers: this.#containers,
      itemsFromSource: c.itemsFromSource,
      itemsForImport: c.itemsForImport,
      imported: c.imported,
      partiallyImported: c.partial,
      skippedDuplicates: c.skippedDuplicates,
      inProgressElsewhere: c.inProgressElsewhere,
      failed: c.failed,
      failedCopies: c.failedCopies,
      failedItems: c.failedItems,
      notAttempted: [...this.#tallies.values()].reduce((n, t) => n + t.open, this.#partsNotAttempted),
      failures: this.#failures,
      failuresOmitted: c.omitted,
      unmapped: [...this.#unmapped.values()],
      skippedNotOnHold: c.skippedNotOnHold,
      ...(this.#stoppedBy !== undefined ? { stoppedBy: this.#stoppedBy } : {}),
    };
  }

  #keep(line: FailureLine): void {
    if (this.#failures.length < this.#maxFailures) this.#failures.push(line);
    else this.#counts.omitted++;
  }

  #addUnmapped(sourceId: string | undefined, email: string | undefined): void {
    const key = unmappedKey(sourceId, email);
    const line = this.#unmapped.get(key);
    if (line) line.items++;
    else this.#unmapped.set(key, { sourceId: sourceId ?? null, email: email ?? null, items: 1 });
  }

  #settle(seq: number, how: 'placed' | 'failed'): void {
    const t = this.#tallies.get(seq);
    if (!t) return;
    t[how]++;
    if (--t.open === 0) {
      if (t.placed > 0 && t.failed > 0) this.#counts.partial++;
      this.#tallies.delete(seq);
    }
  }
}

function unmappedKey(sourceId: string | undefined, email: string | undefined): string {
  return `${sourceId ?? ''}\0${email?.toLowerCase() ?? ''}`;
}

/**
 * The short table printed after a run, one row per line. A value from input
 * (an item id, a reason quoting it, a file name) cannot start a row of its
 * own: its line breaks are written as `\uXXXX` escapes. The CLI's output layer
 * (cli/io.ts) escapes every other control character when it prints the rows.
 */
/** A value from input on one line: its line breaks written as `\uXXXX` escapes, so it cannot start a row of its own. */
export function oneLine(v: string): string {
  return v.replace(/[\n\v\f\r\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** How a failure line names its item: the id, else the entry (and line), else the file. */
export function failureSubject(f: FailureLine): string {
  return f.itemId ?? (f.entry !== undefined ? `${f.entry}${f.line !== undefined ? `:${f.line}` : ''}` : (f.file ?? '?'));
}

export function formatRunLog(log: RunLogJson): string {
  const rows: [string, string | number][] = [
    ['containers', `${log.containers.filter((c) => c.ok).length} verified, ${log.containers.filter((c) => !c.ok).length} rejected`],
    ['items from source', log.itemsFromSource],
    ['items for import (copies)', log.itemsForImport],
    ['imported', log.imported],
    ['partially imported items', log.partiallyImported],
    ['skipped duplicates', log.skippedDuplicates],
    ['failed', log.failed],
  ];
  if (log.inProgressElsewhere > 0) rows.push(['in progress in another run', log.inProgressElsewhere]);
  if (log.skippedNotOnHold > 0) rows.push(['skipped, not on hold', log.skippedNotOnHold]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  if (log.stoppedBy) lines.push(`the run stopped early: ${log.stoppedBy}`);
  for (const c of log.containers) if (!c.ok) lines.push(oneLine(`rejected ${c.file}: ${c.code}${c.message ? ` — ${c.message}` : ''}`));
  const shown = log.failures.slice(0, 50);
  for (const f of shown) {
    const what = failureSubject(f);
    lines.push(oneLine(`${f.outcome === 'unknown' ? 'unknown' : 'failed'} ${what}${f.mailbox ? ` → ${f.mailbox}` : ''}: ${f.code}: ${f.reason}`));
  }
  const more = log.failures.length - shown.length + log.failuresOmitted;
  if (more > 0) lines.push(`… and ${more} more failures (--json, or the run's failures in the ledger)`);
  for (const u of log.unmapped) lines.push(oneLine(`unmapped participant ${u.email ?? ''}${u.sourceId ? ` (${u.sourceId})` : ''}: ${u.items} ${u.items === 1 ? 'item' : 'items'}`));
  return lines.join('\n');
}
