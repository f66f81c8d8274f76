// Read → map → build, item by item, for one staged container: each item
// becomes one message and the list of mailboxes that get a copy. An item
// that breaks a rule, repeats a Message-ID already read from the container,
// or maps to nobody is a failure of its own (with its code); the others go
// on. At the end, the items read are compared with the count the container
// declares.
//
// A part of a shared run (ports/run-parts.ts) reads only its range of the
// container's items: those before it are passed over (split into lines, not
// parsed, built or reported: their own part does that), and reading stops
// at its end. The part whose range runs to the end checks the count.
import { XipError } from '../errors.js';
import { readItems, type Item, type ItemFailure, type ItemResult } from '../items/index.js';
import { resolveMailboxes, type MappingOptions } from '../mapping/index.js';
import { buildMessage, createMessageContext, messageIdFor, type MessageContext, type MessageSource } from '../message/index.js';
import { TO_THE_END, type PartRange } from '../ports/run-parts.js';
import { crashIf, type Copy, type RunContext } from './context.js';
import { SeenIds } from './seen-ids.js';
import type { StagedContainer } from './stage.js';

export interface PreparedItem {
  readonly copy: Copy;
  readonly mailboxes: readonly string[];
}

export function sourceUserId(item: Item): string | null {
  return item.from.sourceId ?? item.from.email ?? null;
}

/** Every item of the container (or of the range) that has mailboxes to go to, in source order; reports the rest. */
export async function* prepareItems(
  ctx: RunContext,
  staged: StagedContainer,
  mapping: MappingOptions,
  nextSeq: () => number,
  progress: { read: number },
  range: Omit<PartRange, 'index'> = { firstSeq: 0, endSeq: TO_THE_END },
): AsyncGenerator<PreparedItem> {
  const messages = createMessageContext(staged.container, staged.source);
  /** Message-IDs read from this container: a second item with one is a failure, not a silent duplicate. */
  const seen = new SeenIds(ctx.settings.seenIdsBits);
  // The items before the range are passed over unparsed (readItems' skip): a part costs its own items, not all those before it.
  let position = range.firstSeq;
  for await (const result of readItems(staged.container, { skip: range.firstSeq })) {
    const at = position++;
    if (at < range.firstSeq) continue;
    if (at >= range.endSeq) break;
    progress.read++;
    ctx.recorder.emit({ kind: 'item-read' });
    crashIf(ctx, 'after-item', ++ctx.counters.itemsRead);
    await ctx.recorder.flushIfFull();
    if (!result.ok) {
      failItem(ctx, staged, result.failure, true);
      continue;
    }
    const mailboxes = mapItem(ctx, result.item, mapping);
    const message = await build(ctx, staged, result, messages, seen);
    if (!message) continue;
    if (mailboxes.length === 0) continue;
    const seq = nextSeq();
    ctx.recorder.emit({ kind: 'planned', seq, copies: mailboxes.length });
    yield { copy: { seq, message, size: message.size, itemId: result.item.id, sourceUserId: sourceUserId(result.item) }, mailboxes };
  }
  if (range.endSeq === TO_THE_END) checkCount(ctx, staged, position);
}

/** The domains of the directory's addresses and aliases: a participant there is one of the organisation's users. */
const orgDomains = new WeakMap<MappingOptions, Set<string>>();
function domainsOf(mapping: MappingOptions): Set<string> {
  let domains = orgDomains.get(mapping);
  if (!domains) {
    domains = new Set();
    for (const m of mapping.directory.mailboxes) for (const a of [m.address, ...m.aliases]) domains.add(a.slice(a.lastIndexOf('@') + 1).toLowerCase());
    orgDomains.set(mapping, domains);
  }
  return domains;
}

/**
 * The mailboxes of the item's participants (mapping/), reporting those mapped
 * to nobody (once per user in the run's log): every one when the item reaches
 * nobody (or the catch-all); otherwise only those with an address in one of
 * the organisation's domains — a colleague missing from the directory, whom
 * an admin must add — and not the outside parties every chat has.
 */
function mapItem(ctx: RunContext, item: Item, mapping: MappingOptions): string[] {
  const resolution = resolveMailboxes(item, mapping);
  if (resolution.skippedNotOnHold.length > 0) ctx.recorder.emit({ kind: 'not-on-hold', mailboxes: resolution.skippedNotOnHold.length });
  const all = resolution.mailboxes.length === 0 || resolution.catchAll;
  for (const u of resolution.unmapped) {
    const domain = u.email?.slice(u.email.lastIndexOf('@') + 1).toLowerCase();
    if (all || (domain !== undefined && domainsOf(mapping).has(domain))) ctx.recorder.emit({ kind: 'unmapped', sourceId: u.sourceId, email: u.email });
  }
  if (resolution.mailboxes.length === 0 && resolution.skippedNotOnHold.length === 0) {
    ctx.recorder.emit({
      kind: 'item-failed',
      failure: { itemId: item.id, sourceUserId: sourceUserId(item), mailbox: null, code: 'ITEM_UNMAPPED', reason: 'no participant maps to a mailbox of the directory, and there is no catch-all mailbox' },
    });
  }
  return resolution.mailboxes;
}

/** The item's message (message/), recorded in the ledger; undefined when it cannot be built or repeats a Message-ID. */
async function build(ctx: RunContext, staged: StagedContainer, result: ItemResult & { ok: true }, messages: MessageContext, seen: SeenIds): Promise<MessageSource | undefined> {
  const { item, origin } = result;
  let message: MessageSource;
  try {
    message = await buildMessage(result, messages);
  } catch (e) {
    if (!(e instanceof XipError)) throw e;
    failItem(ctx, staged, { entry: origin.entry, line: origin.line, id: item.id, message: e.explanation, code: e.code }, true);
    return undefined;
  }
  if (seen.addAndCheck(message.messageId) && (await readBefore(ctx, staged, message.messageId, origin))) {
    // Not recorded as the item (its record would replace the first one's).
    const reason = `Message-ID ${message.messageId} was already read from this container; this item was not imported`;
    failItem(ctx, staged, { entry: origin.entry, line: origin.line, id: item.id, message: reason, code: 'ITEM_DUPLICATE_ID' }, false);
    return undefined;
  }
  ctx.recorder.item({ messageId: message.messageId, source: staged.source, itemId: item.id, containerSha256: staged.container.sha256, entry: origin.entry, line: origin.line, ok: true });
  return message;
}

/** Whether another item of this container was recorded under this Message-ID (SeenIds said it may have been). */
async function readBefore(ctx: RunContext, staged: StagedContainer, messageId: string, origin: { entry: string; line?: number | undefined }): Promise<boolean> {
  await ctx.recorder.flush(); // the first item's record may still be in the buffer
  const first = await ctx.ledger.getItem(messageId);
  return first !== undefined && first.ok && first.containerSha256 === staged.container.sha256 && (first.entry !== origin.entry || first.line !== origin.line);
}

/** The run log and, when asked and the item has an id (so a Message-ID), the ledger's item record say why the item failed. */
function failItem(ctx: RunContext, staged: StagedContainer, f: ItemFailure, record: boolean): void {
  ctx.recorder.emit({
    kind: 'item-failed',
    failure: { itemId: f.id ?? null, sourceUserId: null, mailbox: null, code: f.code, reason: f.message, file: staged.file, entry: f.entry, ...(f.line !== undefined ? { line: f.line } : {}) },
  });
  if (!record || f.id === undefined) return;
  ctx.recorder.item({ messageId: messageIdFor(staged.source, f.id), source: staged.source, itemId: f.id, containerSha256: staged.container.sha256, entry: f.entry, line: f.line, ok: false, code: f.code, message: f.message });
}

function checkCount(ctx: RunContext, staged: StagedContainer, read: number): void {
  if (staged.declaredItems === undefined || staged.declaredItems === read) return;
  ctx.recorder.emit({
    kind: 'item-failed',
    failure: { itemId: null, sourceUserId: null, mailbox: null, file: staged.file, code: 'ITEM_COUNT_MISMATCH', reason: `the container declares ${staged.declaredItems} items, ${read} were read` },
  });
}
