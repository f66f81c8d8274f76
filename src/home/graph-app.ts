// The Microsoft 365 app of a connector (connector/config.ts `target.app`)
// and the XIP_GRAPH_* variables it is made from and given back as: `add`
// captures them once (a certificate or key given as a path is read in, so
// that a run never depends on the file again), and each run hands them to
// parseTarget and the Graph directory as if they were the environment.
import { readFileSync } from 'node:fs';
import type { ConnectorConfigInput } from '../connector/config.js';
import { GRAPH_ENV } from '../delivery/graph/settings.js';
import { XipError } from '../errors.js';

export type GraphAppConfig = NonNullable<ConnectorConfigInput['target']['app']>;

const FIELDS = {
  tenant: GRAPH_ENV.tenant,
  clientId: GRAPH_ENV.clientId,
  clientSecret: GRAPH_ENV.secret,
  certificate: GRAPH_ENV.cert,
  privateKey: GRAPH_ENV.key,
  graphUrl: GRAPH_ENV.graphUrl,
  loginUrl: GRAPH_ENV.loginUrl,
  imapUrl: GRAPH_ENV.imapUrl,
  imapScope: GRAPH_ENV.imapScope,
} as const satisfies Record<keyof GraphAppConfig, string>;

function pemText(name: string, value: string): string {
  if (value.includes('-----BEGIN ')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (e) {
    throw new XipError('CONFIG_INVALID', `${name}: "${value.slice(0, 200)}" is neither PEM text nor a readable file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Whether the target or directory needs the app: graph://, or IMAP with auth=oauth2-app. */
export function needsApp(to: string, directory: string | undefined): boolean {
  return /^graph:/i.test(to) || /^imaps?:.*[?&]auth=oauth2-app/i.test(to) || (directory !== undefined && /^graph:/i.test(directory));
}

/** The app from XIP_GRAPH_*; `current` keeps what was set before where the environment says nothing (edit). */
export function appFromEnv(env: NodeJS.ProcessEnv, current?: GraphAppConfig): GraphAppConfig {
  const app: Record<string, string> = { ...(current ?? {}) };
  for (const [field, name] of Object.entries(FIELDS)) {
    const value = env[name];
    if (!value) continue;
    app[field] = field === 'certificate' || field === 'privateKey' ? pemText(name, value) : value;
  }
  if (env[GRAPH_ENV.cert] && !env[GRAPH_ENV.secret]) delete app.clientSecret; // a certificate given now replaces a secret kept
  if (env[GRAPH_ENV.secret] && !env[GRAPH_ENV.cert]) {
    delete app.certificate;
    delete app.privateKey;
  }
  if (!app.clientId) throw new XipError('CONFIG_INVALID', `the Microsoft 365 app's client id goes in ${GRAPH_ENV.clientId}`);
  return app as GraphAppConfig;
}

/** The XIP_GRAPH_* variables the app stands for. */
export function envFromApp(app: GraphAppConfig | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (!app) return env;
  for (const [field, name] of Object.entries(FIELDS)) {
    const value = app[field as keyof GraphAppConfig];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
