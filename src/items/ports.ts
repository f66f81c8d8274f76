// The one port through which items/ and message/ see a container. The
// container layer (xip/) implements it once every verification step of
// xip-format.md §4 has passed; tests implement it over a plain directory
// (test-support/dir-entries.ts). Nothing here may import from xip/.
import type { Readable } from 'node:stream';

export interface DataEntry {
  readonly name: string;
  readonly size: number;
  readonly sha256: string /* hex */;
  readonly mimeType: string;
}

/** A container that passed every verification step. */
export interface VerifiedEntries {
  readonly sha256: string; // of the XIP file (hex)
  readonly signer: { readonly subject: string; readonly sha256: string };
  readonly packageSource: string | undefined; // xip:Package @source, if present
  readonly packageItems?: number | undefined; // xip:Package @items, if present
  readonly entries: readonly DataEntry[]; // manifest order
  openEntry(name: string): Readable; // uncompressed bytes (may be re-opened any number of times)
}
