// Passwords of the console's accounts: the policy, and argon2id hashing
// through @node-rs/argon2 (a native module, so wiring-level: the CLI and the
// server use it, the core never does).
//
// - argon2id with OWASP's first recommended parameters (Password Storage
//   Cheat Sheet): 19 MiB of memory (19456 KiB), 2 passes, 1 lane. The hash
//   is a PHC string ($argon2id$v=19$m=19456,t=2,p=1$salt$hash) with a
//   random 16-byte salt, so it carries its own parameters: raising them later
//   leaves the old hashes verifiable (needsRehash tells which to redo).
// - The library compares in constant time.
// - A password is taken in Unicode normalisation form NFKC before it is
//   counted or hashed (NIST SP 800-63B §5.1.1.2), so that the same password
//   typed on another keyboard or system, composed or decomposed, still matches.
// - The policy (NIST SP 800-63B): at least 12 characters, at most 1024 (a
//   length that no one types and that bounds the work of a request); no
//   rules about character classes, which make passwords no stronger.
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2';
import { XipError } from '../errors.js';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

/** Argon2id, as @node-rs/argon2's Algorithm.Argon2id (a const enum, which a transpiler that sees one file cannot inline). */
const ARGON2ID = 2;

export const ARGON2_OPTIONS = Object.freeze({ algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 }) satisfies Options;

/**
 * The hash of a random password no one knows, with ARGON2_OPTIONS: what
 * verifyOrDummy checks against for an account that does not exist (or has
 * no password), so that signing in as no one takes as long as signing in as
 * someone with a wrong password.
 */
export const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$Lncrm1MErU95Zy91sR571g$OE86BCBnbfFbQMRf8RASCUtD3KtCIRxsSXdt9zyIfbs';

function normalized(password: string): string {
  return password.normalize('NFKC');
}

/** Throws USAGE, saying what the policy asks, when `password` breaks it. */
export function checkPassword(password: string): void {
  const length = [...normalized(password)].length;
  if (length < PASSWORD_MIN) throw new XipError('USAGE', `the password is too short: it must be at least ${PASSWORD_MIN} characters long; a passphrase of a few words is easiest to remember`);
  if (length > PASSWORD_MAX) throw new XipError('USAGE', `the password is too long: it must be at most ${PASSWORD_MAX} characters long`);
}

/** The argon2id PHC string of `password` (which should have passed checkPassword). */
export function hashPassword(password: string): Promise<string> {
  return hash(normalized(password), ARGON2_OPTIONS);
}

/** Whether `password` matches `passwordHash`; false (never a throw) for a hash that cannot be read. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, normalized(password));
  } catch {
    return false;
  }
}

/**
 * verifyPassword, or for no hash (no such account, or one without a
 * password) the same work against DUMMY_HASH and false: the time taken does
 * not tell whether the account exists.
 */
export async function verifyOrDummy(passwordHash: string | null, password: string): Promise<boolean> {
  if (passwordHash === null) {
    await verifyPassword(DUMMY_HASH, password);
    return false;
  }
  return verifyPassword(passwordHash, password);
}

/** Whether a stored hash was made with other parameters than ARGON2_OPTIONS (or cannot be read): hash the password again at the next sign-in. */
export function needsRehash(passwordHash: string): boolean {
  try {
    const o = parseOptions(passwordHash);
    return (
      (o.algorithm as number) !== ARGON2_OPTIONS.algorithm ||
      o.memoryCost !== ARGON2_OPTIONS.memoryCost ||
      o.timeCost !== ARGON2_OPTIONS.timeCost ||
      o.parallelism !== ARGON2_OPTIONS.parallelism
    );
  } catch {
    return true;
  }
}
