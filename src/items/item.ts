// The item as the rest of the connector sees it (xip-items.md §2), after
// validation and normalisation: `Email` is always a list, optional lists are
// present (possibly empty), attachment names and content types are resolved.
import type { JsonValue } from './json.js';

export type Role = 'to' | 'cc' | 'bcc' | 'member';

export interface Party {
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly sourceId?: string | undefined;
}

export interface Participant extends Party {
  readonly role: Role;
}

export interface Attachment {
  /** Entry name in the same container; its bytes are the attachment. */
  readonly path: string;
  readonly name: string;
  readonly contentType: string;
}

interface ItemFields {
  readonly id: string;
  readonly type: string;
  /** RFC 3339 with an offset, as written by the source. */
  readonly sentAt: string;
  readonly from: Party;
  readonly participants: readonly Participant[];
  /** Every participant's address (§2 `Email`), derived from from/participants when the item has none. */
  readonly Email: readonly string[];
  readonly conversation?: { readonly id?: string | undefined; readonly title?: string | undefined } | undefined;
  readonly subject?: string | undefined;
  readonly body?: { readonly text?: string | undefined; readonly html?: string | undefined } | undefined;
  readonly attachments: readonly Attachment[];
  /**
   * `properties` plus the item's unknown top-level fields (§2), as read: a
   * number no JavaScript number writes back the same is a JsonNumber with its
   * text, and keys keep their order (items/json.ts; write it with stringifyJson).
   */
  readonly properties: Readonly<Record<string, JsonValue>>;
}

/** An item of a .json or .ndjson entry. */
export interface JsonItem extends ItemFields {
  readonly kind: 'json';
}

/** An .eml entry: the message is its own bytes; the fields are read from its headers for mapping (§4). */
export interface EmlItem extends ItemFields {
  readonly kind: 'eml';
  /** Whether the message has a Message-ID header (§3 adds one only when missing). */
  readonly hasMessageId: boolean;
  /** The line ending of the message's first header line; added headers use the same. */
  readonly lineEnding: '\r\n' | '\n';
}

export type Item = JsonItem | EmlItem;

export interface ItemOrigin {
  readonly entry: string;
  /** 1-based line of an .ndjson entry. */
  readonly line?: number | undefined;
}

export interface ItemFailure {
  readonly entry: string;
  readonly line?: number | undefined;
  readonly id?: string | undefined;
  readonly message: string;
  readonly code: string;
}

export type ItemResult =
  | { readonly ok: true; readonly item: Item; readonly origin: ItemOrigin }
  | { readonly ok: false; readonly failure: ItemFailure };

/** An item that was read, with where it came from: what buildMessage takes. */
export type ReadItem = Extract<ItemResult, { ok: true }>;
