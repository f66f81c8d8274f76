// A connector source on an Azure Blob Storage container (or a "folder" of
// it): lists the *.xip blobs directly under the prefix and hands out their
// bytes, through @azure/storage-blob. Read-only: a SAS with read and list
// permissions is enough, and nothing is moved or deleted (ports/container-source.ts).
//
// The SDK's own patience is cut down: by default it retries a dead endpoint
// for tens of seconds and waits for an answer forever. Here every operation
// runs under a watchdog (no answer, or no data, for `timeoutMs` aborts it)
// and the retries are few and short, so a dead server fails the run within
// seconds and the next scheduled run tries again.
import { Readable } from 'node:stream';
import { AnonymousCredential, ContainerClient, StorageSharedKeyCredential, type StoragePipelineOptions } from '@azure/storage-blob';
import { XipError } from '../errors.js';
import type { ConnectorSource, SourceFile } from '../ports/container-source.js';
import { listError, readError, type AzureErrorContext, type OwnAbort } from './azure-errors.js';
import type { AzureLocation } from './azure-location.js';

export { parseAzureUrl, type AzureLocation } from './azure-location.js';

export type AzureCredential =
  | { kind: 'key'; accountKey: string }
  | { kind: 'sas'; sas: string /* query string with or without leading '?' */ };

export const DEFAULT_TIMEOUT_MS = 30_000;
// Per request: one try and two retries, 0.5 s then 1 s apart (exponential), for a passing hiccup only.
const RETRY_OPTIONS = { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 2_000 };
// A download that breaks off is resumed from where it stopped at most this often (the SDK's default is 5).
export const DOWNLOAD_RESUMES = 2;

/** The container URL with the prefix: what logs and `show` print. */
function describe(location: AzureLocation): string {
  return `${location.serviceUrl}/${location.container}${location.prefix === '' ? '' : `/${location.prefix}`}`;
}

/**
 * Aborts an operation that hears nothing for `ms`: armed while we wait for
 * the service, re-armed by every answer or chunk, disarmed while the reader
 * of a download holds back (that wait is not the server's fault).
 */
export class Watchdog {
  readonly controller = new AbortController();
  private timedOut = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly ms: number) {}
  arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.ms);
  }
  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
  /** close() of the source: ends what still runs. */
  close(): void {
    this.disarm();
    this.closed = true;
    this.controller.abort();
  }
  /** For the error mapping: whether the SDK's AbortError was our doing, and why. */
  get own(): OwnAbort {
    if (this.timedOut) return { timedOutMs: this.ms };
    return this.closed ? { closed: true } : undefined;
  }
}

/**
 * The container's client, with the few short retries, and what its error
 * messages may say (the secrets to scrub). The client only builds requests:
 * nothing connects until it is used. CONFIG_INVALID for a malformed key or a
 * SAS without a signature.
 */
export function azureContainer(location: AzureLocation, credential: AzureCredential): { container: ContainerClient; context: AzureErrorContext } {
  const context: AzureErrorContext = { where: describe(location), credentialKind: credential.kind, secrets: secretsOf(credential) };
  const pipeline: StoragePipelineOptions = { retryOptions: RETRY_OPTIONS };
  const containerUrl = `${location.serviceUrl}/${encodeURIComponent(location.container)}`;
  const container = credential.kind === 'key'
    ? new ContainerClient(containerUrl, new StorageSharedKeyCredential(location.accountName, checkedKey(credential.accountKey)), pipeline)
    : new ContainerClient(`${containerUrl}?${checkedSas(credential.sas)}`, new AnonymousCredential(), pipeline);
  return { container, context };
}

export function azureBlobSource(location: AzureLocation, credential: AzureCredential, options?: { timeoutMs?: number }): ConnectorSource {
  const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // The client only builds requests: nothing connects until list() or open().
  const { container, context } = azureContainer(location, credential);
  const where = context.where;
  const running = new Set<Watchdog>();
  const watch = (): Watchdog => {
    const dog = new Watchdog(timeoutMs);
    running.add(dog);
    dog.controller.signal.addEventListener('abort', () => running.delete(dog));
    dog.arm();
    return dog;
  };

  return {
    description: where,
    async list() {
      const dog = watch();
      try {
        return await listXip(container, location.prefix, dog);
      } catch (e) {
        throw listError(e, context, dog.own);
      } finally {
        dog.disarm();
        running.delete(dog);
      }
    },
    async open(file) {
      const dog = watch();
      try {
        const stream = await download(container, location.prefix, file, dog, context);
        stream.once('close', () => running.delete(dog));
        return stream;
      } catch (e) {
        dog.disarm();
        running.delete(dog);
        throw readError(e, file.name, context, dog.own);
      }
    },
    async close() {
      // The SDK keeps no session, only keep-alive sockets that Node lets go; abort what still runs.
      for (const dog of [...running]) dog.close();
    },
  };
}

/** The *.xip blobs directly under the prefix, sorted by name; '/' as delimiter leaves "sub-folders" out. */
async function listXip(container: ContainerClient, prefix: string, dog: Watchdog): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  const pages = container.listBlobsByHierarchy('/', { ...(prefix === '' ? {} : { prefix }), abortSignal: dog.controller.signal }).byPage({ maxPageSize: 5000 });
  for await (const page of pages) {
    dog.arm(); // a large container takes many pages: the timeout is per page, not for the whole listing
    for (const blob of page.segment.blobItems) {
      const name = blob.name.slice(prefix.length);
      if (!blob.name.startsWith(prefix) || !name.toLowerCase().endsWith('.xip')) continue;
      files.push({ name, size: blob.properties.contentLength ?? 0, modified: blob.properties.lastModified });
    }
  }
  // By UTF-16 code units, the same order on every machine (no locale).
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function download(container: ContainerClient, prefix: string, file: SourceFile, dog: Watchdog, context: AzureErrorContext): Promise<Readable> {
  const blob = container.getBlobClient(`${prefix}${file.name}`);
  const response = await blob.download(0, undefined, { abortSignal: dog.controller.signal, maxRetryRequests: DOWNLOAD_RESUMES });
  const body = response.readableStreamBody;
  if (!body) throw new XipError('SOURCE_READ_FAILED', `${file.name} from ${context.where}: the service sent no body`);
  if (response.contentLength !== file.size) {
    (body as Readable).destroy();
    throw new XipError('SOURCE_READ_FAILED', `${file.name} from ${context.where}: the blob is now ${response.contentLength ?? 'of unknown size'} bytes, listed as ${file.size}: it changed since it was listed`);
  }
  return new CountedDownload(body as Readable, file, dog, context);
}

/** How a CountedDownload words its failures: by default as a source's SOURCE_READ_FAILED (readError). */
export interface DownloadErrors {
  /** The bytes that came were not the size expected (`why` says how). */
  short(why: string): XipError;
  /** The transfer failed (the SDK's or our watchdog's error). */
  failed(error: unknown, own: OwnAbort): XipError;
}

/**
 * The blob's bytes, counted: ends only when exactly file.size bytes came,
 * otherwise fails with SOURCE_READ_FAILED. The SDK resumes a broken
 * transfer itself (DOWNLOAD_RESUMES) and then gives up with an error, or
 * with a short end we must not pass on as the whole file.
 */
export class CountedDownload extends Readable {
  private received = 0;
  private readonly errors: DownloadErrors;

  constructor(private readonly source: Readable, private readonly file: SourceFile, private readonly dog: Watchdog, private readonly context: AzureErrorContext, errors?: DownloadErrors) {
    super({ highWaterMark: 1024 * 1024 });
    this.errors = errors ?? {
      short: (why) => new XipError('SOURCE_READ_FAILED', `${this.file.name} from ${this.context.where}: ${why}`),
      failed: (e, own) => readError(e, this.file.name, this.context, own),
    };
    source.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      this.dog.arm();
      if (this.received > file.size) {
        this.destroy(this.failure(`more than the ${file.size} bytes listed arrived`));
      } else if (!this.push(chunk)) {
        source.pause();
        this.dog.disarm(); // our reader holds back: not the server's silence
      }
    });
    source.once('end', () => {
      this.dog.disarm();
      if (this.received === file.size) this.push(null);
      else this.destroy(this.failure(`the transfer ended after ${this.received} of ${file.size} bytes`));
    });
    source.once('error', (e) => this.destroy(this.errors.failed(e, dog.own)));
  }

  private failure(why: string): XipError {
    return this.errors.short(why);
  }

  override _read(): void {
    if (this.source.isPaused()) {
      this.dog.arm();
      this.source.resume();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.dog.disarm();
    this.source.destroy();
    // Whatever broke, the reader gets a SOURCE_READ_FAILED with a scrubbed message, never the SDK's error.
    callback(error === null ? null : this.errors.failed(error, this.dog.own));
  }
}

function checkedKey(key: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new XipError('CONFIG_INVALID', 'credential: the account key must be the base64 key shown under the storage account\'s "Access keys"');
  return key;
}

function checkedSas(sas: string): string {
  const query = sas.replace(/^\?/, '');
  // Without a signature the SDK would send anonymous requests, which a private container answers with a misleading 404.
  if (!new URLSearchParams(query).has('sig')) throw new XipError('CONFIG_INVALID', 'credential: the SAS has no "sig=" parameter; paste the whole SAS token (sv=...&sig=...)');
  return query;
}

/** The forms in which a credential could show up in a message: whole, and the SAS signature raw and percent-encoded. */
function secretsOf(credential: AzureCredential): string[] {
  if (credential.kind === 'key') return [credential.accountKey];
  const query = credential.sas.replace(/^\?/, '');
  const sig = new URLSearchParams(query).get('sig') ?? '';
  return [credential.sas, query, sig, encodeURIComponent(sig)].filter((s) => s !== '');
}
