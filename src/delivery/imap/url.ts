// The IMAP target's address: imap://USER@HOST:PORT (STARTTLS when offered,
// port 143) or imaps://USER@HOST:PORT (implicit TLS, port 993), RFC 5092's
// scheme without its mailbox part. USER is the administrative identity, in
// percent-encoding where needed (admin%40corp.example). The password never
// goes in the URL: it comes from XIP_IMAP_PASSWORD (target-spec.ts).
// Query options: auth=auto|sasl-plain|master-user|oauth2-app,
// starttls=required|never. With auth=oauth2-app (app-only OAuth 2.0,
// oauth2.ts) there is no administrative identity: the URL need not name a
// user (imaps://outlook.office365.com?auth=oauth2-app), and one it names is
// not used for logging in.
import type { AuthMode } from './authenticate.js';

export interface ImapAddress {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly auth: AuthMode | 'auto' | undefined;
  readonly starttls: 'required' | 'never' | undefined;
  /** The URL without anything secret, for logs. */
  readonly description: string;
}

/**
 * Parses the address; the error message says what is wrong with it.
 * `authOption` is the auth mode set beside the URL, which wins over the URL's.
 */
export function parseImapUrl(text: string, authOption?: AuthMode | 'auto'): ImapAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`"${text}" is not a URL; expected imap://USER@HOST:PORT or imaps://USER@HOST:PORT`);
  }
  const secure = url.protocol === 'imaps:';
  if (!secure && url.protocol !== 'imap:') throw new TypeError(`"${url.protocol}" is not imap: or imaps:`);
  if (url.password) throw new TypeError('the URL holds a password: put it in XIP_IMAP_PASSWORD instead, so that it shows in no command line or log');
  if (!url.hostname) throw new TypeError('the URL names no host');
  if (url.pathname !== '' && url.pathname !== '/') throw new TypeError(`the URL has a path (${url.pathname}); the folder is a setting of its own`);
  let user: string;
  try {
    user = decodeURIComponent(url.username);
  } catch {
    throw new TypeError('the user in the URL is not valid percent-encoding');
  }
  const port = url.port ? Number(url.port) : secure ? 993 : 143;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let auth: ImapAddress['auth'];
  let starttls: ImapAddress['starttls'];
  for (const [key, value] of url.searchParams) {
    if (key === 'auth' && (value === 'auto' || value === 'sasl-plain' || value === 'master-user' || value === 'oauth2-app')) auth = value;
    else if (key === 'starttls' && (value === 'required' || value === 'never') && !secure) starttls = value;
    else throw new TypeError(`unknown URL option ${key}=${value} (known: auth=auto|sasl-plain|master-user|oauth2-app, starttls=required|never for imap://)`);
  }
  if (!url.username && (authOption ?? auth) !== 'oauth2-app') {
    throw new TypeError('the URL names no user: imap://USER@HOST:PORT, USER being the administrative identity (or auth=oauth2-app, which has none)');
  }
  const description = `${url.protocol}//${url.username ? `${url.username}@` : ''}${url.host}${url.search}`;
  return { secure, host, port, user, auth, starttls, description };
}
