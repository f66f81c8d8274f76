// From a checked configuration to the adapters a connector's run takes: the
// source, the target, the trust anchors, the directory and mapping. This is
// the only place that knows which adapter each kind of source or target is
// (style.md: wiring at start-up only); the run itself sees ports.
import type { ConnectorConfig, SourceConfig } from '../connector/config.js';
import type { ConnectorRunOptions } from '../connector/daily.js';
import { createTarget, IMAP_PASSWORD_ENV, parseTarget } from '../delivery/index.js';
import * as graphSettings from '../delivery/graph/settings.js';
import { XipError } from '../errors.js';
import { loadDirectory, loadMapping, mappingOptions, type Directory } from '../mapping/index.js';
import { envFromApp } from './graph-app.js';
import type { ConnectorSource } from '../ports/container-source.js';
import { parseCertificates, parseCrls } from '../xip/cms/index.js';
import { livePath, type Home } from './home.js';

/** Builds the source; nothing connects until it is listed. */
export async function buildSource(home: Home, source: SourceConfig): Promise<ConnectorSource> {
  switch (source.kind) {
    case 'folder': {
      const { folderSource } = await import('../sources/folder.js');
      return folderSource(livePath(home, source.path));
    }
    case 'sftp': {
      const { sftpSource } = await import('../sources/sftp.js');
      return sftpSource({
        host: source.host,
        port: source.port,
        username: source.username,
        path: source.path,
        hostKey: source.hostKey,
        ...(source.password !== undefined ? { password: source.password } : {}),
        ...(source.privateKey !== undefined ? { privateKey: source.privateKey } : {}),
        ...(source.passphrase !== undefined ? { passphrase: source.passphrase } : {}),
      });
    }
    case 'azure': {
      const { azureBlobSource, parseAzureUrl } = await import('../sources/azure-blob.js');
      const credential = source.auth === 'key' ? { kind: 'key' as const, accountKey: source.secret } : { kind: 'sas' as const, sas: source.secret };
      return azureBlobSource(parseAzureUrl(source.url), credential);
    }
  }
}

/** The target as `--to` names it, a maildir root inside XIP_HOME resolved again (the target part of a configuration is all it reads: the wizard's test delivery has no more). */
export function targetSpec(home: Home, config: Pick<ConnectorConfig, 'target'>) {
  const to = config.target.to.startsWith('maildir:') ? `maildir:${livePath(home, config.target.to.slice('maildir:'.length))}` : config.target.to;
  return parseTarget(to, { ...envFromApp(config.target.app), ...(config.target.password !== undefined ? { [IMAP_PASSWORD_ENV]: config.target.password } : {}) });
}

/** The directory: the CSV copied in, or the tenant's users (read over the network: at run time only). */
async function directoryOf(config: ConnectorConfig): Promise<Directory> {
  const d = config.directory;
  if (!('graph' in d)) return loadDirectory(d.text, d.file);
  if (config.holdOnly) throw new XipError('CONFIG_INVALID', 'holdOnly needs to know who is on litigation hold, which Microsoft Graph does not expose: give a CSV directory with its litigationHold column');
  const { parseGraphTarget } = graphSettings;
  const { graphDirectory } = await import('../delivery/graph/create.js');
  return graphDirectory(parseGraphTarget(d.graph, envFromApp(config.target.app), 'directory'));
}

export type RunInputs = Pick<ConnectorRunOptions, 'source' | 'target' | 'verify' | 'mapping' | 'folder' | 'connectorName' | 'settleMs'>;

/**
 * What the configuration gives without connecting to anything: the trust
 * anchors and CRLs parsed, the directory and mapping loaded, the target
 * address parsed. `add` and `edit` call it so that a mistake is reported
 * when it is made, not at the next scheduled run.
 */
export function staticInputs(home: Home, config: ConnectorConfig): Pick<RunInputs, 'verify'> & { targetDescription: string } {
  const trust = config.trust.flatMap((t) => parseCertificates(Buffer.from(t.text), t.file));
  const crls = config.crls.flatMap((c) => parseCrls(Buffer.from(c.text), c.file));
  const d = config.directory;
  if ('graph' in d) {
    const { parseGraphTarget } = graphSettings;
    parseGraphTarget(d.graph, envFromApp(config.target.app), 'directory');
    if (config.holdOnly) throw new XipError('CONFIG_INVALID', 'holdOnly needs to know who is on litigation hold, which Microsoft Graph does not expose: give a CSV directory with its litigationHold column');
  } else mappingOf(config, loadDirectory(d.text, d.file));
  return { verify: { trust, crls, stagingDir: home.staging }, targetDescription: targetSpec(home, config).description };
}

function mappingOf(config: ConnectorConfig, directory: Directory): RunInputs['mapping'] {
  const mapping = config.mapping ? loadMapping(config.mapping.text, config.mapping.file, directory) : undefined;
  return mappingOptions({ directory, mapping, catchAll: config.catchAll, holdOnly: config.holdOnly });
}

/** Everything of the configuration a run takes; the caller closes source and target. */
export async function runInputs(home: Home, config: ConnectorConfig): Promise<RunInputs> {
  const { verify } = staticInputs(home, config);
  const options = mappingOf(config, await directoryOf(config));
  const source = await buildSource(home, config.source);
  let target;
  try {
    target = await createTarget(targetSpec(home, config));
  } catch (e) {
    await source.close();
    throw e;
  }
  return {
    source,
    target,
    verify,
    mapping: options,
    folder: config.folder,
    connectorName: config.name,
    settleMs: config.settleSeconds * 1000,
  };
}

/** What a part of a shared run takes (home/shared-runs.ts): the run's inputs but its source, which only the run that fetched reads. The caller closes the target. */
export async function partInputs(home: Home, config: ConnectorConfig): Promise<Omit<RunInputs, 'source' | 'settleMs'>> {
  const { verify } = staticInputs(home, config);
  const mapping = mappingOf(config, await directoryOf(config));
  const target = await createTarget(targetSpec(home, config));
  return { target, verify, mapping, folder: config.folder, connectorName: config.name };
}
