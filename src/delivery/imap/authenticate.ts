// Logging in as the administrative identity acting for one mailbox. Two ways,
// both supported by Dovecot:
//
// - "sasl-plain": AUTHENTICATE PLAIN with an authorization identity (RFC 4616
//   §2: message = [authzid] NUL authcid NUL passwd), authcid = the admin,
//   authzid = the mailbox. Standard; Dovecot grants it to master users.
// - "master-user": LOGIN "<mailbox>*<admin>" (Dovecot's
//   auth_master_user_separator, "*" by default), for servers or proxies that
//   offer no AUTH=PLAIN.
//
// "auto" (the default, decided in index.ts) uses SASL PLAIN when the server
// offers AUTH=PLAIN, else the master-user login.
//
// A third way has no administrative identity: "oauth2-app" logs in as the
// mailbox itself with an application's OAuth 2.0 token (oauth2.ts; Exchange
// Online's app-only access). "auto" never picks it.
//
// Refusals use RFC 5530 codes: AUTHORIZATIONFAILED (Dovecot: the admin's
// password is right but the mailbox does not exist or may not be acted for)
// and AUTHENTICATIONFAILED (the admin's credentials are wrong; with a token,
// the token or the mailbox alike: index.ts tells them apart).
import type { ConnectionOptions } from 'node:tls';
import { ImapFlow, type ImapFlowError, type Logger } from 'imapflow';
import { authMethodsUsed } from './internals.js';
import { offersTokenLogin, tokenAuth, usedTokenLogin } from './oauth2.js';

export type AuthMode = 'sasl-plain' | 'master-user' | 'oauth2-app';

export interface ConnectSettings {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (imaps://). */
  readonly secure: boolean;
  readonly tls: ConnectionOptions | undefined;
  /** STARTTLS policy for imap://: true requires it, false never, undefined when offered (imapflow's default). */
  readonly doSTARTTLS: boolean | undefined;
  readonly user: string;
  readonly password: string;
  readonly masterSeparator: string;
  readonly logger: Logger | false;
  readonly connectTimeoutMs: number;
  readonly socketTimeoutMs: number;
}

/** The server refused the login for this mailbox. */
export class LoginRefused extends Error {
  constructor(
    readonly responseCode: string | undefined,
    readonly serverText: string,
    /** Whether the server offered AUTH=PLAIN, to choose the other way when it did not. */
    readonly plainOffered: boolean,
  ) {
    super(`login refused${responseCode ? ` [${responseCode}]` : ''}: ${serverText}`);
    this.name = 'LoginRefused';
  }
}

/** Logs in for `mailbox`; `accessToken` is the app's token for 'oauth2-app'. */
export async function authenticate(settings: ConnectSettings, mailbox: string, mode: AuthMode, accessToken = ''): Promise<ImapFlow> {
  const auth =
    mode === 'oauth2-app'
      ? tokenAuth(mailbox, accessToken)
      : mode === 'sasl-plain'
      ? // loginMethod pins PLAIN: without it imapflow would fall back to AUTH=LOGIN, which has no authzid
        { user: settings.user, pass: settings.password, authzid: mailbox, loginMethod: 'AUTH=PLAIN' }
      : { user: `${mailbox}${settings.masterSeparator}${settings.user}`, pass: settings.password, loginMethod: 'LOGIN' };
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    tls: settings.tls,
    doSTARTTLS: settings.doSTARTTLS,
    auth,
    logger: settings.logger,
    disableAutoIdle: true, // our commands own the connection; an IDLE would sit between them
    disableCompression: true, // message bodies go out as they are; DEFLATE costs CPU for little
    connectionTimeout: settings.connectTimeoutMs,
    greetingTimeout: settings.connectTimeoutMs,
    socketTimeout: settings.socketTimeoutMs,
  });
  // imapflow emits 'error' for a connection that fails outside a command; the
  // command in flight rejects with it too, and that is where it is handled.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    const err = e as ImapFlowError;
    client.close();
    if (err.authenticationFailed) {
      throw new LoginRefused(err.serverResponseCode?.toUpperCase(), String(err.responseText ?? err.response ?? err.message), client.capabilities.has('AUTH=PLAIN'));
    }
    if (mode === 'oauth2-app' && client.capabilities.size > 0 && !offersTokenLogin(client)) {
      throw new LoginRefused(undefined, 'the server offers neither AUTH=XOAUTH2 nor AUTH=OAUTHBEARER, so the token cannot be used', client.capabilities.has('AUTH=PLAIN'));
    }
    throw e;
  }
  if (mode === 'oauth2-app' && !usedTokenLogin(client)) {
    await client.logout().catch(() => client.close());
    throw new LoginRefused(undefined, 'the server let the connection in without the token login (PREAUTH?), so it may not act for the mailbox', false);
  }
  // A server offering neither AUTH=PLAIN nor AUTH=LOGIN gets imapflow's plain
  // LOGIN, which logs in as the admin itself, without the authzid: never
  // deliver on such a session.
  if (mode === 'sasl-plain' && !authMethodsUsed(client).includes('AUTH=PLAIN')) {
    await client.logout().catch(() => client.close());
    throw new LoginRefused(undefined, 'the server offers no SASL PLAIN, so the login could not name the mailbox', false);
  }
  return client;
}
