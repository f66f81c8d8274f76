// Connector configurations at rest: checked (connector/config.ts), their
// secrets sealed with the installation's key (secrets.ts), stored in the
// ledger's database (ports/connector-store.ts). Opening one unseals and
// checks it again, so that a configuration edited by hand in the database
// cannot slip past the rules.
import { XipError } from '../errors.js';
import { checkConfig, mapSecrets, type ConnectorConfig } from '../connector/config.js';
import type { ConnectorRow, ConnectorStore } from '../ports/connector-store.js';
import type { SecretBox } from './secrets.js';

export interface LoadedConnector {
  readonly config: ConnectorConfig;
  readonly row: ConnectorRow;
}

export function sealConfig(config: ConnectorConfig, box: SecretBox): string {
  return JSON.stringify(mapSecrets(config, (v) => box.seal(v)));
}

export function openConfig(text: string, box: SecretBox): ConnectorConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new XipError('CONFIG_INVALID', `the stored configuration is not JSON: ${(e as Error).message}`);
  }
  return checkConfig(mapSecrets(raw as ConnectorConfig, (v) => box.open(v)));
}

export async function loadConnector(store: ConnectorStore, box: SecretBox, name: string): Promise<LoadedConnector> {
  const row = await store.getConnector(name);
  if (!row) throw new XipError('CONNECTOR_NOT_FOUND', `there is no connector named "${name}" (xip connector list shows them)`);
  return { config: openConfig(row.config, box), row };
}
