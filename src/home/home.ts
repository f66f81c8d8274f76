// XIP_HOME: the one folder that holds an installation's state — the ledger
// and connector configuration (xip.db), the evidence store, the secret key,
// staging space and logs — so that backing it up or moving it is copying one
// folder. Default ./var, beside where the command runs.
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

export const HOME_ENV = 'XIP_HOME';
export const DEFAULT_HOME = './var';
/** How a path inside XIP_HOME is written in a stored configuration, so that the folder can move. */
export const HOME_MARK = '$XIP_HOME';

export interface Home {
  readonly root: string;
  readonly database: string;
  readonly evidence: string;
  readonly staging: string;
  readonly logs: string;
}

export function homeFrom(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): Home {
  const root = resolve(cwd, env[HOME_ENV] || DEFAULT_HOME);
  return Object.freeze({
    root,
    database: join(root, 'xip.db'),
    evidence: join(root, 'evidence'),
    staging: join(root, 'staging'),
    logs: join(root, 'logs'),
  });
}

/** Creates XIP_HOME (mode 0700: it holds the key to the secrets) if missing. */
export async function ensureHome(home: Home): Promise<void> {
  await mkdir(home.root, { recursive: true, mode: 0o700 });
}

/** An absolute path as stored: "$XIP_HOME/…" when inside XIP_HOME, else as it is. */
export function storedPath(home: Home, path: string): string {
  const abs = resolve(path);
  const rel = relative(home.root, abs);
  if (rel === '') return HOME_MARK;
  return !rel.startsWith('..') && !isAbsolute(rel) ? `${HOME_MARK}/${rel.split('\\').join('/')}` : abs;
}

/** A stored path made absolute again. */
export function livePath(home: Home, stored: string): string {
  if (stored === HOME_MARK) return home.root;
  return stored.startsWith(`${HOME_MARK}/`) ? join(home.root, stored.slice(HOME_MARK.length + 1)) : stored;
}
