// Opening an installation: XIP_HOME made if missing, its database (ledger and
// connectors, migrated), and the key to its secrets.
import { openSqliteState } from '../ledger/sqlite.js';
import { ensureHome, homeFrom } from './home.js';
import type { InstallationState } from './run-connector.js';
import { openSecretBox } from './secrets.js';

export async function openInstallation(env: NodeJS.ProcessEnv): Promise<InstallationState & { close(): Promise<void> }> {
  const home = homeFrom(env);
  await ensureHome(home);
  const box = await openSecretBox(home.root, env);
  const { ledger, connectors } = await openSqliteState(home.database);
  return { home, ledger, store: connectors, box, close: () => ledger.close() };
}
