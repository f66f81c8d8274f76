// What the Azure evidence store's operations share (azure-blob-store.ts, and
// azure-blob-put.ts for put): the container, the blob names, one request
// under a watchdog, and the SDK's errors turned into XipErrors with the key
// or SAS scrubbed out (sources/azure-errors.ts does the scrubbing).
import type { ContainerClient } from '@azure/storage-blob';
import { XipError } from '../errors.js';
import { Watchdog } from '../sources/azure-blob.js';
import { fields, isAuthFailure, summary, type AzureErrorContext, type OwnAbort } from '../sources/azure-errors.js';

export interface AzureStoreContext {
  readonly container: ContainerClient;
  /** The container URL with prefix, the credential's kind and the secrets to scrub. */
  readonly errors: AzureErrorContext;
  /** '' or 'a/b/': every name of the store is under it. */
  readonly prefix: string;
  readonly timeoutMs: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The blob name of a stored file: PREFIXsha256/ab/abcdef… (the same layout as the file store). */
export function storedName(store: AzureStoreContext, sha256: string): string {
  return `${store.prefix}sha256/${sha256.slice(0, 2)}/${sha256}`;
}

/** The SHA-256 a blob name stands for, or undefined when the name is not one the store gives. */
export function shaOfName(store: AzureStoreContext, name: string): string | undefined {
  const rest = name.startsWith(`${store.prefix}sha256/`) ? name.slice(store.prefix.length + 'sha256/'.length) : '';
  const [fan, sha, ...more] = rest.split('/');
  return more.length === 0 && sha !== undefined && SHA256.test(sha) && fan === sha.slice(0, 2) ? sha : undefined;
}

/** EVIDENCE_NOT_FOUND for an argument that is not 64 lower-case hex digits (as the file store says it). */
export function checkedSha(sha256: string): string {
  if (SHA256.test(sha256)) return sha256;
  const shown = JSON.stringify(sha256.length > 80 ? `${sha256.slice(0, 80)}…` : sha256);
  throw new XipError('EVIDENCE_NOT_FOUND', `${shown} is not a SHA-256: expected 64 lower-case hex digits`);
}

/** A 404 about the blob (not about the container, which is a fault of the setup). */
export function isBlobAbsent(error: unknown): boolean {
  const e = fields(error);
  return e.statusCode === 404 && e.code !== 'ContainerNotFound';
}

/**
 * One request under a watchdog of its own: no answer (or no progress) for
 * timeoutMs aborts it. `op` handles the answers it expects (a 404, a 412); anything else
 * becomes an XipError through storeError.
 */
export async function timed<T>(store: AzureStoreContext, doing: string, op: (signal: AbortSignal, progress: () => void) => Promise<T>): Promise<T> {
  const dog = new Watchdog(store.timeoutMs);
  dog.arm();
  try {
    // `progress` re-arms it: a large upload on a slow link is not silence.
    return await op(dog.controller.signal, () => dog.arm());
  } catch (e) {
    throw storeError(e, doing, store.errors, dog.own);
  } finally {
    dog.disarm();
  }
}

/**
 * The SDK's error as IO_ERROR (the catalogue has no code of its own for a
 * remote evidence store yet; the SOURCE_ codes would send the reader to
 * `xip connector edit`), its text scrubbed of the key and SAS.
 */
export function storeError(error: unknown, doing: string, context: AzureErrorContext, own?: OwnAbort): XipError {
  if (error instanceof XipError) return error;
  const where = `the evidence store ${context.where}`;
  if (own && 'timedOutMs' in own) return new XipError('IO_ERROR', `${where}: ${doing}: no answer within ${own.timedOutMs} ms`);
  const e = fields(error);
  if (isAuthFailure(e)) {
    const what = context.credentialKind === 'sas' ? 'XIP_EVIDENCE_SAS' : 'XIP_EVIDENCE_ACCOUNT_KEY';
    return new XipError('IO_ERROR', `${where} refused ${what} while ${doing} (${summary(e, context)}); check it, and that it allows read, add, create, write, delete and list`);
  }
  if (e.statusCode === 404 && e.code === 'ContainerNotFound') {
    return new XipError('IO_ERROR', `${where}: the container does not exist (${summary(e, context)}); create it (see docs/operations.md, "Evidence in Azure Blob Storage")`);
  }
  return new XipError('IO_ERROR', `${where}: ${doing} failed (${summary(e, context) || 'no detail'})`);
}
