// Stable codes for what can go wrong with one item or with the message made
// from it (xip-items.md §2–3). Shaped like src/errors.ts so that the two
// catalogues can be merged there; until then they live beside the code that
// raises them. An item code is a verdict on one item, never on the container:
// the other items go on (§2 "the other items go on").

export const ITEM_CODES = {
  ITEM_JSON: 'An item is not valid JSON in UTF-8 (a .json entry, or one line of an .ndjson entry); fix the export that wrote it.',
  ITEM_INVALID: 'An item breaks a rule of xip-items.md §2; the detail names the field and the rule.',
  ITEM_ATTACHMENT_MISSING: 'An attachment path of an item names no entry of the container, so the attachment cannot be imported.',
  ITEM_TOO_LARGE: 'An item (a .json entry, an .ndjson line or an .eml header block) is larger than the maxItemBytes limit; raise the limit if the host has the memory.',
  XIP_JSON_INVALID: 'The xip.json entry is not a JSON object with a string "source"; the source name, and so every Message-ID, cannot be derived from it.',
  ATTACHMENT_SIZE_MISMATCH: 'An entry yielded a different number of bytes than the container declared for it; the container reader is faulty, and the message was not completed.',
} as const;

export type ItemCode = keyof typeof ITEM_CODES;

export function isItemCode(code: string): code is ItemCode {
  return Object.hasOwn(ITEM_CODES, code);
}

/** An error with a stable item code. `detail` says what was found; `entry` names the entry at fault. */
export class ItemError extends Error {
  readonly code: ItemCode;
  readonly detail: string | undefined;
  readonly entry: string | undefined;

  constructor(code: ItemCode, detail?: string, options?: { entry?: string | undefined; cause?: unknown }) {
    super(detail ?? ITEM_CODES[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ItemError';
    this.code = code;
    this.detail = detail;
    this.entry = options?.entry;
  }

  /** The catalogue sentence followed by what was found: what a person reads. */
  get explanation(): string {
    return this.detail ? `${ITEM_CODES[this.code]} (${this.detail})` : ITEM_CODES[this.code];
  }
}

export function isItemError(e: unknown): e is ItemError {
  return e instanceof ItemError;
}
