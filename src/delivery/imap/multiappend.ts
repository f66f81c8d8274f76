// Pipelined MULTIAPPEND: one APPEND command carrying many messages (RFC 3502),
// each `(\Seen) "<date-time>" {size+}` followed by its bytes streamed from
// OutgoingMessage.open(), with non-synchronizing literals (LITERAL+, RFC 7888)
// so that no message waits for the server: one round trip per command, not
// per message. Without LITERAL+, a literal is synchronizing and waits for the
// server's "+" (LITERAL- still allows non-synchronizing ones up to 4096
// octets, RFC 7888 §5).
//
// The command line goes through imapflow's queue (exec), so that its tag, its
// tagged response and everything untagged are handled by imapflow; the
// literals are written to the socket from onSend, with backpressure.
//
// MULTIAPPEND is atomic (RFC 3502 §6.3.11): on NO nothing was appended, and
// the caller may split the batch. On OK the APPENDUID (RFC 4315) lists the new
// UIDs in message order.
//
// The declared size is what the literal announces, so a stream that yields
// more or fewer octets cannot be finished: the connection is closed (the
// server then discards the unfinished command) and SourceFault names the
// message.
import { once } from 'node:events';
import { encodePath } from 'imapflow/lib/tools.js';
import type { OutgoingMessage } from '../port.js';
import { appendUidOf, type AppendUid } from './appenduid.js';
import { formatInternalDate } from './internaldate.js';
import type { ExecResult, ImapConnection } from './internals.js';

/** A message's own bytes could not be sent as declared; `index` is its place in the command. */
export class SourceFault extends Error {
  constructor(
    readonly index: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SourceFault';
  }
}

export interface LiteralSupport {
  readonly literalPlus: boolean;
  readonly literalMinus: boolean;
}

class Aborted extends Error {}

/** An IMAP quoted string (RFC 9051 §4.3); the caller has ruled out CR, LF and NUL. */
export function quoted(text: string): string {
  return '"' + text.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

export function literalHead(message: OutgoingMessage, nonSync: boolean): string {
  return `(\\Seen) "${formatInternalDate(message.internalDate)}" {${message.size}${nonSync ? '+' : ''}}`;
}

/** Appends `messages` to the folder `path` in one command; the APPENDUID, or undefined when the server gave none. */
export async function multiAppend(
  conn: ImapConnection,
  path: string,
  messages: readonly OutgoingMessage[],
  literals: LiteralSupport,
): Promise<AppendUid | undefined> {
  if (messages.length === 0) return undefined;
  const nonSync = (m: OutgoingMessage): boolean => literals.literalPlus || (literals.literalMinus && m.size <= 4096);
  const abort = new AbortController();

  // "+" continuations, counted, for synchronizing literals.
  let plusReady = 0;
  let plusWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const onPlusTag = (): void => {
    if (plusWaiter) {
      const w = plusWaiter;
      plusWaiter = undefined;
      w.resolve();
    } else plusReady++;
  };
  abort.signal.addEventListener('abort', () => plusWaiter?.reject(new Aborted()), { once: true });
  let refused = false;
  const waitPlus = async (): Promise<void> => {
    if (refused || abort.signal.aborted) throw new Aborted(); // a refusal came instead of this "+"
    if (plusReady > 0) {
      plusReady--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      plusWaiter = { resolve, reject };
    });
  };

  const write = async (data: Buffer | string): Promise<void> => {
    if (abort.signal.aborted) throw new Aborted();
    const socket = conn.writeSocket;
    if (!socket.write(data)) {
      try {
        await once(socket, 'drain', { signal: abort.signal });
      } catch {
        throw new Aborted();
      }
    }
  };

  const sendBody = async (index: number, message: OutgoingMessage): Promise<void> => {
    let sent = 0;
    const stream = message.open();
    try {
      for await (const chunk of stream as AsyncIterable<Buffer | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (sent + buf.length > message.size) throw new SourceFault(index, `the message stream yields more than the declared ${message.size} octets`);
        await write(buf);
        sent += buf.length;
      }
    } catch (e) {
      stream.destroy();
      if (e instanceof SourceFault || e instanceof Aborted) throw e;
      throw new SourceFault(index, `the message stream failed: ${(e as Error).message}`, { cause: e });
    }
    if (sent !== message.size) throw new SourceFault(index, `the message stream yielded ${sent} octets, ${message.size} were declared`);
  };

  // Everything after the command line: literal 0, then " head {n+}\r\n" + literal for each next one, then CRLF.
  const pump = async (): Promise<void> => {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (i > 0) await write(` ${literalHead(m, nonSync(m))}\r\n`);
      if (!nonSync(m)) await waitPlus();
      await sendBody(i, m);
    }
    await write('\r\n');
  };

  let pumping: Promise<void> | undefined;
  let pumpDone = false;
  let pumpError: unknown;
  const first = messages[0]!;
  const command = `APPEND ${quoted(encodePath(conn.client, path))} ${literalHead(first, nonSync(first))}`;
  const onClose = (): void => abort.abort(); // a write would wait for a 'drain' that never comes
  conn.client.once('close', onClose);
  let result: ExecResult | undefined;
  let refusal: unknown;
  let refusedInsteadOfPlus = false;
  try {
    result = await conn.exec(command, false, {
      onPlusTag,
      onSend: () => {
        pumping = pump().then(
          () => {
            pumpDone = true;
          },
          (e: unknown) => {
            if (e instanceof Aborted) return;
            // The command cannot be finished (a message's stream broke its size,
            // or worse): it dies with the connection, and the server discards it.
            pumpError = e;
            conn.client.close();
          },
        );
      },
      comment: `MULTIAPPEND of ${messages.length} message(s)`,
    });
  } catch (e) {
    refusal = e;
    // A refusal of a synchronizing literal comes instead of its "+": stop
    // waiting, the command is over and the session in step. Non-synchronizing
    // literals already announced are still sent in full, as the server reads
    // (and drops) them to find the end of the command. A lost connection
    // stops everything (onClose).
    refused = true;
    if (plusWaiter) {
      refusedInsteadOfPlus = true;
      abort.abort();
    }
  }
  try {
    if (pumping) await pumping;
  } finally {
    conn.client.off('close', onClose);
  }
  if (pumpError !== undefined) throw pumpError;
  if (refusal !== undefined) {
    // Stopped anywhere but at a refused "+", the session may be out of step: do not reuse it.
    if (pumping && !pumpDone && !refusedInsteadOfPlus) conn.client.close();
    throw refusal;
  }
  const response = result!.response;
  result!.next();
  return appendUidOf(response, messages.length);
}
