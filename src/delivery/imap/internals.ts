// The two members of imapflow's connection that our pipelined MULTIAPPEND
// needs and that imapflow marks @internal: `exec()` (queue a tagged command,
// resolve with its tagged OK, reject on NO/BAD or a lost connection) and
// `writeSocket` (where command bytes go). imapflow's own commands
// (lib/commands/*.js) are written against exactly these, which is the style
// our commands follow. They are checked at run time, so that an imapflow that
// changed them fails loudly here, not by desynchronising a session. Pinned by
// package.json (imapflow 2.10.2).
import type { Writable } from 'node:stream';
import type { ImapFlow, ImapResponse } from 'imapflow';

export interface ExecResult {
  readonly response: ImapResponse;
  /** Releases the reader; must be called before the next command. */
  next(): void;
}

export interface ExecOptions {
  /** Called right after the command line (up to its first CRLF) went to the socket. */
  onSend?: () => void;
  /** Called on each "+" continuation request while the command is in flight. */
  onPlusTag?: (response: ImapResponse) => Promise<void> | void;
  comment?: string;
}

export interface ImapConnection {
  readonly client: ImapFlow;
  exec(command: string, attributes: unknown[] | false, options?: ExecOptions): Promise<ExecResult>;
  readonly writeSocket: Writable;
}

interface Internals {
  exec?: unknown;
  writeSocket?: unknown;
  authCapabilities?: unknown;
}

/**
 * The authentication methods that succeeded on this connection ("AUTH=PLAIN",
 * "LOGIN"…): imapflow records them in its internal `authCapabilities`.
 */
export function authMethodsUsed(client: ImapFlow): string[] {
  const map = (client as unknown as Internals).authCapabilities;
  if (!(map instanceof Map)) throw new Error('imapflow no longer records authCapabilities as 2.10 did; src/delivery/imap/internals.ts must follow it');
  return [...(map as Map<string, boolean>)].filter(([, used]) => used).map(([method]) => String(method));
}

export function connectionOf(client: ImapFlow): ImapConnection {
  const raw = client as unknown as Internals;
  if (typeof raw.exec !== 'function' || !raw.writeSocket || typeof (raw.writeSocket as Writable).write !== 'function') {
    throw new Error('imapflow no longer exposes exec()/writeSocket as 2.10 did; src/delivery/imap/internals.ts must follow it');
  }
  const exec = raw.exec as ImapConnection['exec'];
  return {
    client,
    exec: (command, attributes, options) => exec.call(client, command, attributes, options),
    get writeSocket() {
      return (client as unknown as Internals).writeSocket as Writable;
    },
  };
}
