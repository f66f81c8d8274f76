// `xip connector add` and `edit`: from flags (and secrets from the
// environment) to a configuration checked once. Files named by flags (trust
// anchors, CRLs, the directory, the mapping, an SFTP key) are read now and
// copied into the configuration, so a run never depends on them again.
// Beyond the schema, everything a run would trip on is tried here: the
// certificates and CRLs parse, the directory and mapping load, the schedule
// is a cron expression, the source and target addresses parse.
import { resolve } from 'node:path';
import { checkConfig, CONFIG_VERSION, type ConnectorConfig, type ConnectorConfigInput, type SourceConfig } from '../connector/config.js';
import { IMAP_PASSWORD_ENV } from '../delivery/index.js';
import { XipError } from '../errors.js';
import { storedPath, type Home } from '../home/home.js';
import { GRAPH_ENV } from '../delivery/graph/settings.js';
import { appFromEnv, needsApp } from '../home/graph-app.js';
import { checkSchedule } from '../home/schedule.js';
import { staticInputs } from '../home/wiring.js';
import { readText, withAuth } from './options.js';

export const SFTP_PASSWORD_ENV = 'XIP_SFTP_PASSWORD';
export const SFTP_PASSPHRASE_ENV = 'XIP_SFTP_KEY_PASSPHRASE';
export const AZURE_KEY_ENV = 'XIP_AZURE_KEY';
export const AZURE_SAS_ENV = 'XIP_AZURE_SAS';

export interface ConnectorFlags {
  source?: string;
  trust?: string[];
  crl?: string[];
  directory?: string;
  mapping?: string | false;
  to?: string;
  auth?: string;
  folder?: string;
  schedule?: string;
  timezone?: string;
  catchAll?: string | false;
  holdOnly?: boolean;
  sftpKey?: string;
  hostKey?: string;
  settleSeconds?: string;
  json?: boolean;
}

/** A file copied into the configuration: its name as given, and its text. */
async function readCopy(path: string, what: string): Promise<{ file: string; text: string }> {
  return { file: path, text: await readText(path, what) };
}

/** `--source`: a folder path, sftp://USER@HOST[:PORT]/PATH, or an Azure Blob container URL; secrets from the environment. */
export async function sourceFromFlags(home: Home, spec: string, flags: ConnectorFlags, env: NodeJS.ProcessEnv): Promise<SourceConfig> {
  if (/^sftp:\/\//i.test(spec)) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new XipError('CONFIG_INVALID', `--source "${spec}": not an sftp://USER@HOST[:PORT]/PATH address`);
    }
    if (url.password) throw new XipError('CONFIG_INVALID', `--source: do not put a password in the address; give it in ${SFTP_PASSWORD_ENV}`);
    if (!url.username) throw new XipError('CONFIG_INVALID', '--source sftp://USER@HOST/PATH: the user is missing');
    if (!flags.hostKey) throw new XipError('CONFIG_INVALID', '--host-key SHA256:… is required for SFTP: the server key fingerprint as `ssh-keygen -lf` prints it (ask the server administrator)');
    const password = env[SFTP_PASSWORD_ENV];
    const privateKey = flags.sftpKey ? await readText(flags.sftpKey, 'SFTP private key') : undefined;
    const passphrase = env[SFTP_PASSPHRASE_ENV];
    return {
      kind: 'sftp',
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : 22,
      username: decodeURIComponent(url.username),
      path: decodeURIComponent(url.pathname) || '/',
      hostKey: flags.hostKey,
      ...(privateKey !== undefined ? { privateKey, ...(passphrase ? { passphrase } : {}) } : password ? { password } : {}),
    };
  }
  if (/^https?:\/\//i.test(spec)) {
    const key = env[AZURE_KEY_ENV];
    const sas = env[AZURE_SAS_ENV];
    if (!key === !sas) throw new XipError('CONFIG_INVALID', `an Azure Blob source needs exactly one of ${AZURE_KEY_ENV} (the account key) or ${AZURE_SAS_ENV} (a SAS with read and list permissions)`);
    const { parseAzureUrl } = await import('../sources/azure-blob.js');
    parseAzureUrl(spec); // the address is checked now, not at 02:00
    return { kind: 'azure', url: spec, auth: key ? 'key' : 'sas', secret: (key ?? sas)! };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new XipError('CONFIG_INVALID', `--source "${spec}": expected a folder, sftp://USER@HOST[:PORT]/PATH or https://ACCOUNT.blob.core.windows.net/CONTAINER`);
  return { kind: 'folder', path: storedPath(home, resolve(spec)) };
}

/** The target from --to (and --auth); the Microsoft 365 app captured from XIP_GRAPH_* when the target or the directory needs it. */
function targetFromFlags(home: Home, flags: ConnectorFlags, env: NodeJS.ProcessEnv, current?: ConnectorConfig): ConnectorConfigInput['target'] {
  const to = withAuth(flags.to ?? current!.target.to, flags.auth);
  const directory = flags.directory ?? (current && 'graph' in current.directory ? current.directory.graph : undefined);
  const app = needsApp(to, directory) ? { app: appFromEnv(env, current?.target.app) } : {};
  if (to.startsWith('maildir:')) return { to: flags.to ? `maildir:${storedPath(home, resolve(to.slice('maildir:'.length)))}` : to, ...app };
  const password = env[IMAP_PASSWORD_ENV] || (flags.to === undefined || flags.to === current?.target.to ? current?.target.password : undefined);
  return { to, ...(password && !/[?&]auth=oauth2-app/i.test(to) ? { password } : {}), ...app };
}

/** --directory: a CSV copied in, or graph://TENANT read at each run. */
async function directoryFromFlag(path: string): Promise<ConnectorConfigInput['directory']> {
  return /^graph:/i.test(path) ? { graph: path } : readCopy(path, 'directory');
}

function settle(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,4}$/.test(value)) throw new XipError('CONFIG_INVALID', `--settle-seconds must be a whole number from 0 to 3600, got "${value.slice(0, 40)}"`);
  return Number(value);
}


/** A new connector's configuration from `add`'s flags. */
export async function configFromFlags(home: Home, name: string, flags: ConnectorFlags, env: NodeJS.ProcessEnv): Promise<ConnectorConfig> {
  if (!flags.source) throw new XipError('CONFIG_INVALID', '--source is required: a folder, sftp://… or an Azure Blob container URL');
  if (!flags.directory) throw new XipError('CONFIG_INVALID', '--directory is required: the organisation directory, email,name,aliases,litigationHold');
  if (!flags.to) throw new XipError('CONFIG_INVALID', '--to is required: maildir:ROOT, imap://USER@HOST:PORT, imaps://USER@HOST:PORT or graph://TENANT');
  const input: ConnectorConfigInput = {
    version: CONFIG_VERSION,
    name,
    source: await sourceFromFlags(home, flags.source, flags, env),
    trust: await Promise.all((flags.trust ?? []).map((p) => readCopy(p, 'trust file'))),
    crls: await Promise.all((flags.crl ?? []).map((p) => readCopy(p, 'CRL file'))),
    directory: await directoryFromFlag(flags.directory),
    ...(flags.mapping ? { mapping: await readCopy(flags.mapping, 'mapping') } : {}),
    target: targetFromFlags(home, flags, env),
    ...(flags.folder !== undefined ? { folder: flags.folder } : {}),
    ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
    ...(flags.timezone !== undefined ? { timezone: flags.timezone } : {}),
    ...(flags.catchAll ? { catchAll: flags.catchAll } : {}),
    holdOnly: flags.holdOnly ?? false,
    ...(settle(flags.settleSeconds) !== undefined ? { settleSeconds: settle(flags.settleSeconds) } : {}),
  };
  return finish(home, input);
}

/** An edited configuration: what the flags name replaces what was there; the rest stays. */
export async function editedConfig(home: Home, current: ConnectorConfig, flags: ConnectorFlags, env: NodeJS.ProcessEnv): Promise<ConnectorConfig> {
  const next: ConnectorConfigInput = structuredClone(current) as ConnectorConfigInput;
  if (flags.source !== undefined || flags.hostKey !== undefined || flags.sftpKey !== undefined) {
    const spec = flags.source ?? sourceSpec(current.source);
    next.source = await sourceFromFlags(home, spec, { ...flags, hostKey: flags.hostKey ?? (current.source.kind === 'sftp' ? current.source.hostKey : undefined) }, withCurrentSecrets(current.source, env));
  }
  if (next.source.kind === 'sftp' && current.source.kind === 'sftp' && !flags.sftpKey && !env[SFTP_PASSWORD_ENV] && current.source.privateKey) {
    next.source = { ...next.source, privateKey: current.source.privateKey, ...(current.source.passphrase ? { passphrase: current.source.passphrase } : {}) };
    delete next.source.password;
  }
  if (flags.trust) next.trust = await Promise.all(flags.trust.map((p) => readCopy(p, 'trust file')));
  if (flags.crl) next.crls = await Promise.all(flags.crl.map((p) => readCopy(p, 'CRL file')));
  if (flags.directory) next.directory = await directoryFromFlag(flags.directory);
  if (flags.mapping === false) delete next.mapping;
  else if (flags.mapping) next.mapping = await readCopy(flags.mapping, 'mapping');
  if (flags.to || flags.auth || flags.directory || Object.values(GRAPH_ENV).some((name) => env[name])) next.target = targetFromFlags(home, flags, env, current);
  if (flags.folder !== undefined) next.folder = flags.folder;
  if (flags.schedule !== undefined) next.schedule = flags.schedule;
  if (flags.timezone === '') delete next.timezone;
  else if (flags.timezone !== undefined) next.timezone = flags.timezone;
  if (flags.catchAll === false) delete next.catchAll;
  else if (flags.catchAll) next.catchAll = flags.catchAll;
  if (flags.holdOnly !== undefined) next.holdOnly = flags.holdOnly;
  const s = settle(flags.settleSeconds);
  if (s !== undefined) next.settleSeconds = s;
  return finish(home, next);
}

async function finish(home: Home, input: ConnectorConfigInput): Promise<ConnectorConfig> {
  const config = checkConfig(input);
  checkSchedule(config, '--schedule');
  staticInputs(home, config);
  return config;
}

function sourceSpec(source: SourceConfig): string {
  switch (source.kind) {
    case 'folder':
      return source.path;
    case 'sftp':
      return `sftp://${encodeURIComponent(source.username)}@${source.host.includes(':') ? `[${source.host}]` : source.host}:${source.port}${source.path.startsWith('/') ? '' : '/'}${source.path}`;
    case 'azure':
      return source.url;
  }
}

/** On edit, secrets not given again are kept. */
function withCurrentSecrets(source: SourceConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  if (source.kind === 'sftp' && source.password && !out[SFTP_PASSWORD_ENV]) out[SFTP_PASSWORD_ENV] = source.password;
  if (source.kind === 'sftp' && source.passphrase && !out[SFTP_PASSPHRASE_ENV]) out[SFTP_PASSPHRASE_ENV] = source.passphrase;
  if (source.kind === 'azure' && !out[AZURE_KEY_ENV] && !out[AZURE_SAS_ENV]) out[source.auth === 'key' ? AZURE_KEY_ENV : AZURE_SAS_ENV] = source.secret;
  return out;
}
