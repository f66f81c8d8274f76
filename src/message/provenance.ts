// The provenance headers of xip-items.md §3: where a message came from, so
// that anyone reading the mailbox can trace it back to a signed container.
import type { Item, ItemOrigin } from '../items/item.js';
import { stringifyJson } from '../items/json.js';
import type { MessageContext } from './context.js';
import { field, unstructured } from './headers.js';

export function provenanceFields(item: Item, origin: ItemOrigin, ctx: MessageContext): string {
  const entry = ctx.entryByName.get(origin.entry);
  if (!entry) throw new TypeError(`buildMessage: no entry "${origin.entry}" in the container`);
  const { signer } = ctx.entries;
  let out =
    field('X-XIP-Source', unstructured(ctx.source)) +
    field('X-XIP-Item-Id', unstructured(item.id)) +
    field('X-XIP-Item-Type', unstructured(item.type)) +
    field('X-XIP-Container', ctx.entries.sha256) +
    field('X-XIP-Signer', unstructured(`${signer.subject}; sha256=${signer.sha256}`)) +
    field('X-XIP-Entry', unstructured(origin.line === undefined ? origin.entry : `${origin.entry}; line=${origin.line}`)) +
    field('X-XIP-Entry-SHA256', entry.sha256);
  if (Object.keys(item.properties).length > 0) {
    // stringifyJson, not JSON.stringify: the numbers' own text and the keys'
    // own order, "__proto__" included, and no recursion however deep.
    out += field('X-XIP-Properties', unstructured(stringifyJson(item.properties)));
  }
  return out;
}
