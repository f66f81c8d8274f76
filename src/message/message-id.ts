import { createHash } from 'node:crypto';

/** The first 32 hex digits of SHA-256(source "\0" id): the Message-ID's local part (xip-items.md §3). */
export function itemDigest(source: string, id: string): string {
  return createHash('sha256').update(`${source}\0${id}`, 'utf8').digest('hex').slice(0, 32);
}

/** §3: "<" + itemDigest + "@xip.invalid>"; the same item always gets the same id. */
export function messageIdFor(source: string, id: string): string {
  return `<${itemDigest(source, id)}@xip.invalid>`;
}
