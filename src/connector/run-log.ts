// The run's log: the figures Microsoft 365 connectors report, kept as the
// run goes, so that every source item is accounted for. Counts of items and
// counts of copies (one copy = one item in one mailbox) are kept apart:
//   itemsFromSource    items read from verified containers, valid or not
//   itemsForImport     copies planned after fan-out to mailboxes
//   imported           copies delivered by this run
//   skippedDuplicates  copies already in their mailbox (ledger or target said so)
//   failed             copies that could not be delivered, plus items that
//                      could not be imported at all (invalid, or mapped to nobody)
//   partiallyImported  items with some copies in place and some failed
export interface ContainerLine {
  readonly file: string;
  readonly sha256: string | null;
  readonly ok: boolean;
  readonly code: string | null;
  readonly message?: string;
  readonly items?: number;
}

export interface FailureLine {
  readonly itemId: string | null;
  readonly sourceUserId: string | null;
  readonly mailbox: string | null;
  readonly reason: string;
  readonly code: string;
  readonly entry?: string;
  readonly line?: number;
}

export interface UnmappedLine {
  readonly sourceId: string | null;
  readonly email: string | null;
  items: number;
}

export interface RunLogJson {
  readonly containers: ContainerLine[];
  readonly itemsFromSource: number;
  readonly itemsForImport: number;
  readonly imported: number;
  readonly partiallyImported: number;
  readonly skippedDuplicates: number;
  readonly failed: number;
  readonly failures: FailureLine[];
  readonly unmapped: UnmappedLine[];
  readonly skippedNotOnHold: number;
}

/** Per item: how its copies ended, to count partially imported items. */
interface ItemTally {
  placed: number;
  failed: number;
  pending: number;
}

export class RunLog {
  readonly containers: ContainerLine[] = [];
  itemsFromSource = 0;
  itemsForImport = 0;
  imported = 0;
  skippedDuplicates = 0;
  failed = 0;
  skippedNotOnHold = 0;
  readonly failures: FailureLine[] = [];
  private readonly unmapped = new Map<string, UnmappedLine>();
  private readonly tallies = new Map<string, ItemTally>();
  private partial = 0;

  /** The copies of one item that are planned; later settled one by one. */
  planCopies(messageId: string, copies: number): void {
    this.itemsForImport += copies;
    this.tallies.set(messageId, { placed: 0, failed: 0, pending: copies });
  }

  copyDelivered(messageId: string): void {
    this.imported++;
    this.settle(messageId, 'placed');
  }

  copyDuplicate(messageId: string): void {
    this.skippedDuplicates++;
    this.settle(messageId, 'placed');
  }

  copyFailed(messageId: string, line: FailureLine): void {
    this.failed++;
    this.failures.push(line);
    this.settle(messageId, 'failed');
  }

  /** An item that reaches no mailbox at all: invalid, or mapped to nobody. */
  itemFailed(line: FailureLine): void {
    this.failed++;
    this.failures.push(line);
  }

  addUnmapped(sourceId: string | undefined, email: string | undefined): void {
    const key = `${sourceId ?? ''}\0${email?.toLowerCase() ?? ''}`;
    const line = this.unmapped.get(key);
    if (line) line.items++;
    else this.unmapped.set(key, { sourceId: sourceId ?? null, email: email ?? null, items: 1 });
  }

  private settle(messageId: string, how: 'placed' | 'failed'): void {
    const t = this.tallies.get(messageId);
    if (!t) return;
    t[how]++;
    t.pending--;
    if (t.pending === 0) {
      if (t.placed > 0 && t.failed > 0) this.partial++;
      this.tallies.delete(messageId);
    }
  }

  get ok(): boolean {
    return this.failed === 0 && this.containers.every((c) => c.ok);
  }

  toJSON(): RunLogJson {
    return {
      containers: this.containers,
      itemsFromSource: this.itemsFromSource,
      itemsForImport: this.itemsForImport,
      imported: this.imported,
      partiallyImported: this.partial,
      skippedDuplicates: this.skippedDuplicates,
      failed: this.failed,
      failures: this.failures,
      unmapped: [...this.unmapped.values()],
      skippedNotOnHold: this.skippedNotOnHold,
    };
  }
}

/** The short table printed after a run. */
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
  if (log.skippedNotOnHold > 0) rows.push(['skipped, not on hold', log.skippedNotOnHold]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const c of log.containers) if (!c.ok) lines.push(`rejected ${c.file}: ${c.code}${c.message ? ` — ${c.message}` : ''}`);
  for (const f of log.failures.slice(0, 50)) {
    lines.push(`failed ${f.itemId ?? `${f.entry ?? '?'}${f.line !== undefined ? `:${f.line}` : ''}`}${f.mailbox ? ` → ${f.mailbox}` : ''}: ${f.code}: ${f.reason}`);
  }
  if (log.failures.length > 50) lines.push(`… and ${log.failures.length - 50} more failures (see --json)`);
  for (const u of log.unmapped) lines.push(`unmapped participant ${u.email ?? ''}${u.sourceId ? ` (${u.sourceId})` : ''}: ${u.items} ${u.items === 1 ? 'item' : 'items'}`);
  return lines.join('\n');
}
