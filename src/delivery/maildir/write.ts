// Writes a batch of messages into one Maildir folder, the Maildir way
// (https://cr.yp.to/proto/maildir.html): each file is written in tmp/ under a
// unique name, fsync'd, then renamed into cur/ with the info ":2,S" (seen);
// once every file of the batch is there, cur/ itself is fsync'd, and only then
// does the batch count as delivered. The file's mtime is the message's
// internal date: Dovecot's maildir INTERNALDATE is the file's mtime.
//
// Phases rather than one file after the other: all files of a slice are
// written, then all are fsync'd (the first fsync commits the journal
// transaction that holds the others, so most of them cost little), then all
// are renamed. A slice bounds the file descriptors held open.
import type { FileHandle } from 'node:fs/promises';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { delivered as deliveredOutcome, failed, unknown } from '../errors.js';
import type { DeliveryCode, DeliveryOutcome, OutgoingMessage } from '../port.js';
import { eachLimited } from '../pool.js';
import { uniqueName, type UniqueName } from './filename.js';
import type { DeliveredFile } from './msgid-index.js';

export interface WriteOptions {
  readonly host: string;
  /** Files written or fsync'd at the same time. */
  readonly concurrency: number;
  /** Files of a batch held open at once (write, then fsync, then rename). */
  readonly sliceSize: number;
  readonly fsync: boolean;
  /** fsync of a directory: fsyncDir, or a test's fault (MaildirTargetOptions.testSeams). */
  readonly syncDir: (path: string) => Promise<void>;
}

export interface WrittenBatch {
  readonly outcomes: DeliveryOutcome[];
  readonly delivered: DeliveredFile[];
}

interface Pending {
  readonly index: number;
  readonly message: OutgoingMessage;
  readonly name: UniqueName;
  readonly tmpPath: string;
  fh: FileHandle | undefined;
}

/** errno codes that say the storage, not the message, is at fault. */
export function codeOfFsError(e: unknown): DeliveryCode {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'STORAGE_FULL';
  if (code === 'EFBIG') return 'MESSAGE_TOO_LARGE';
  return 'TARGET_UNAVAILABLE';
}

/** The message's own stream failed or did not match its declared size: not the target's fault. */
class SourceError extends Error {}
/** Wraps an error of the file being written, to tell it from an error of the stream read. */
class TargetWriteError extends Error {}

async function copyInto(fh: FileHandle, message: OutgoingMessage): Promise<void> {
  let written = 0;
  const stream = message.open();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (written + buf.length > message.size) throw new SourceError(`the message stream yields more than the declared ${message.size} octets`);
      try {
        let offset = 0;
        while (offset < buf.length) {
          const { bytesWritten } = await fh.write(buf, offset, buf.length - offset, written + offset);
          offset += bytesWritten;
        }
      } catch (e) {
        throw new TargetWriteError('write failed', { cause: e });
      }
      written += buf.length;
    }
  } catch (e) {
    stream.destroy();
    if (e instanceof TargetWriteError) throw e.cause;
    if (e instanceof SourceError) throw e;
    throw new SourceError(`the message stream failed: ${reasonOf(e)}`, { cause: e });
  }
  if (written !== message.size) throw new SourceError(`the message stream yielded ${written} octets, ${message.size} were declared`);
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function writeBatch(
  dir: string,
  relative: string,
  messages: readonly OutgoingMessage[],
  options: WriteOptions,
): Promise<WrittenBatch> {
  const outcomes: (DeliveryOutcome | undefined)[] = new Array(messages.length);
  const renamed: Pending[] = [];
  const ref = (name: string): string => (relative === '' ? `cur/${name}` : `${relative}/cur/${name}`);

  const fail = async (p: Pending, e: unknown): Promise<void> => {
    if (p.fh) await p.fh.close().catch(() => undefined); // already failing: the first error is the one reported
    p.fh = undefined;
    await unlink(p.tmpPath).catch(() => undefined); // gone or never made; tmp/ is cleaned by Dovecot after 36 h anyway
    outcomes[p.index] = e instanceof SourceError ? failed(p.message.messageId, 'MESSAGE_INVALID', e.message) : failed(p.message.messageId, codeOfFsError(e), reasonOf(e));
  };

  const pendingOf = (index: number): Pending => {
    const message = messages[index]!;
    const name = uniqueName(message.size, options.host);
    return { index, message, name, tmpPath: join(dir, 'tmp', name.base), fh: undefined };
  };

  const runSlice = async (slice: Pending[], concurrency: number): Promise<void> => {
    // 1. write into tmp/ and set the times
    await eachLimited(slice, concurrency, async (p) => {
      if (Number.isNaN(p.message.internalDate.getTime())) {
        outcomes[p.index] = failed(p.message.messageId, 'MESSAGE_INVALID', 'internal date is not a valid date');
        return;
      }
      try {
        p.fh = await open(p.tmpPath, 'wx', 0o600);
        await copyInto(p.fh, p.message);
        await p.fh.utimes(p.message.internalDate, p.message.internalDate);
      } catch (e) {
        await fail(p, e);
      }
    });
    // 2. make each file durable before it gets its final name
    await eachLimited(slice, concurrency, async (p) => {
      if (!p.fh) return;
      try {
        if (options.fsync) await p.fh.sync();
        await p.fh.close();
        p.fh = undefined;
      } catch (e) {
        await fail(p, e);
      }
    });
    // 3. move into cur/, seen
    await eachLimited(slice, concurrency, async (p) => {
      if (outcomes[p.index]) return;
      try {
        await rename(p.tmpPath, join(dir, 'cur', p.name.cur));
        renamed.push(p);
      } catch (e) {
        await fail(p, e);
      }
    });
  };

  for (let start = 0; start < messages.length; start += options.sliceSize) {
    const end = Math.min(messages.length, start + options.sliceSize);
    const slice: Pending[] = [];
    for (let i = start; i < end; i++) slice.push(pendingOf(i));
    await runSlice(slice, options.concurrency);
    // A large message that filled the disk was written beside the others and
    // made them fail too; its partial file is gone now. Those that failed for
    // want of space get one more try, one at a time, so that what fits goes in.
    const full = slice.filter((p) => {
      const o = outcomes[p.index];
      return o !== undefined && o.status === 'failed' && o.code === 'STORAGE_FULL';
    });
    if (full.length > 1) {
      for (const p of full) outcomes[p.index] = undefined;
      await runSlice(
        full.map((p) => pendingOf(p.index)),
        1,
      );
    }
  }

  // 4. make the new names durable: once per batch. When that fails the files
  // are in cur/ (readers see them now) but their names may not survive a
  // crash: stored or not is for findExisting to say later, so `unknown`, never
  // `failed` (a resend would make a second copy of each file that survives).
  if (renamed.length > 0 && options.fsync) {
    try {
      await options.syncDir(join(dir, 'cur'));
    } catch (e) {
      for (const p of renamed) {
        outcomes[p.index] = unknown(p.message.messageId, codeOfFsError(e), `renamed into cur/, but cur/ could not be fsync'd, so the file may not survive a crash: ${reasonOf(e)}`);
      }
      return { outcomes: outcomes as DeliveryOutcome[], delivered: [] };
    }
  }
  const delivered: DeliveredFile[] = [];
  for (const p of renamed) {
    outcomes[p.index] = deliveredOutcome(p.message.messageId, ref(p.name.cur));
    delivered.push({ messageId: p.message.messageId, name: p.name.cur });
  }
  return { outcomes: outcomes as DeliveryOutcome[], delivered };
}

export async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
