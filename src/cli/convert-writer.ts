// The files of `xip convert`: one `<32 hex>.eml` per message, named from a
// hash of its Message-ID (never from input: a Message-ID is the sender's
// text, and `<../../x@evil>` must not pick a path), each written whole under
// a temporary name and then given its final name, never replacing a file.
//
// Files are written several at a time, in a window bounded by count and by
// declared bytes, so that conversion (on the main thread) and the file
// system calls (on libuv's threads) overlap while memory stays bounded
// whatever the message sizes. Which item gets which name, and every byte,
// is decided before a write starts, so the output does not depend on the
// order in which writes finish.
//
// No fsync: this is an export from a signed container that stays the
// record, not the archive itself. A process that is killed leaves only whole
// files under their final names (and `.partial` files, which are never
// renamed); after a crash of the machine itself, files written just before
// it may be empty or missing — convert again into an empty directory.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isXipError } from '../errors.js';

/** `<first 32 hex digits of SHA-256 of the Message-ID>.eml`: a fixed, safe shape whatever the Message-ID holds. */
export function emlFileName(messageId: string): string {
  return `${createHash('sha256').update(messageId, 'utf8').digest('hex').slice(0, 32)}.eml`;
}

export interface WindowLimits {
  /** Files being written at once. */
  readonly files: number;
  /** Declared message bytes being written at once; a larger message is written alone. */
  readonly bytes: number;
}

// 32 files keep libuv's four threads busy while the main thread converts;
// more gained nothing measurable on a 2-core machine (bench/RESULTS.md).
export const DEFAULT_WINDOW: WindowLimits = Object.freeze({ files: 32, bytes: 32 * 1024 * 1024 });

export interface MessageFile {
  readonly size: number;
  open(): Readable;
}

export type WriteOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/** EEXIST at the final name: the file is left as it was. */
export const TARGET_EXISTS = 'EXTRACT_TARGET_EXISTS';

export class EmlWriter {
  private inFlight = 0;
  private bytesInFlight = 0;
  private waiting: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private sequence = 0;

  constructor(
    private readonly dir: string,
    private readonly limits: WindowLimits = DEFAULT_WINDOW,
  ) {
    if (!(limits.files >= 1 && limits.bytes >= 0)) throw new TypeError('EmlWriter: at least one file at a time');
  }

  /**
   * Waits for room in the window, then starts writing `name` and returns;
   * `done` receives the outcome when the file is in place (or was not
   * written).
   */
  async write(name: string, message: MessageFile, done: (outcome: WriteOutcome) => void): Promise<void> {
    while (!this.fits(message.size)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    this.bytesInFlight += message.size;
    void this.writeOne(name, message).then(done, (e: unknown) => done(failure(e))).finally(() => {
      this.inFlight--;
      this.bytesInFlight -= message.size;
      for (const wake of this.waiting.splice(0)) wake();
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  /** Resolves when every file started has been written or has failed. */
  async idle(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private fits(size: number): boolean {
    return this.inFlight === 0 || (this.inFlight < this.limits.files && this.bytesInFlight + size <= this.limits.bytes);
  }

  /**
   * Writes under a temporary name in the same directory, then link(2)s it to
   * the final name and removes the temporary one. Unlike rename(2), link
   * fails with EEXIST instead of replacing a file that is already there.
   */
  private async writeOne(name: string, message: MessageFile): Promise<WriteOutcome> {
    const target = join(this.dir, name);
    const temp = join(this.dir, `.${name}.${process.pid}-${++this.sequence}.partial`);
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
        await link(temp, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { ok: false, code: TARGET_EXISTS, message: `${name} already exists in the destination; it was left as it was` };
        throw e;
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

function failure(e: unknown): WriteOutcome {
  if (isXipError(e)) return { ok: false, code: e.code, message: e.message };
  const err = e as NodeJS.ErrnoException;
  return { ok: false, code: 'IO_ERROR', message: err.code ? `${err.code}: ${err.message}` : String(err.message ?? e) };
}
