// Opening the SFTP session of an SFTP source (sftp.ts), and what a failure
// to open it means to the person who configured the connector: the host key
// is not the pinned one, the credentials were refused, or the server could
// not be reached. Kept apart from the listing and fetching so that each file
// stays readable.
//
// ssh2-sftp-client wraps ssh2's Client; its connect() rejects with a new
// Error that keeps the message but drops ssh2's `level` ('client-socket',
// 'client-timeout', 'client-authentication', …), which is what tells the
// failures apart. We therefore listen to the raw errors ourselves (its on()
// puts our listener in front of its own) and classify those.
import { createHash } from 'node:crypto';
import SftpClient from 'ssh2-sftp-client';
// Types only: ssh2 is ssh2-sftp-client's dependency, not ours.
import type { Client, ConnectConfig, SFTPWrapper } from 'ssh2';
import { XipError } from '../errors.js';

export interface SftpConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: string;
  readonly privateKey?: string;
  readonly passphrase?: string;
  readonly hostKey: string;
  readonly timeoutMs: number;
}

/** One open SFTP session. `alive` turns false when its connection closes, for any reason. */
export interface SftpSession {
  readonly client: SftpClient;
  readonly sftp: SFTPWrapper;
  readonly alive: boolean;
  /** Why the connection closed (or is closing), for a detail. */
  closeReason(): string;
  /** Calls `fn` once when the connection closes (soon, if it already has); returns what stops watching. */
  watchClose(fn: () => void): () => void;
}

// A peer that vanishes without closing (a cable pulled, a VM frozen) is
// noticed within 30 s instead of a transfer hanging forever.
const KEEPALIVE_MS = 10_000;
const KEEPALIVE_COUNT = 3;

/** The 'SHA256:…' fingerprint of an SSH public key blob, as `ssh-keygen -lf` prints it (unpadded base64). */
export function hostKeyFingerprint(rawKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The pinned key as compared: surrounding blanks and base64 padding are not
 * part of the fingerprint (ssh-keygen prints none; some tools add '=').
 */
export function normalisePin(pin: string): string {
  return pin.trim().replace(/=+$/, '');
}

/**
 * Messages of ssh2 and of the server never carry the credentials, but a
 * detail is written to logs and the ledger: take out any that would.
 */
export function scrub(text: string, o: SftpConnectOptions): string {
  let out = text;
  for (const secret of [o.password, o.passphrase, o.privateKey]) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

type RawError = Error & { level?: string; code?: string };

/**
 * Connects, checks the host key before anything else is sent, logs in and
 * opens the SFTP subsystem. Throws an XipError: SOURCE_HOST_KEY_MISMATCH,
 * SOURCE_AUTH_FAILED or SOURCE_UNREACHABLE.
 */
export async function openSession(o: SftpConnectOptions): Promise<SftpSession> {
  const where = `${o.host}:${o.port}`;
  // Defaults would print to the console on every disconnect; ours say nothing
  // (the close watch below does what matters).
  const client = new SftpClient('xip-source', { error: () => undefined, end: () => undefined, close: () => undefined });
  let presented: string | undefined;
  let raw: RawError | undefined;
  client.on('error', (e: RawError) => {
    raw ??= e;
  });
  const watch = closeWatch(client);
  let sftp: SFTPWrapper;
  try {
    const config = connectConfig(o, (actual) => (presented = actual));
    sftp = await withDeadline(client.connect(config), o.timeoutMs * 2, client, where);
  } catch (e) {
    rawClient(client)?.destroy();
    if (presented !== undefined) {
      throw new XipError('SOURCE_HOST_KEY_MISMATCH', `${where} presented the host key ${presented}, but the connector pins ${normalisePin(o.hostKey)}`);
    }
    throw connectError(raw ?? (e as RawError), o);
  }
  // A protocol error on the SFTP channel is emitted as 'error': unheard, it
  // would end the process. The channel is gone after it; so is the session.
  sftp.on('error', (e: Error) => {
    raw ??= e;
    rawClient(client)?.end();
  });
  return {
    client,
    sftp,
    get alive() {
      return watch.alive();
    },
    closeReason: () => (raw ? `the connection closed: ${scrub(raw.message, o)}` : 'the connection closed'),
    watchClose: watch.watchClose,
  };
}

function connectConfig(o: SftpConnectOptions, onMismatch: (presented: string) => void): ConnectConfig {
  return {
    host: o.host,
    port: o.port,
    username: o.username,
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.privateKey !== undefined ? { privateKey: o.privateKey } : {}),
    ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
    // The host key is checked during the key exchange, before the user
    // authentication starts: a server that is not the pinned one never
    // sees a password or a signature.
    hostVerifier: (rawKey: Buffer): boolean => {
      const actual = hostKeyFingerprint(rawKey);
      if (actual === normalisePin(o.hostKey)) return true;
      onMismatch(actual);
      return false;
    },
    readyTimeout: o.timeoutMs,
    keepaliveInterval: KEEPALIVE_MS,
    keepaliveCountMax: KEEPALIVE_COUNT,
  };
}

/**
 * Who is waiting on the connection: pending requests and downloads. Each is
 * told once when it closes, as ssh2 does not fail a read stream whose next
 * read goes to a channel that is gone (it would wait forever).
 */
function closeWatch(client: SftpClient): { alive: () => boolean; watchClose: (fn: () => void) => () => void } {
  let alive = true;
  const watchers = new Set<() => void>();
  client.on('close', () => {
    alive = false;
    for (const fn of [...watchers]) fn();
    watchers.clear();
  });
  return {
    alive: () => alive,
    watchClose(fn) {
      if (!alive) {
        process.nextTick(fn);
        return () => undefined;
      }
      watchers.add(fn);
      return () => watchers.delete(fn);
    },
  };
}

function connectError(e: RawError, o: SftpConnectOptions): XipError {
  const where = `${o.host}:${o.port}`;
  const message = scrub(e.message, o);
  // ssh2 parses the key (with the passphrase) before it connects, and throws
  // these two: the connector's credential is at fault, not the server.
  if (e.level === undefined && /^(Cannot parse privateKey|privateKey value does not contain)/.test(e.message)) {
    return new XipError('SOURCE_AUTH_FAILED', `the private key for ${o.username}@${where} cannot be used: ${message}`, { cause: e });
  }
  if (e.level === 'client-authentication') {
    return new XipError('SOURCE_AUTH_FAILED', `${o.username}@${where} refused the login: ${message}`, { cause: e });
  }
  // Refused, reset, timed out, no route, name not resolved ('client-socket',
  // 'client-timeout', 'client-dns'), and anything else that stops the
  // session before it is ready (no common algorithm, a protocol error).
  const code = e.code && !message.includes(e.code) ? ` (${e.code})` : '';
  return new XipError('SOURCE_UNREACHABLE', `${where}: ${message}${code}`, { cause: e });
}

/**
 * ssh2's readyTimeout bounds the TCP connect, key exchange and login, not
 * the opening of the SFTP channel after them: a server that logs in and then
 * never answers would hang the run. The deadline covers it all.
 */
function withDeadline<T>(p: Promise<T>, ms: number, client: SftpClient, where: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      rawClient(client)?.destroy();
      reject(Object.assign(new Error(`no SFTP session within ${ms} ms from ${where}`), { level: 'client-timeout' }));
    }, ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/**
 * ssh2-sftp-client's end() only closes a connection that reached the SFTP
 * channel; one stopped half-way is closed through ssh2's Client, which the
 * wrapper keeps (untyped) in `client`.
 */
function rawClient(client: SftpClient): Client | undefined {
  return (client as unknown as { client?: Client }).client;
}

/**
 * One SFTP request as a promise that also settles when the connection
 * closes first: ssh2 answers pending requests of a channel that ends, but a
 * socket torn down under it must not leave a listing waiting forever.
 */
export function request<T>(s: SftpSession, op: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const unwatch = s.watchClose(() => reject(new Error(s.closeReason())));
    try {
      op((err, value) => {
        unwatch();
        if (err) reject(err);
        else resolve(value);
      });
    } catch (e) {
      unwatch();
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
