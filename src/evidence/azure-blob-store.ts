// The evidence store on Azure Blob Storage (ports/evidence-store.ts), for
// several workers on several machines that must see the same files: the
// layout of the file store (store.ts) as blob names in one container,
//
//   PREFIXsha256/ab/abcdef…   a stored file, named by its SHA-256
//   PREFIXtmp/PID-RANDOM      a file being stored (azure-blob-put.ts)
//
// What protects a stored file: the store itself never writes a name that
// exists (every write to sha256/ is a copy with If-None-Match: *) and
// check() finds altered bytes out. It cannot make a blob read-only: whoever
// holds a key or a SAS with write permission can still overwrite or delete
// it. Only the container's immutability policy (time-based retention or
// legal hold), or versioning with soft delete, stops that; this code does not
// set or check one (docs/operations.md, "Evidence in Azure Blob Storage").
//
// When a file was stored is the blob's metadata `storedat` (ISO 8601, with
// milliseconds), written by the copy that stores it; a blob without it (put
// there by hand) counts from its creation time.
//
// Requests go through the Azure source's client (sources/azure-blob.ts): few
// short retries and a watchdog per request (timeoutMs), and its errors are
// scrubbed of the key and SAS (sources/azure-errors.ts).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobGetPropertiesResponse, BlobItem } from '@azure/storage-blob';
import { XipError } from '../errors.js';
import type { EvidenceFile, EvidenceStore } from '../ports/evidence-store.js';
import { azureContainer, CountedDownload, DEFAULT_TIMEOUT_MS, DOWNLOAD_RESUMES, Watchdog, type AzureCredential } from '../sources/azure-blob.js';
import type { AzureLocation } from '../sources/azure-location.js';
import { putAzure } from './azure-blob-put.js';
import { checkedSha, isBlobAbsent, shaOfName, storeError, storedName, timed, type AzureStoreContext } from './azure-blob-requests.js';

export interface AzureEvidenceOptions {
  /** No answer (or no data) for this long fails a request; 30 s by default. */
  readonly timeoutMs?: number;
}

/**
 * The store in the location's container, under its prefix. Nothing connects
 * until the first call; the container must exist (the store creates only
 * blobs). CONFIG_INVALID for a malformed key or a SAS without a signature.
 */
export function azureEvidenceStore(location: AzureLocation, credential: AzureCredential, options?: AzureEvidenceOptions): EvidenceStore {
  const { container, context } = azureContainer(location, credential);
  const store: AzureStoreContext = { container, errors: context, prefix: location.prefix, timeoutMs: options?.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  const stat = (sha256: string) => statStored(store, sha256);
  return {
    put: (bytes) => putAzure(store, bytes, stat),
    stat: async (sha256) => (/^[0-9a-f]{64}$/.test(sha256) ? stat(sha256) : undefined),
    open: async (sha256) => openStored(store, checkedSha(sha256)),
    list: () => listStored(store),
    check: async (sha256) => checkStored(store, checkedSha(sha256)),
  };
}

function storedAt(metadata: Record<string, string> | undefined, created: Date | undefined, modified: Date | undefined): Date {
  const stamped = metadata?.storedat === undefined ? NaN : Date.parse(metadata.storedat);
  return Number.isNaN(stamped) ? (created ?? modified ?? new Date(0)) : new Date(stamped);
}

function fromProperties(sha256: string, p: BlobGetPropertiesResponse): EvidenceFile {
  return { sha256, size: p.contentLength ?? 0, storedAt: storedAt(p.metadata, p.createdOn, p.lastModified) };
}

function fromItem(sha256: string, item: BlobItem): EvidenceFile {
  return { sha256, size: item.properties.contentLength ?? 0, storedAt: storedAt(item.metadata, item.properties.createdOn, item.properties.lastModified) };
}

async function statStored(store: AzureStoreContext, sha256: string): Promise<EvidenceFile | undefined> {
  const blob = store.container.getBlobClient(storedName(store, sha256));
  return timed(store, `reading ${sha256}`, async (signal) => {
    try {
      return fromProperties(sha256, await blob.getProperties({ abortSignal: signal }));
    } catch (e) {
      if (isBlobAbsent(e)) return undefined;
      throw e;
    }
  });
}

// No `cause`: the SDK's error holds the request, and with a SAS its URL.
function notFound(sha256: string): XipError {
  return new XipError('EVIDENCE_NOT_FOUND', `no stored file has the SHA-256 ${sha256}`);
}

/** The stored bytes, counted against the size the service announced, under a watchdog while they flow. */
async function openStored(store: AzureStoreContext, sha256: string): Promise<Readable> {
  const doing = `reading ${sha256}`;
  const dog = new Watchdog(store.timeoutMs);
  dog.arm();
  try {
    const response = await store.container.getBlobClient(storedName(store, sha256)).download(0, undefined, { abortSignal: dog.controller.signal, maxRetryRequests: DOWNLOAD_RESUMES });
    const body = response.readableStreamBody as Readable | undefined;
    if (!body || response.contentLength === undefined) throw new XipError('IO_ERROR', `the evidence store ${store.errors.where}: ${doing}: the service sent no body`);
    const file = { name: sha256, size: response.contentLength, modified: response.lastModified ?? new Date(0) };
    return new CountedDownload(body, file, dog, store.errors, {
      short: (why) => new XipError('IO_ERROR', `the evidence store ${store.errors.where}: ${doing}: ${why}`),
      failed: (e, own) => storeError(e, doing, store.errors, own),
    });
  } catch (e) {
    dog.disarm();
    if (isBlobAbsent(e)) throw notFound(sha256);
    throw storeError(e, doing, store.errors, dog.own);
  }
}

async function checkStored(store: AzureStoreContext, sha256: string): Promise<boolean> {
  const hash = createHash('sha256');
  for await (const chunk of await openStored(store, sha256)) hash.update(chunk as Buffer);
  return hash.digest('hex') === sha256;
}

/**
 * Every stored file, oldest first. The service lists by name only, so the
 * whole listing is read and then sorted in memory: fine for now, as in the
 * file store; a store of very many files would want an index (the ledger's
 * evidence rows already hold the times).
 */
async function* listStored(store: AzureStoreContext): AsyncIterable<EvidenceFile> {
  const found: EvidenceFile[] = [];
  const dog = new Watchdog(store.timeoutMs);
  dog.arm();
  try {
    const pages = store.container.listBlobsFlat({ prefix: `${store.prefix}sha256/`, includeMetadata: true, abortSignal: dog.controller.signal }).byPage({ maxPageSize: 5000 });
    for await (const page of pages) {
      dog.arm(); // per page, not for the whole listing
      for (const item of page.segment.blobItems) {
        // Only names the store gives; anything else is not evidence.
        const sha256 = shaOfName(store, item.name);
        if (sha256 !== undefined) found.push(fromItem(sha256, item));
      }
    }
  } catch (e) {
    throw storeError(e, 'listing the stored files', store.errors, dog.own);
  } finally {
    dog.disarm();
  }
  found.sort((a, b) => a.storedAt.getTime() - b.storedAt.getTime() || (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  yield* found;
}
