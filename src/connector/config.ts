// A connector's configuration: checked once, when an admin adds or edits it,
// with messages that name the field and what to fix; then frozen. It is
// stored as JSON in the ledger's database with its secrets sealed (the
// wiring seals and opens them: home/secrets.ts). Everything a run needs is
// inside it — trust anchors, the directory and the mapping are copied in,
// not referred to by path — so that backing up or moving an installation is
// copying XIP_HOME, and a run tomorrow uses what was checked today.
//
// Paths under XIP_HOME are kept relative to it (written "$XIP_HOME/…"), so
// that the folder can move.
import { z } from 'zod';
import { XipError } from '../errors.js';

export const CONFIG_VERSION = 1;
export const DEFAULT_SCHEDULE = '0 2 * * *'; // every day at 02:00, local time
export const DEFAULT_FOLDER = 'Inbox/XIP';
export const DEFAULT_SETTLE_SECONDS = 5;

/**
 * The Microsoft 365 app (graph:// targets and directories, IMAP with
 * auth=oauth2-app), as the XIP_GRAPH_* variables said when the connector was
 * added: a certificate's PEM is copied in, the secret and the key sealed.
 */
const graphApp = z.strictObject({
  tenant: z.string().min(1).optional(),
  clientId: z.string().min(1, 'must name the app (XIP_GRAPH_CLIENT_ID)'),
  clientSecret: z.string().min(1).optional(),
  certificate: z.string().min(1).optional(),
  privateKey: z.string().min(1).optional(),
  graphUrl: z.string().min(1).optional(),
  loginUrl: z.string().min(1).optional(),
  imapUrl: z.string().min(1).optional(),
  imapScope: z.string().min(1).optional(),
});

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
/** An email address as the configuration takes one (catchAll; the wizard's test mailbox). */
export const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

/** A secret as the configuration holds it: plain in memory after opening, sealed ("v1:…") at rest. */
const secret = z.string().min(1, 'must not be empty');

const folderSource = z.strictObject({ kind: z.literal('folder'), path: z.string().min(1, 'must name a folder') });
const sftpSource = z
  .strictObject({
    kind: z.literal('sftp'),
    host: z.string().min(1, 'must name the SFTP server'),
    port: z.number().int().min(1).max(65535),
    username: z.string().min(1, 'must name the SFTP user'),
    path: z.string().min(1, 'must name the remote folder'),
    hostKey: z.string().regex(FINGERPRINT, 'must be the server\'s host key fingerprint as "ssh-keygen -lf" prints it: SHA256: and 43 base64 characters'),
    password: secret.optional(),
    privateKey: secret.optional(),
    passphrase: secret.optional(),
  })
  .refine((s) => (s.password === undefined) !== (s.privateKey === undefined), {
    message: 'give exactly one of a password (XIP_SFTP_PASSWORD) or a private key (--sftp-key FILE)',
    path: ['password'],
  });
const azureSource = z.strictObject({
  kind: z.literal('azure'),
  url: z.string().url('must be the container URL: https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]'),
  auth: z.enum(['key', 'sas']),
  secret,
});

export const sourceConfig = z.discriminatedUnion('kind', [folderSource, sftpSource, azureSource]);

const textFile = z.strictObject({ file: z.string(), text: z.string() });

export const connectorConfig = z.strictObject({
  version: z.literal(CONFIG_VERSION),
  name: z.string().regex(NAME, 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
  source: sourceConfig,
  /** Trusted certificates, PEM text; each is a trust anchor. */
  trust: z.array(textFile).min(1, 'give at least one --trust PEM: the certificates you trust to sign containers'),
  crls: z.array(textFile).default([]),
  /** A CSV copied in, or the users of a Microsoft 365 tenant read at each run. */
  directory: z.union([textFile, z.strictObject({ graph: z.string().regex(/^graph:\/\/[^/?#]+\/?$/i, 'must be graph://TENANT') })]),
  mapping: textFile.optional(),
  target: z.strictObject({ to: z.string().min(1), password: secret.optional(), app: graphApp.optional() }),
  folder: z.string().min(1, 'must not be empty').default(DEFAULT_FOLDER),
  schedule: z.string().min(1).default(DEFAULT_SCHEDULE),
  /** The time zone the schedule is read in (IANA, e.g. Europe/Paris); none: the server's. */
  timezone: z.string().refine(isTimeZone, 'must be a time zone of the IANA database (such as UTC or Europe/Paris)').optional(),
  catchAll: z.string().regex(ADDRESS, 'must be an email address of the directory').optional(),
  holdOnly: z.boolean().default(false),
  /** Seconds between the two listings that tell a finished file from one still being written. */
  settleSeconds: z.number().int().min(0).max(3600).default(DEFAULT_SETTLE_SECONDS),
});

export type ConnectorConfig = Readonly<z.infer<typeof connectorConfig>>;
export type SourceConfig = z.infer<typeof sourceConfig>;
export type ConnectorConfigInput = z.input<typeof connectorConfig>;

/** Whether the runtime knows this IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

/** Checks a configuration; CONFIG_INVALID names each field at fault and its rule. */
export function checkConfig(input: unknown): ConnectorConfig {
  const parsed = connectorConfig.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'configuration'}: ${i.message}`);
    throw new XipError('CONFIG_INVALID', lines.join('; '));
  }
  return deepFreeze(parsed.data);
}

export function checkConnectorName(name: string): string {
  if (!NAME.test(name)) throw new XipError('CONFIG_INVALID', `name "${name.slice(0, 80)}": must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  return name;
}

/** The names of the secret fields, wherever they sit: what `show` masks and the store seals. */
export function secretPaths(config: ConnectorConfigInput): string[][] {
  const paths: string[][] = [];
  const s = config.source as Record<string, unknown>;
  for (const key of ['password', 'privateKey', 'passphrase', 'secret']) if (typeof s[key] === 'string') paths.push(['source', key]);
  if (config.target.password !== undefined) paths.push(['target', 'password']);
  for (const key of ['clientSecret', 'privateKey'] as const) if (config.target.app?.[key] !== undefined) paths.push(['target', 'app', key]);
  return paths;
}

/** A copy with each secret replaced by f(secret). */
export function mapSecrets<T extends ConnectorConfigInput>(config: T, f: (value: string) => string): T {
  const copy = structuredClone(config) as T;
  for (const path of secretPaths(config)) {
    const holder = path.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, copy as unknown as Record<string, unknown>);
    const key = path.at(-1)!;
    holder[key] = f(holder[key] as string);
  }
  return copy;
}

/** What `show` prints and logs carry: every secret as "(set)". */
export function redacted(config: ConnectorConfigInput): ConnectorConfigInput {
  return mapSecrets(config, () => '(set)');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
