// `--to` as the CLI and the server receive it, checked once and frozen
// (style.md: configuration validated once at start-up). Nothing connects
// here; createTarget (index.ts) builds the target from the result.
//
//   maildir:ROOT                   the embedded default (maildir/)
//   imap://USER@HOST:PORT          STARTTLS when offered (imap/)
//   imaps://USER@HOST:PORT         implicit TLS
//   graph://TENANT                 Microsoft 365 through Microsoft Graph (graph/settings.ts)
//
// The IMAP password comes from XIP_IMAP_PASSWORD in `env`, never the URL.
// With auth=oauth2-app (imaps://HOST?auth=oauth2-app, app-only OAuth 2.0,
// imap/oauth2.ts) there is no password: `oauth2` holds the app whose tokens
// log in (XIP_GRAPH_TENANT, XIP_GRAPH_CLIENT_ID and its credential), and
// createTarget gives the IMAP target a token source made from it.
import { resolve } from 'node:path';
import { XipError } from '../errors.js';
import { parseGraphTarget, parseOauthApp, type GraphApp, type GraphSpec } from './graph/settings.js';
import { parseImapUrl } from './imap/url.js';

export type TargetSpec =
  | { readonly kind: 'maildir'; readonly root: string; readonly description: string }
  | { readonly kind: 'imap'; readonly url: string; readonly password: string; readonly oauth2?: GraphApp & { readonly scope: string }; readonly description: string }
  | GraphSpec;

/** The text of a --to for an error message: a password written in the URL by mistake is not repeated. */
function shown(spec: string): string {
  return spec.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@').slice(0, 200);
}

export const IMAP_PASSWORD_ENV = 'XIP_IMAP_PASSWORD';

export function parseTarget(spec: string, env: Readonly<Record<string, string | undefined>>): TargetSpec {
  if (spec.startsWith('maildir:')) {
    const root = spec.slice('maildir:'.length);
    if (!root) throw new XipError('USAGE', '--to maildir:ROOT needs a directory');
    const abs = resolve(root);
    return Object.freeze({ kind: 'maildir', root: abs, description: `maildir:${abs}` });
  }
  if (/^imaps?:/i.test(spec)) {
    let description: string;
    let oauth2: boolean;
    try {
      const address = parseImapUrl(spec);
      description = address.description;
      oauth2 = address.auth === 'oauth2-app';
    } catch (e) {
      throw new XipError('USAGE', `--to ${shown(spec)}: ${(e as Error).message}`);
    }
    if (oauth2) return Object.freeze({ kind: 'imap', url: spec, password: '', oauth2: parseOauthApp(env, `--to ${description}`), description });
    const password = env[IMAP_PASSWORD_ENV];
    if (!password) throw new XipError('USAGE', `--to ${description} needs the administrative password in ${IMAP_PASSWORD_ENV}`);
    return Object.freeze({ kind: 'imap', url: spec, password, description });
  }
  if (/^graph:/i.test(spec)) return parseGraphTarget(spec, env);
  throw new XipError('USAGE', `--to "${shown(spec)}": expected maildir:ROOT, imap://USER@HOST:PORT, imaps://USER@HOST:PORT or graph://TENANT`);
}
