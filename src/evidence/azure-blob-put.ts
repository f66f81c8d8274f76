// put() of the Azure evidence store (azure-blob-store.ts): the bytes are
// staged as blocks of a temporary blob PREFIXtmp/PID-RANDOM while hashed (a
// few blocks in memory at a time, never the whole file), committed, then
// copied server-side to PREFIXsha256/ab/SHA only if no blob has that name
// (If-None-Match: *), with the time in its metadata (storedat, ISO 8601).
// Of two workers putting the same bytes at once, the service lets exactly one
// copy succeed; the other gets 409 or 412 and reports created: false. The
// temporary blob is deleted afterwards, best effort.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';
import { XipError } from '../errors.js';
import type { EvidenceFile } from '../ports/evidence-store.js';
import { fields } from '../sources/azure-errors.js';
import { storedName, timed, type AzureStoreContext } from './azure-blob-requests.js';

/** Bytes per staged block: 8 MiB, so that 50,000 blocks (the service's limit) hold 390 GiB. */
const BLOCK_BYTES = 8 * 1024 * 1024;
/** Blocks uploading at once while the next one fills: the memory used is about (IN_FLIGHT + 1) × BLOCK_BYTES. */
const IN_FLIGHT = 2;
const COPY_POLL_MS = 500;

export async function putAzure(
  store: AzureStoreContext,
  bytes: Readable,
  statStored: (sha256: string) => Promise<EvidenceFile | undefined>,
): Promise<EvidenceFile & { readonly created: boolean }> {
  const tmp = store.container.getBlockBlobClient(`${store.prefix}tmp/${process.pid}-${randomBytes(12).toString('hex')}`);
  let committed = false;
  try {
    const sha256 = await stageHashed(store, tmp, bytes);
    committed = true;
    const created = await publish(store, tmp, sha256);
    const stored = await statStored(sha256);
    if (!stored) throw new XipError('IO_ERROR', `the evidence store ${store.errors.where}: ${sha256} was stored but cannot be found`);
    return { ...stored, created };
  } finally {
    await discard(store, tmp, committed);
  }
}

/**
 * Stages the stream as blocks of `tmp` while hashing it, and commits them.
 * An error of the stream itself is rethrown as it came (after the blocks
 * in flight settle); the service's errors as storeError words them.
 */
async function stageHashed(store: AzureStoreContext, tmp: BlockBlobClient, bytes: Readable): Promise<string> {
  const hash = createHash('sha256');
  const blocks: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failed: unknown;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const stage = async (): Promise<void> => {
    // The chunks as they came, sent as a stream (made again for a retry): no copy into one buffer.
    const chunks = pending;
    const length = pendingBytes;
    pending = [];
    pendingBytes = 0;
    // Block ids must all have the same length within a blob.
    const id = Buffer.from(`block-${String(blocks.length).padStart(6, '0')}`).toString('base64');
    blocks.push(id);
    const body = () => Readable.from(chunks, { objectMode: false });
    const sent: Promise<void> = timed(store, 'storing a new file', (signal, progress) => tmp.stageBlock(id, body, length, { abortSignal: signal, onProgress: progress })).then(
      () => undefined,
      (e: unknown) => {
        failed ??= e;
      },
    );
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    if (failed !== undefined) throw failed;
  };
  try {
    for await (const chunk of bytes) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      hash.update(buf);
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes >= BLOCK_BYTES) await stage();
    }
    if (pendingBytes > 0) await stage();
    await Promise.all(inFlight);
    if (failed !== undefined) throw failed;
  } catch (e) {
    // Nothing may still write to the temporary blob when it is discarded.
    await Promise.allSettled(inFlight);
    throw e;
  }
  await timed(store, 'storing a new file', (signal) => tmp.commitBlockList(blocks, { abortSignal: signal }));
  return hash.digest('hex');
}

/** Copies the temporary blob to its final name unless a blob has that name already; true when this copy made it. */
async function publish(store: AzureStoreContext, tmp: BlockBlobClient, sha256: string): Promise<boolean> {
  const final = store.container.getBlobClient(storedName(store, sha256));
  const doing = `storing ${sha256}`;
  // Within one account the key authorizes the copy's source; with a SAS,
  // tmp.url carries it (the SAS needs read for that).
  const poller = await timed(store, doing, async (signal) => {
    try {
      return await final.beginCopyFromURL(tmp.url, { conditions: { ifNoneMatch: '*' }, metadata: { storedat: new Date().toISOString() }, abortSignal: signal, intervalInMs: COPY_POLL_MS });
    } catch (e) {
      // Another worker (or an earlier put) stored the same bytes first: 409
      // BlobAlreadyExists or PendingCopyOperation, or 412 ConditionNotMet.
      const status = fields(e).statusCode;
      if (status === 409 || status === 412) return undefined;
      throw e;
    }
  });
  if (poller === undefined) return false;
  // Within one account a copy is usually done at once; otherwise it is
  // polled, each poll under the watchdog. A copy that fails leaves a blob
  // that is not the evidence: it is removed (it is ours: the name was free).
  try {
    while (!poller.isDone()) {
      await new Promise((r) => setTimeout(r, COPY_POLL_MS));
      await timed(store, doing, (signal) => poller.poll({ abortSignal: signal }));
    }
  } catch (e) {
    await timed(store, doing, (signal) => final.deleteIfExists({ abortSignal: signal })).catch(() => undefined);
    throw e;
  }
  return true;
}

/**
 * Removes the temporary blob, best effort (the put's own outcome stands).
 * When it was never committed (the stream failed), committing an empty list
 * first turns the staged blocks into an empty blob that can be deleted:
 * Azure keeps uncommitted blocks for a week and has no blob to delete before
 * a commit (Azurite deletes them directly, so the tests cannot tell this step
 * is needed). Under a container immutability policy the delete is refused:
 * docs/operations.md says how such leftovers are cleared.
 */
async function discard(store: AzureStoreContext, tmp: BlockBlobClient, committed: boolean): Promise<void> {
  const doing = 'removing a temporary blob';
  if (!committed) await timed(store, doing, (signal) => tmp.commitBlockList([], { abortSignal: signal })).catch(() => undefined);
  await timed(store, doing, (signal) => tmp.deleteIfExists({ abortSignal: signal })).catch(() => undefined);
}
