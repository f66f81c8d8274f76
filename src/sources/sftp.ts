// A connector's source on an SFTP server: the `*.xip` files of one remote
// folder, read with an account that may only read (nothing is moved,
// renamed or deleted; see ports/container-source.ts).
//
// The server is the one whose host key is pinned in the connector, checked
// before the login (sftp-connect.ts): a server that is not it never sees the
// password. Nothing connects until the first list() or open(); the session
// is then kept for the run's listings and downloads, opened again if it
// dropped, and ended by close().
//
// A download is counted: the stream ends only when exactly the listed number
// of bytes arrived. An SFTP read past the end of a file is a plain EOF, so a
// file cut short on the server, or a transfer whose connection went away
// between two reads, would otherwise look like a complete (short) file. Any
// break-off is an XipError SOURCE_READ_FAILED on the stream.
import { posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { FileEntryWithStats, Stats } from 'ssh2';
import { XipError } from '../errors.js';
import type { ConnectorSource, SourceFile } from '../ports/container-source.js';
import { hostKeyFingerprint, normalisePin, openSession, request, scrub, type SftpConnectOptions, type SftpSession } from './sftp-connect.js';

export { hostKeyFingerprint };

export interface SftpSourceOptions {
  host: string;
  port: number;
  username: string;
  password?: string;
  /** The private key's text (PEM or OpenSSH format). */
  privateKey?: string;
  passphrase?: string;
  /** The remote folder (absolute, or relative to the user's start folder). */
  path: string;
  /** 'SHA256:…' exactly as `ssh-keygen -lf` prints it for the server's host key (unpadded base64). */
  hostKey: string;
  /** Bound on connecting, the key exchange and the login, in ms (default 20000). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
// Larger reads than ssh2's 64 KiB default: fewer round trips per file, and
// still within what OpenSSH's sftp-server answers in one piece (256 KiB).
const READ_CHUNK = 255 * 1024;
const PIN = /^SHA256:[A-Za-z0-9+/]{43}$/;
// SFTP status codes (draft-ietf-secsh-filexfer-02 §7) ssh2 puts in `code`.
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

export function sftpSource(options: SftpSourceOptions): ConnectorSource {
  // A pin that cannot match any key would make every run fail as a host key
  // mismatch; say what is wrong with it instead.
  if (!PIN.test(normalisePin(options.hostKey))) {
    throw new XipError('CONFIG_INVALID', `hostKey must be 'SHA256:' followed by 43 base64 characters, as ssh-keygen -lf prints it`);
  }
  const o: SftpConnectOptions & { path: string } = { ...options, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  const where = `${o.username}@${o.host}:${o.port}`;
  let connecting: Promise<SftpSession> | undefined;
  let closed = false;

  // One session at a time, shared by concurrent callers; forgotten when it
  // fails to open or its connection closes, so that the next call reconnects.
  const session = (): Promise<SftpSession> => {
    if (closed) return Promise.reject(new Error('this SFTP source was closed'));
    if (!connecting) {
      const attempt = openSession(o);
      const forget = (): void => {
        if (connecting === attempt) connecting = undefined;
      };
      attempt.then((s) => s.watchClose(forget), forget);
      connecting = attempt;
    }
    return connecting;
  };

  return {
    description: describe(o),
    async list() {
      return listFolder(await session(), o, where);
    },
    async open(file) {
      return download(await session(), o, where, file);
    },
    async close() {
      if (closed) return;
      closed = true;
      const pending = connecting;
      connecting = undefined;
      const s = await pending?.catch(() => undefined);
      if (s?.alive) await s.client.end().catch(() => undefined);
    },
  };
}

/** sftp://user@host:port/path (RFC-draft form: a path relative to the start folder under /~/); never a credential. */
function describe(o: SftpSourceOptions): string {
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const path = o.path.startsWith('/') ? o.path : `/~/${o.path}`;
  return `sftp://${o.username}@${host}:${o.port}${path}`;
}

async function listFolder(s: SftpSession, o: SftpConnectOptions & { path: string }, where: string): Promise<SourceFile[]> {
  const dir = o.path;
  const fail = (e: unknown): XipError => listError(e, o, `${dir} on ${where}`);
  const stats = await request<Stats>(s, (cb) => s.sftp.stat(dir, cb)).catch((e: unknown) => {
    throw fail(e);
  });
  if (!stats.isDirectory()) throw new XipError('SOURCE_NOT_FOUND', `${dir} on ${where} is not a folder`);
  const entries = await request<FileEntryWithStats[]>(s, (cb) => s.sftp.readdir(dir, cb)).catch((e: unknown) => {
    throw fail(e);
  });
  const files: SourceFile[] = [];
  for (const entry of entries) {
    if (!entry.filename.toLowerCase().endsWith('.xip') || !isRegularFile(entry)) continue;
    let { size, mtime } = entry.attrs;
    // A server may leave attributes out of a listing; the byte count of a
    // download needs the size, so ask for that file's own.
    if (typeof size !== 'number' || typeof mtime !== 'number') {
      const own = await request<Stats>(s, (cb) => s.sftp.stat(posix.join(dir, entry.filename), cb)).catch((e: unknown) => {
        throw fail(e);
      });
      ({ size, mtime } = own);
    }
    files.push({ name: entry.filename, size, modified: new Date(mtime * 1000) });
  }
  // By code unit, not by locale: the same order on every host.
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * By the mode bits ssh2 decodes (ssh2-sftp-client's list() reads the first
 * letter of the `ls -l`-style long name instead, a form the SFTP draft says
 * clients must not parse); by that letter only when a server sends no mode.
 * Symbolic links are not followed: a regular file, or nothing.
 */
function isRegularFile(entry: FileEntryWithStats): boolean {
  if (typeof entry.attrs.mode === 'number') return entry.attrs.isFile();
  return entry.longname.startsWith('-');
}

function listError(e: unknown, o: SftpConnectOptions, what: string): XipError {
  const code = (e as { code?: unknown }).code;
  const message = scrub(e instanceof Error ? e.message : String(e), o);
  if (code === NO_SUCH_FILE) return new XipError('SOURCE_NOT_FOUND', `${what} does not exist (${message})`, { cause: e });
  if (code === PERMISSION_DENIED) return new XipError('SOURCE_NOT_FOUND', `${what} cannot be listed (${message})`, { cause: e });
  // The connection dropped, a server fault: the run fails and is tried again.
  return new XipError('SOURCE_UNREACHABLE', `listing ${what}: ${message}`, { cause: e });
}

async function download(s: SftpSession, o: SftpConnectOptions & { path: string }, where: string, file: SourceFile): Promise<Readable> {
  // Names come from list(): bare names of that folder. Anything else would
  // read outside it.
  if (file.name.includes('/') || file.name === '.' || file.name === '..' || file.name === '') {
    throw new TypeError(`not a file name of the source's folder: ${JSON.stringify(file.name)}`);
  }
  const fail = (why: string): XipError => new XipError('SOURCE_READ_FAILED', `${file.name} from ${where}: ${why}`);
  let source: Readable;
  try {
    source = s.client.createReadStream(posix.join(o.path, file.name), { highWaterMark: READ_CHUNK });
  } catch (e) {
    throw fail(scrub((e as Error).message, o));
  }
  const out = counted(s, source, file, fail, (e) => scrub(e.message, o));
  // Wait for the remote file to be open, so that a file removed since the
  // listing fails here rather than as the first event of the stream.
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      source.off('open', onOpen);
      out.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onOpen = (): void => done();
    source.once('open', onOpen);
    out.once('error', done);
  });
  return out;
}

/**
 * The remote stream passed through a byte counter that fails it (with
 * SOURCE_READ_FAILED) when the source errors, when the connection closes
 * before the end, and when the end comes before or after the listed size.
 */
function counted(s: SftpSession, source: Readable, file: SourceFile, fail: (why: string) => XipError, say: (e: Error) => string): Transform {
  let received = 0;
  const progress = (): string => `after ${received} of ${file.size} bytes`;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, cb) {
      received += chunk.length;
      // The listing said how large the file is; more bytes mean it is being
      // written again, and is left for a later run to take whole.
      if (received > file.size) cb(fail(`more bytes than the ${file.size} listed: the file changed after it was listed`));
      else cb(null, chunk);
    },
    flush(cb) {
      cb(received === file.size ? null : fail(`the file ended ${progress()}: it changed after it was listed, or the transfer was cut`));
    },
  });
  const unwatch = s.watchClose(() => {
    // Once the source ended, every byte is in `out`: let the reader have them.
    if (!out.writableEnded) out.destroy(fail(`${s.closeReason()} ${progress()}`));
  });
  source.on('error', (e: Error) => out.destroy(fail(`${say(e)} ${progress()}`)));
  out.on('close', () => {
    unwatch();
    source.unpipe(out);
    if (!source.destroyed) source.destroy();
  });
  source.pipe(out);
  return out;
}
