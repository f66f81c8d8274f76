// An .eml item keeps its own headers and body byte for byte; the provenance
// headers go on top, with a Message-ID only when it has none (xip-items.md §3).
// They use the message's own line ending, so that a message written with bare
// LF does not come out with mixed line endings.
import type { EmlItem, ItemOrigin } from '../items/item.js';
import type { MessageContext } from './context.js';
import { field } from './headers.js';
import { provenanceFields } from './provenance.js';
import type { Segment } from './segments.js';

export function emlSegments(item: EmlItem, origin: ItemOrigin, ctx: MessageContext, messageId: string): (Segment | string)[] {
  const entry = ctx.entryByName.get(origin.entry);
  if (!entry) throw new TypeError(`buildMessage: no entry "${origin.entry}" in the container`);
  let head = provenanceFields(item, origin, ctx);
  if (!item.hasMessageId) head += field('Message-ID', messageId);
  if (item.lineEnding === '\n') head = head.replace(/\r\n/g, '\n');
  return [head, { entry: entry.name, size: entry.size, encoding: 'none' }];
}
