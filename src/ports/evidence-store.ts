// The evidence store: every file a connector fetched, kept as received, named
// by its SHA-256 and read-only, under XIP_HOME (src/evidence/ implements it
// on the file system). A container is verified from its stored copy, so what
// was verified is what an auditor can take out later (xip evidence export),
// rejected files too. What a file is (its names, sources, verdict) is the
// ledger's to record; the store only keeps bytes.
import type { Readable } from 'node:stream';

export interface EvidenceFile {
  /** Lower-case hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly size: number;
  /** When the bytes were first stored. */
  readonly storedAt: Date;
}

export interface EvidenceStore {
  /**
   * Streams the bytes in: written to a private temporary file while hashed,
   * flushed to disk, then renamed to the name of its SHA-256 and made
   * read-only. When a file of that SHA-256 is already stored, the new copy is
   * discarded and `created` is false. A stream that errors stores nothing
   * (the error is rethrown as it came).
   */
  put(bytes: Readable): Promise<EvidenceFile & { readonly created: boolean }>;
  /** The stored file, or undefined. */
  stat(sha256: string): Promise<EvidenceFile | undefined>;
  /** The stored bytes (EVIDENCE_NOT_FOUND when absent). */
  open(sha256: string): Promise<Readable>;
  /** Every stored file, oldest first. */
  list(): AsyncIterable<EvidenceFile>;
  /** Re-reads the stored bytes and tells whether they still hash to their name (EVIDENCE_NOT_FOUND when absent). */
  check(sha256: string): Promise<boolean>;
}
