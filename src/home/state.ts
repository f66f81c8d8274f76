// Opening an installation: XIP_HOME made if missing, its database (ledger,
// connectors and accounts, migrated), and the key to its secrets.
import { openSqliteState } from '../ledger/sqlite.js';
import type { AccountStore } from '../ports/account-store.js';
import { ensureHome, homeFrom } from './home.js';
import type { InstallationState } from './run-connector.js';
import { openSecretBox } from './secrets.js';

export async function openInstallation(env: NodeJS.ProcessEnv): Promise<InstallationState & { readonly accounts: AccountStore; close(): Promise<void> }> {
  const home = homeFrom(env);
  await ensureHome(home);
  const box = await openSecretBox(home.root, env);
  const { ledger, connectors, accounts } = await openSqliteState(home.database);
  return { home, ledger, store: connectors, accounts, box, close: () => ledger.close() };
}
