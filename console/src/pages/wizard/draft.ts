// What the wizard holds while an admin fills it in, and how it becomes the
// ConnectorConfig the server takes (POST and PUT /api/connectors,
// docs/console.md). Secrets a stored connector has come back as "(set)":
// left empty in an edit, they are sent back as "(set)", which keeps them
// (only while what they unlock is unchanged: the server's rule).
import type { ConnectorConfig } from '../../api/queries';
import type { Schemas } from '../../api/client';

export type SourceConfig = Schemas['WizardSource']['source'];
export type TextFile = { file: string; text: string };

export const DEFAULT_SCHEDULE = '0 2 * * *';
export const DEFAULT_FOLDER = 'Inbox/XIP';
export const SET = '(set)';
export const NAME_RULE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export interface Draft {
  name: string;
  source: string;
  hostKey: string;
  sourcePassword: string;
  sourcePrivateKey: string;
  azureAuth: 'key' | 'sas';
  azureSecret: string;
  trust: TextFile[];
  trustPaste: string;
  directory: TextFile | { graph: string } | null;
  mapping: TextFile | null;
  destination: string;
  destinationPassword: string;
  appClientId: string;
  appClientSecret: string;
  folder: string;
  testMailbox: string;
  schedule: string;
  /** IANA; empty: the server's time zone. */
  timezone: string;
  /** The stored configuration being edited: what the wizard does not show (CRLs, catch-all…) is kept from it. */
  base: ConnectorConfig | null;
}

export function newDraft(): Draft {
  return {
    name: '',
    source: '',
    hostKey: '',
    sourcePassword: '',
    sourcePrivateKey: '',
    azureAuth: 'sas',
    azureSecret: '',
    trust: [],
    trustPaste: '',
    directory: null,
    mapping: null,
    destination: '',
    destinationPassword: '',
    appClientId: '',
    appClientSecret: '',
    folder: DEFAULT_FOLDER,
    testMailbox: '',
    schedule: DEFAULT_SCHEDULE,
    timezone: 'UTC',
    base: null,
  };
}

/** The address a source is typed as: a folder path, sftp://USER@HOST:PORT/PATH or the Azure container URL. */
export function sourceAddress(s: SourceConfig): string {
  if (s.kind === 'folder') return s.path;
  if (s.kind === 'sftp') return `sftp://${encodeURIComponent(s.username)}@${s.host.includes(':') ? `[${s.host}]` : s.host}${s.port === 22 ? '' : `:${s.port}`}${s.path.startsWith('/') ? '' : '/'}${s.path}`;
  return s.url;
}

/** The destination as typed: a maildir is shown as its path. */
function destinationAddress(to: string): string {
  return to.startsWith('maildir:') ? to.slice('maildir:'.length) : to;
}

export function draftFromConfig(config: ConnectorConfig): Draft {
  const s = config.source;
  return {
    ...newDraft(),
    name: config.name,
    source: sourceAddress(s),
    hostKey: s.kind === 'sftp' ? s.hostKey : '',
    azureAuth: s.kind === 'azure' ? s.auth : 'sas',
    trust: config.trust.map((t) => ({ file: t.file, text: t.text })),
    directory: 'graph' in config.directory ? { graph: config.directory.graph } : { file: config.directory.file, text: config.directory.text },
    mapping: config.mapping ? { file: config.mapping.file, text: config.mapping.text } : null,
    destination: destinationAddress(config.target.to),
    appClientId: config.target.app?.clientId ?? '',
    folder: config.folder,
    schedule: config.schedule,
    timezone: config.timezone ?? '',
    base: config,
  };
}

export type SourceKind = 'folder' | 'sftp' | 'azure';

export function sourceKind(address: string): SourceKind {
  if (/^sftp:\/\//i.test(address.trim())) return 'sftp';
  if (/^https?:\/\//i.test(address.trim())) return 'azure';
  return 'folder';
}

/** A secret as sent: what was typed, else "(set)" when the stored connector has one. */
function secret(typed: string, stored: string | undefined): string | undefined {
  if (typed !== '') return typed;
  return stored !== undefined ? SET : undefined;
}

/** Whether a secret is only the stored one (the wizard's server checks cannot use it). */
export function usesStoredSecret(d: Draft): boolean {
  const kind = sourceKind(d.source);
  if (kind === 'sftp') return d.sourcePassword === '' && d.sourcePrivateKey === '' && d.base !== null;
  if (kind === 'azure') return d.azureSecret === '' && d.base !== null;
  return false;
}

/** Whether the source is still the one stored (same address: an edit may keep its secret). */
export function sourceUnchanged(d: Draft): boolean {
  return d.base !== null && sourceAddress(d.base.source) === d.source.trim();
}

/** The source of a configuration, or what is wrong with what was typed. */
export function sourceOf(d: Draft): { ok: true; source: SourceConfig } | { ok: false; message: string } {
  const address = d.source.trim();
  const stored = d.base?.source;
  if (!address) return { ok: false, message: 'Source: give a folder path, an sftp:// address or an Azure Blob container URL' };
  const kind = sourceKind(address);
  if (kind === 'sftp') {
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      return { ok: false, message: `Source: "${address}" is not an sftp://USER@HOST[:PORT]/PATH address` };
    }
    if (!url.username) return { ok: false, message: 'Source: the address names no user (sftp://USER@HOST/PATH)' };
    if (url.password) return { ok: false, message: 'Source: do not put the password in the address; give it in Password' };
    if (!FINGERPRINT.test(d.hostKey.trim())) return { ok: false, message: 'Host key: the server key fingerprint as ssh-keygen -lf prints it, SHA256: and 43 characters' };
    const storedSftp = stored?.kind === 'sftp' ? stored : undefined;
    const password = d.sourcePrivateKey === '' ? secret(d.sourcePassword, storedSftp?.password) : undefined;
    const privateKey = d.sourcePassword === '' ? secret(d.sourcePrivateKey, storedSftp?.privateKey) : undefined;
    if ((password === undefined) === (privateKey === undefined)) return { ok: false, message: 'Give exactly one of a Password or a Private key for the SFTP server' };
    return {
      ok: true,
      source: {
        kind: 'sftp',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port ? Number(url.port) : 22,
        username: decodeURIComponent(url.username),
        path: decodeURIComponent(url.pathname) || '/',
        hostKey: d.hostKey.trim(),
        ...(password !== undefined ? { password } : {}),
        ...(privateKey !== undefined ? { privateKey, ...(privateKey === SET && storedSftp?.passphrase ? { passphrase: SET } : {}) } : {}),
      },
    };
  }
  if (kind === 'azure') {
    const value = secret(d.azureSecret.trim(), stored?.kind === 'azure' ? stored.secret : undefined);
    if (value === undefined) return { ok: false, message: 'Azure key or SAS: give the account key or a SAS token with read and list permissions' };
    return { ok: true, source: { kind: 'azure', url: address, auth: d.azureAuth, secret: value } };
  }
  if (!address.startsWith('/') && !address.startsWith('$XIP_HOME/')) return { ok: false, message: `Source: "${address}" must be an absolute folder path on the server (it starts with /)` };
  return { ok: true, source: { kind: 'folder', path: address } };
}

/** The trust anchors: the files given and the PEM pasted. */
export function trustOf(d: Draft): TextFile[] {
  const pasted = d.trustPaste.trim();
  return [...d.trust, ...(pasted ? [{ file: 'pasted.pem', text: `${pasted}\n` }] : [])];
}

export type DestinationKind = 'maildir' | 'imap' | 'graph';

export function destinationKind(address: string): DestinationKind {
  if (/^imaps?:/i.test(address.trim())) return 'imap';
  if (/^graph:/i.test(address.trim())) return 'graph';
  return 'maildir';
}

export type Target = ConnectorConfig['target'];

export function targetOf(d: Draft): { ok: true; target: Target } | { ok: false; message: string } {
  const address = d.destination.trim();
  const stored = d.base?.target;
  if (!address) return { ok: false, message: 'Destination: give a maildir folder path, an imap:// or imaps:// address, or graph://TENANT' };
  const kind = destinationKind(address);
  if (kind === 'maildir') {
    const path = address.startsWith('maildir:') ? address.slice('maildir:'.length) : address;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return { ok: false, message: `Destination: "${address}" is not a maildir path, imap://, imaps:// or graph:// address` };
    if (!path.startsWith('/') && !path.startsWith('$XIP_HOME/')) return { ok: false, message: `Destination: the maildir "${path}" must be an absolute path on the server` };
    return { ok: true, target: { to: `maildir:${path}` } };
  }
  if (kind === 'imap') {
    if (/[?&]auth=oauth2-app/i.test(address)) return { ok: false, message: 'Destination: IMAP with auth=oauth2-app is set up with xip connector add (it needs the Microsoft 365 app)' };
    const password = secret(d.destinationPassword, stored?.to === address ? stored.password : undefined);
    if (password === undefined) return { ok: false, message: 'IMAP password: give the administrative password of the IMAP server' };
    return { ok: true, target: { to: address, password } };
  }
  if (!/^graph:\/\/[^/?#]+\/?$/i.test(address)) return { ok: false, message: 'Destination: a Microsoft 365 destination is graph://TENANT' };
  if (!d.appClientId.trim()) return { ok: false, message: 'App (client) ID: name the Microsoft 365 app that delivers the mail' };
  const storedApp = stored?.app;
  const clientSecret = secret(d.appClientSecret, storedApp?.clientId === d.appClientId.trim() ? storedApp.clientSecret : undefined);
  const keepsCertificate = storedApp?.clientId === d.appClientId.trim() && storedApp.certificate !== undefined && d.appClientSecret === '';
  if (clientSecret === undefined && !keepsCertificate) return { ok: false, message: 'Client secret: give the secret of the Microsoft 365 app' };
  const app = keepsCertificate ? { ...storedApp, clientSecret: undefined } : { ...(storedApp?.clientId === d.appClientId.trim() ? storedApp : {}), clientId: d.appClientId.trim(), clientSecret };
  return { ok: true, target: { to: address, app: strip(app) as NonNullable<Target['app']> } };
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The whole configuration, once every step has passed. */
export function configOf(d: Draft): ConnectorConfig {
  const source = sourceOf(d);
  const target = targetOf(d);
  if (!source.ok) throw new Error(source.message);
  if (!target.ok) throw new Error(target.message);
  if (!d.directory) throw new Error('Directory (CSV): give the directory of your users');
  const base = d.base;
  return strip({
    version: 1,
    name: d.name.trim(),
    source: source.source,
    trust: trustOf(d),
    crls: base?.crls ?? [],
    directory: d.directory,
    mapping: d.mapping ?? undefined,
    target: target.target,
    folder: d.folder.trim() || DEFAULT_FOLDER,
    schedule: d.schedule.trim() || DEFAULT_SCHEDULE,
    timezone: d.timezone.trim() || undefined,
    catchAll: base?.catchAll,
    holdOnly: base?.holdOnly ?? false,
    settleSeconds: base?.settleSeconds ?? 5,
  }) as ConnectorConfig;
}
