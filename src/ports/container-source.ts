// Where the XIP files of a run come from. The import run takes a
// ContainerSource rather than file paths, so that the command line (files
// named on it), a folder, SFTP or Azure Blob sources (src/sources/) all feed
// the same run. The run stages each container privately (xip/container.ts)
// before reading a byte of it as a container: a source only has to hand out
// the bytes once.
import type { Readable } from 'node:stream';

export interface ContainerRef {
  /** How the source names the file (a path, a remote name): for the run log and the ledger. */
  readonly name: string;
  /** The file's bytes, read once, front to back. */
  open(): Promise<Readable>;
}

export interface ContainerSource {
  /** What the source offers for this run, in the order to import. */
  list(): AsyncIterable<ContainerRef>;
}
