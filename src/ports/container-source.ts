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

/**
 * A file a connector's source holds: a local folder, an SFTP folder or an
 * Azure Blob container (src/sources/). The connector (connector/daily.ts)
 * lists the source, keeps the files whose size and modification time did not
 * change between two listings (a file still being written is left for the
 * next run), fetches each new one into the evidence store and records it in
 * the ledger as taken. Sources never move, rename or delete what they list:
 * the source's copy stays as the sender left it, and an account with read
 * access is enough. What was taken is the ledger's to remember.
 */
export interface SourceFile {
  /** The file's name relative to the source's folder or prefix ('/'-separated): for logs and the ledger. */
  readonly name: string;
  readonly size: number;
  readonly modified: Date;
}

export interface ConnectorSource {
  /** Where the source reads, for logs and `show`: never a password, key or SAS. */
  readonly description: string;
  /**
   * The `*.xip` files there now (not those of sub-folders), sorted by name.
   * Throws an XipError: SOURCE_UNREACHABLE, SOURCE_AUTH_FAILED,
   * SOURCE_HOST_KEY_MISMATCH or SOURCE_NOT_FOUND.
   */
  list(): Promise<SourceFile[]>;
  /**
   * The file's bytes, front to back. A transfer that breaks off makes the
   * stream emit an XipError SOURCE_READ_FAILED (never a silent short end).
   */
  open(file: SourceFile): Promise<Readable>;
  /** Ends connections; the source is not used again. */
  close(): Promise<void>;
}
