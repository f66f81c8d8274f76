// Connector secrets (SFTP passwords, Azure keys) at rest: sealed with
// AES-256-GCM under one key per installation. The key is XIP_SECRET_KEY when
// set (so it can live in a secrets manager, away from the backups of
// XIP_HOME), else keys/secret.key under XIP_HOME, made on first use. No
// message here ever holds a key, a sealed value or a plaintext: they end up
// in logs.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { XipError } from '../errors.js';

export interface SecretBox {
  /** The plaintext sealed: `v1:` and base64url of IV, ciphertext and tag. */
  seal(plain: string): string;
  /** The plaintext of a sealed value; SECRET_KEY_INVALID when it is malformed or sealed under another key. */
  open(sealed: string): string;
}

const PREFIX = 'v1:';
const AAD = Buffer.from('xip-connector secret v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ACCEPTED = 'expected 64 hex digits, or the base64 of exactly 32 bytes (openssl rand -hex 32 makes one)';

/** Whether the value has the form of a sealed secret (it may still be sealed under another key). */
export function isSealed(value: string): boolean {
  const body = value.slice(PREFIX.length);
  return value.startsWith(PREFIX) && BASE64URL.test(body) && Buffer.from(body, 'base64url').length >= IV_BYTES + TAG_BYTES;
}

export async function openSecretBox(home: string, env: NodeJS.ProcessEnv): Promise<SecretBox> {
  // An empty XIP_SECRET_KEY= (a unit file's placeholder) counts as unset.
  const fromEnv = env.XIP_SECRET_KEY?.trim();
  const key = fromEnv ? keyFromEnv(fromEnv) : await keyFromHome(home);
  return { seal: (plain) => seal(key, plain), open: (sealed) => unseal(key, sealed) };
}

function keyFromEnv(value: string): Buffer {
  if (HEX_KEY.test(value)) return Buffer.from(value, 'hex');
  if (BASE64_KEY.test(value)) {
    const key = Buffer.from(value, 'base64');
    if (key.length === 32) return key;
  }
  // Never the value itself: it may be a real key with one character wrong.
  throw new XipError('SECRET_KEY_INVALID', `XIP_SECRET_KEY (${value.length} characters) is not a key: ${ACCEPTED}`);
}

function seal(key: Buffer, plain: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

function unseal(key: Buffer, sealed: string): string {
  if (!isSealed(sealed)) throw new XipError('SECRET_KEY_INVALID', 'a stored secret is not a sealed value (v1:…): it was altered or is not from this version');
  const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(AAD);
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    return plain.toString('utf8');
  } catch {
    // GCM cannot tell a wrong key from altered bytes: both fail the tag.
    throw new XipError('SECRET_KEY_INVALID', 'a stored secret does not open with this key: it is not the key the secrets were stored with, or the sealed value was altered');
  }
}

/** keys/secret.key under `home`, made on first use. */
async function keyFromHome(home: string): Promise<Buffer> {
  const dir = join(home, 'keys');
  const path = join(dir, 'secret.key');
  const existing = await readKeyFile(path);
  if (existing) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (e) {
    // Another process made it first: its key is the installation's.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return (await readKeyFile(path)) ?? missing(path);
    throw keyFileError(path, e);
  }
  try {
    await handle.writeFile(`${key.toString('hex')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The file's name must survive a crash, or the key of the secrets sealed
  // meanwhile is lost with it.
  const dirHandle = await open(dir, 'r');
  await dirHandle.sync().finally(() => dirHandle.close());
  return key;
}

function missing(path: string): never {
  throw new XipError('SECRET_KEY_INVALID', `${path} was removed while it was being read`);
}

function keyFileError(path: string, e: unknown): XipError {
  const err = e as NodeJS.ErrnoException;
  return new XipError('SECRET_KEY_INVALID', `cannot use ${path}: ${err.code ?? err.message}`, { cause: e });
}

const WAIT_FOR_WRITER_MS = 2000;
const POLL_MS = 20;

/**
 * The key in the file, or undefined when there is none. A file of fewer than
 * 64 hex digits may be one another process has just made and not written yet
 * (made with 'wx', then written): it is read again until it is whole, for a
 * while, before it is called malformed.
 */
async function readKeyFile(path: string): Promise<Buffer | undefined> {
  for (let waited = 0; ; waited += POLL_MS) {
    const text = await readPrivate(path);
    if (text === undefined) return undefined;
    const trimmed = text.trimEnd();
    if (HEX_KEY.test(trimmed)) return Buffer.from(trimmed, 'hex');
    const partial = /^[0-9a-fA-F]*$/.test(text) && text.length < 64;
    if (!partial || waited >= WAIT_FOR_WRITER_MS) {
      throw new XipError('SECRET_KEY_INVALID', `${path} does not hold a key (${text.length} characters): expected 64 hex digits and a newline`);
    }
    await sleep(POLL_MS);
  }
}

/** The file's text, refusing one others may read; undefined when absent. */
async function readPrivate(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw keyFileError(path, e);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new XipError('SECRET_KEY_INVALID', `${path} is not a regular file`);
    // As ssh does with private keys: a key others could have read is refused
    // rather than used, so that the admin learns of it.
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new XipError('SECRET_KEY_INVALID', `${path} may be read by other users (mode ${mode}): run chmod 600 ${path}`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
