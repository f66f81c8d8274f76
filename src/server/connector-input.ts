// A configuration sent to the API, made into one the store takes: the same
// checks as `xip connector add` and `edit` (cli/connector-config.ts) —
// checkConfig, the schedule is a cron expression, and staticInputs (the
// certificates and CRLs parse, the directory and mapping load, the target
// address parses) — so that a mistake is answered now, not at 02:00.
//
// Paths: the server's working directory means nothing to a client, so a
// folder source and a maildir target must be absolute (or "$XIP_HOME/…");
// inside XIP_HOME they are stored relative to it, as the CLI stores them.
//
// Editing keeps secrets: a secret omitted from a PUT, or sent back as the
// "(set)" the API shows in its place, keeps its stored value — but only
// where what it unlocks is unchanged (the SFTP server, port, user and host
// key; the Azure account; the IMAP address; the Microsoft 365 app and its
// endpoints). Otherwise a stored password could be replayed to a server of
// the editor's choosing, and secrets the API never shows would leak anyway.
import { isAbsolute } from 'node:path';
import { checkConfig, type ConnectorConfig } from '../connector/config.js';
import type { TargetSpec } from '../delivery/index.js';
import { XipError } from '../errors.js';
import { HOME_MARK, storedPath, type Home } from '../home/home.js';
import { checkSchedule } from '../home/schedule.js';
import { staticInputs, targetSpec } from '../home/wiring.js';

/** What the API shows in place of a secret (connector/config.ts redacted). */
export const SECRET_SHOWN = '(set)';

type Json = Record<string, unknown>;

/** The checked configuration of a new connector, or of an edited one (given `current`). */
export function configFromRequest(home: Home, body: unknown, current?: ConnectorConfig): ConnectorConfig {
  const input = structuredClone(body) as Json;
  if (current) keepSecrets(input, current);
  dropShownSecrets(input);
  localPaths(home, input);
  const config = checkConfig(input);
  checkSchedule(config);
  asConfigError(() => staticInputs(home, config));
  return config;
}

/** The target part of a configuration from a client (the wizard's test delivery), its address parsed as a connector's is: CONFIG_INVALID naming what is wrong. */
export function targetFromRequest(home: Home, target: ConnectorConfig['target']): TargetSpec {
  const input = { target: structuredClone(target) as unknown as Json };
  localPaths(home, input);
  return asConfigError(() => targetSpec(home, input as unknown as Pick<ConnectorConfig, 'target'>));
}

function asConfigError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    // The target's and directory's parsers speak to the CLI (USAGE, "--to …"); here the configuration is at fault.
    if (e instanceof XipError && e.code === 'USAGE') throw new XipError('CONFIG_INVALID', e.detail ?? e.message, { cause: e });
    throw e;
  }
}


function object(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function omitted(holder: Json, key: string): boolean {
  return !(key in holder) || holder[key] === SECRET_SHOWN;
}

function same(a: Json, b: Readonly<Json>, keys: readonly string[]): boolean {
  return keys.every((k) => a[k] === b[k]);
}

/** Puts back the stored secrets the request left out, where their endpoint is unchanged. */
function keepSecrets(input: Json, current: ConnectorConfig): void {
  const source = object(input.source);
  const was = current.source as unknown as Json;
  if (source && source.kind === was.kind) {
    if (source.kind === 'sftp' && same(source, was, ['host', 'port', 'username', 'hostKey'])) {
      const givesPassword = !omitted(source, 'password');
      const givesKey = !omitted(source, 'privateKey');
      // One credential replaces the other: a new password drops the stored key, and a new key the stored password and passphrase.
      if (!givesPassword && !givesKey) {
        if (was.password !== undefined) source.password = was.password;
        if (was.privateKey !== undefined) source.privateKey = was.privateKey;
      }
      if (!givesPassword && !givesKey && omitted(source, 'passphrase') && was.passphrase !== undefined) source.passphrase = was.passphrase;
    }
    if (source.kind === 'azure' && sameAzureAccount(source, was) && omitted(source, 'secret')) source.secret = was.secret;
  }
  const target = object(input.target);
  if (target) {
    if (target.to === current.target.to && omitted(target, 'password') && current.target.password !== undefined) target.password = current.target.password;
    const app = object(target.app);
    const wasApp = current.target.app as Readonly<Json> | undefined;
    if (app && wasApp && same(app, wasApp, ['tenant', 'clientId', 'certificate', 'graphUrl', 'loginUrl', 'imapUrl', 'imapScope'])) {
      for (const key of ['clientSecret', 'privateKey']) if (omitted(app, key) && wasApp[key] !== undefined) app[key] = wasApp[key];
    }
  }
}

function sameAzureAccount(a: Json, b: Readonly<Json>): boolean {
  if (a.auth !== b.auth || typeof a.url !== 'string' || typeof b.url !== 'string') return false;
  try {
    return new URL(a.url).host.toLowerCase() === new URL(b.url).host.toLowerCase();
  } catch {
    return false;
  }
}

/** "(set)" where no stored secret was kept: as if omitted (checkConfig then says what is missing). */
function dropShownSecrets(input: Json): void {
  const holders = [object(input.source), object(input.target), object(object(input.target)?.app)];
  for (const h of holders) for (const key of ['password', 'privateKey', 'passphrase', 'secret', 'clientSecret']) if (h && h[key] === SECRET_SHOWN) delete h[key];
}

/** A folder source or maildir target: absolute, or "$XIP_HOME/…"; stored relative to XIP_HOME when inside it. */
function localPaths(home: Home, input: Json): void {
  const source = object(input.source);
  if (source?.kind === 'folder' && typeof source.path === 'string') source.path = localPath(home, source.path, 'source.path');
  const target = object(input.target);
  if (typeof target?.to === 'string' && target.to.startsWith('maildir:')) target.to = `maildir:${localPath(home, target.to.slice('maildir:'.length), 'target.to')}`;
}

/** A local path from a client: absolute or "$XIP_HOME/…", stored relative to XIP_HOME (the wizard's checks use it too). */
export function localPath(home: Home, path: string, field: string): string {
  if (path === HOME_MARK || path.startsWith(`${HOME_MARK}/`)) return path;
  if (!isAbsolute(path)) throw new XipError('CONFIG_INVALID', `${field}: must be an absolute path (or start with ${HOME_MARK}/), since the server's working directory means nothing to the client`);
  return storedPath(home, path);
}
