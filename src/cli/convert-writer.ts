// The files of `xip convert`: one `<32 hex>.eml` per message, named from a
// hash of its Message-ID (never from input: a Message-ID is the sender's
// text, and `<"../../x"@evil>` must not pick a path), never replacing a
// file: created with O_EXCL under its final name (one create per file — a
// temporary name, a link and an unlink cost three directory operations, and
// on this project's disks the system time of those is what bounded the rate:
// bench/RESULTS.md), or, for a message too large for the window, written under
// a temporary name and linked into place.
//
// Small messages are read into memory and written in batches by one worker
// thread with synchronous calls, while the main thread goes on converting.
// One thread, not libuv's four: creating, linking and unlinking names in one
// directory all take that directory's lock, and four threads contending for
// it cost several times the system time of one doing the same calls in turn
// (bench/RESULTS.md). What is read and not yet written is bounded by a window
// of files and bytes; a message too large for the window is streamed to its
// file alone. Every name and byte is fixed before a write starts, so the
// output does not depend on the order in which writes end.
//
// No fsync: this is an export from a signed container that stays the
// record, not the archive itself. A process that is killed may leave the one
// small file being written incomplete (a write that fails removes its file);
// after a crash of the machine itself, files written just before it may be
// empty or missing — convert again into an empty directory (README).
import { createHash } from 'node:crypto';
import type * as Fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { link, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Worker, type MessagePort } from 'node:worker_threads';
import { isXipError, XipError } from '../errors.js';

/** `<first 32 hex digits of SHA-256 of the Message-ID>.eml`: a fixed, safe shape whatever the Message-ID holds. */
export function emlFileName(messageId: string): string {
  return `${createHash('sha256').update(messageId, 'utf8').digest('hex').slice(0, 32)}.eml`;
}

export interface WindowLimits {
  /** Files read into memory and not yet written. */
  readonly files: number;
  /** Bytes read into memory and not yet written; a larger message is streamed to its file alone. */
  readonly bytes: number;
}

// Batches of up to half the window go to the writer thread, so that one is
// being written while the next fills: 32 files a batch make the cost of a
// message between threads small per file, and 8 MiB bounds the memory
// whatever the message sizes.
export const DEFAULT_WINDOW: WindowLimits = Object.freeze({ files: 64, bytes: 8 * 1024 * 1024 });

export interface MessageFile {
  readonly size: number;
  open(): Readable;
}

export type WriteOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/** The code of a file that is already there: it is left as it was. */
export const TARGET_EXISTS = 'EXTRACT_TARGET_EXISTS';

/** Files whose bytes lie one after the other in `data`. */
export interface FileBatch {
  readonly files: readonly { readonly name: string; readonly length: number }[];
  readonly data: ArrayBuffer;
}

/** null when the file is in place, else the errno code and message; `atTarget` when the final name was the fault (EEXIST: taken). */
export type FileResult = null | { readonly errno: string; readonly message: string; readonly atTarget?: boolean };

/** Where batches are written: the worker thread, or a fake in tests. */
export interface BatchSink {
  write(batch: FileBatch): Promise<FileResult[]>;
  close(): Promise<void>;
}

/**
 * Writes each file of a batch under its final name, created with O_EXCL
 * ('wx'): EEXIST instead of replacing a file that is already there; a file
 * whose write fails is removed. Run in the worker thread, so it takes its
 * `fs` as an argument and closes over nothing.
 */
export function writeBatchSync(fs: typeof Fs, batch: FileBatch): FileResult[] {
  const results: FileResult[] = [];
  let offset = 0;
  for (const file of batch.files) {
    const bytes = new Uint8Array(batch.data, offset, file.length);
    offset += file.length;
    let fd: number | undefined;
    try {
      fd = fs.openSync(file.name, 'wx'); // O_EXCL: EEXIST when the name is taken, never a replacement
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      results.push({ errno: err.code ?? 'EIO', message: err.message, atTarget: true });
      continue;
    }
    try {
      for (let written = 0; written < bytes.length; ) written += fs.writeSync(fd, bytes, written, bytes.length - written, written);
      const closing = fd;
      fd = undefined;
      fs.closeSync(closing);
      results.push(null);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      results.push({ errno: err.code ?? 'EIO', message: err.message });
      if (fd !== undefined) {
        try {
          fs.closeSync(fd);
        } catch {
          // already failing: the first error is the one reported
        }
      }
      try {
        fs.unlinkSync(file.name); // ours, and not whole
      } catch {
        // gone already
      }
    }
  }
  return results;
}

function workerMain(port: MessagePort, fs: typeof Fs, write: typeof writeBatchSync): void {
  port.on('message', (batch: FileBatch) => port.postMessage(write(fs, batch)));
}

/** The writer thread. Its code is this module's own functions, passed as source: nothing for a loader to resolve. */
export function workerSink(): BatchSink {
  const worker = new Worker(`(${workerMain.toString()})(require('node:worker_threads').parentPort, require('node:fs'), ${writeBatchSync.toString()})`, { eval: true });
  const waiting: { resolve: (r: FileResult[]) => void; reject: (e: unknown) => void }[] = [];
  let failed: unknown;
  worker.on('message', (results: FileResult[]) => waiting.shift()?.resolve(results));
  const fail = (e: unknown): void => {
    failed ??= e;
    for (const w of waiting.splice(0)) w.reject(e);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the writer thread stopped (exit ${code})`)));
  return {
    write: (batch) =>
      failed !== undefined
        ? Promise.reject(failed)
        : new Promise((resolve, reject) => {
            waiting.push({ resolve, reject });
            worker.postMessage(batch, [batch.data]);
          }),
    close: async () => {
      failed ??= new Error('the writer thread was closed');
      await worker.terminate();
    },
  };
}

interface Pending {
  readonly name: string;
  readonly size: number;
  readonly bytes: Buffer;
  readonly done: (outcome: WriteOutcome) => void;
}

export class EmlWriter {
  private files = 0; // read into memory and not yet written
  private bytes = 0;
  private pending: Pending[] = []; // not yet handed to the sink
  private pendingBytes = 0;
  private room: (() => void)[] = [];
  private sequence = 0;
  private sink: BatchSink | undefined;

  constructor(
    private readonly dir: string,
    private readonly limits: WindowLimits = DEFAULT_WINDOW,
    private readonly makeSink: () => BatchSink = workerSink,
  ) {
    if (!(limits.files >= 2 && limits.bytes >= 2)) throw new TypeError('EmlWriter: a window of at least two files and two bytes');
  }

  /**
   * Reads the message, waiting for room in the window first, and queues it
   * for writing; `done` receives the outcome once the file is in place (or
   * was not written). Resolves when the next message may be given.
   */
  async write(name: string, message: MessageFile, done: (outcome: WriteOutcome) => void): Promise<void> {
    if (message.size > this.limits.bytes / 2) {
      await this.idle();
      done(await this.streamAlone(name, message));
      return;
    }
    while (this.files + 1 > this.limits.files || this.bytes + message.size > this.limits.bytes) {
      this.flush();
      await new Promise<void>((resolve) => this.room.push(resolve));
    }
    this.files++;
    this.bytes += message.size;
    let bytes: Buffer;
    try {
      bytes = await readAll(message);
    } catch (e) {
      this.release(1, message.size);
      done(failure(e));
      return;
    }
    this.pending.push({ name, size: message.size, bytes, done });
    this.pendingBytes += bytes.length;
    if (this.pending.length >= this.limits.files / 2 || this.pendingBytes >= this.limits.bytes / 2) this.flush();
  }

  /** Resolves when every message given so far has been written or has failed. */
  async idle(): Promise<void> {
    this.flush();
    while (this.files > 0) await new Promise<void>((resolve) => this.room.push(resolve));
  }

  /** Writes what is left, then stops the writer thread. */
  async close(): Promise<void> {
    try {
      await this.idle();
    } finally {
      await this.sink?.close();
      this.sink = undefined;
    }
  }

  private release(files: number, bytes: number): void {
    this.files -= files;
    this.bytes -= bytes;
    for (const wake of this.room.splice(0)) wake();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const files = this.pending;
    const data = new Uint8Array(this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let offset = 0;
    for (const f of files) {
      data.set(f.bytes, offset);
      offset += f.bytes.length;
    }
    const batch: FileBatch = {
      files: files.map((f) => ({ name: join(this.dir, f.name), length: f.bytes.length })),
      data: data.buffer,
    };
    this.sink ??= this.makeSink();
    const settle = (results: readonly FileResult[]): void => {
      files.forEach((f, i) => f.done(outcomeOf(f.name, results[i])));
      this.release(files.length, files.reduce((n, f) => n + f.size, 0));
    };
    this.sink.write(batch).then(settle, (e: unknown) => settle(files.map(() => ({ errno: 'EIO', message: `the writer thread failed: ${(e as Error).message ?? String(e)}` }))));
  }

  private tempName(name: string): string {
    return join(this.dir, `.${name}.${process.pid}-${++this.sequence}.partial`);
  }

  /** A message too large for the window, streamed from its source to its file, with the same temporary name and link. */
  private async streamAlone(name: string, message: MessageFile): Promise<WriteOutcome> {
    const temp = this.tempName(name);
    let fh: FileHandle | undefined;
    try {
      fh = await open(temp, 'wx');
      let position = 0;
      for await (const chunk of message.open() as AsyncIterable<Buffer>) {
        for (let offset = 0; offset < chunk.length; ) {
          const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset, position);
          offset += bytesWritten;
          position += bytesWritten;
        }
      }
      const closing = fh;
      fh = undefined;
      await closing.close();
      try {
        await link(temp, join(this.dir, name));
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        return outcomeOf(name, { errno: err.code ?? 'EIO', message: err.message, atTarget: true });
      }
      return { ok: true };
    } catch (e) {
      return failure(e);
    } finally {
      await fh?.close().catch(() => undefined); // already failing: the first error is the one reported
      await unlink(temp).catch(() => undefined); // gone, or never made
    }
  }
}

/** The message's bytes, exactly its declared size: a stream that yields more is stopped there, so the window holds. */
async function readAll(message: MessageFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of message.open() as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > message.size) throw new XipError('MESSAGE_INVALID', `the message stream yields more than the declared ${message.size} octets`);
    chunks.push(chunk);
  }
  if (length !== message.size) throw new XipError('MESSAGE_INVALID', `the message stream yielded ${length} octets, ${message.size} were declared`);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}

function outcomeOf(name: string, result: FileResult | undefined): WriteOutcome {
  if (result === null) return { ok: true };
  if (result === undefined) return { ok: false, code: 'IO_ERROR', message: `${name}: the writer thread gave no result` };
  if (result.errno === 'EEXIST' && result.atTarget) return { ok: false, code: TARGET_EXISTS, message: `${name} already exists in the destination; it was left as it was` };
  return { ok: false, code: 'IO_ERROR', message: `${result.errno}: ${result.message}` };
}

function failure(e: unknown): WriteOutcome {
  if (isXipError(e)) return { ok: false, code: e.code, message: e.message };
  const err = e as NodeJS.ErrnoException;
  return { ok: false, code: 'IO_ERROR', message: err.code ? `${err.code}: ${err.message}` : String(err.message ?? e) };
}
