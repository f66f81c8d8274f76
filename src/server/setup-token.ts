// The first account: while an installation has no account, each start makes
// a one-time setup token, keeps its SHA-256 (accounts.setSetupToken) and
// hands it to the wiring, which prints it for the person installing.
// POST /api/setup with it creates the first connector-admin (routes/setup.ts);
// consumeSetupToken makes it work once, and never once an account exists.
import type { AccountStore } from '../ports/account-store.js';
import { newToken, sha256Hex } from './secrets.js';

/** A fresh setup token when there is no account yet (replacing any earlier one); undefined otherwise. */
export async function ensureSetupToken(accounts: AccountStore, now: Date = new Date()): Promise<string | undefined> {
  if ((await accounts.countAccounts()) > 0) return undefined;
  const token = newToken();
  await accounts.setSetupToken(sha256Hex(token), now);
  return token;
}
