// App-only OAuth 2.0 for the IMAP target (auth mode 'oauth2-app'), as
// Exchange Online takes it: the application gets a token with the client
// credentials grant (scope https://outlook.office365.com/.default, the
// application permission IMAP.AccessAsApp, and the app's service principal
// given access to the mailboxes in Exchange), then logs in to each mailbox
// with SASL XOAUTH2, user = the mailbox's address, the token as bearer:
//
//   base64("user=" + mailbox + "^Aauth=Bearer " + token + "^A^A")
//
// See "Authenticate an IMAP, POP or SMTP connection using OAuth",
// https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
// (sections "SASL XOAUTH2" and "Use client credentials grant flow to
// authenticate SMTP, IMAP and POP connections").
//
// imapflow does the exchange when given `auth: { user, accessToken }`
// (dist/esm/commands/authenticate.js, authOauth): AUTHENTICATE OAUTHBEARER
// (RFC 7628, the user as the gs2 authzid) when the server offers it, else
// AUTHENTICATE XOAUTH2 (Exchange Online offers only that), the payload on
// the command line with SASL-IR, and its log shows "(* value hidden *)" for it.
//
// The token comes from a token source, called for each new login (never
// kept here), so that a session opened after the token expired logs in with
// a renewed one; the caller caches and renews. Exchange ends a session whose
// token expired with "* BYE Session invalidated - AccessTokenExpired" at the
// next command: a connection fault, so the target logs in again
// (deliver.ts), which calls the source again.
import type { ImapFlow } from 'imapflow';
import { DeliveryError } from '../errors.js';
import { authMethodsUsed } from './internals.js';

/** Gives the app's current access token; called for each login. */
export type AccessTokenSource = () => Promise<string>;

/** The SASL mechanisms imapflow logs in with when given a token. */
const TOKEN_METHODS = ['AUTH=XOAUTH2', 'AUTH=OAUTHBEARER'];

/** A bearer token as RFC 6750 §2.1 writes it (b64token): nothing that could break the SASL framing. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The app's token from the source. What the source throws, and a token that
 * could not be sent, is TARGET_AUTH_FAILED; the message holds the source's
 * message, never a token.
 */
export async function fetchAccessToken(source: AccessTokenSource | undefined, context: string): Promise<string> {
  if (!source) throw new DeliveryError('TARGET_AUTH_FAILED', `${context}: no access token source was given`);
  let token: unknown;
  try {
    token = await source();
  } catch (e) {
    throw new DeliveryError('TARGET_AUTH_FAILED', `${context}: the access token could not be obtained: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  if (typeof token !== 'string' || !B64TOKEN.test(token)) {
    throw new DeliveryError('TARGET_AUTH_FAILED', `${context}: the access token source gave ${typeof token === 'string' ? (token ? 'a token that is not a bearer token (RFC 6750 b64token)' : 'an empty token') : `a ${typeof token}, not a token`}`);
  }
  return token;
}

/** imapflow's login as `mailbox` with the app's token. */
export function tokenAuth(mailbox: string, token: string): { user: string; accessToken: string } {
  return { user: mailbox, accessToken: token };
}

/** Whether the server (its greeting's capabilities) offers a token login imapflow can do. */
export function offersTokenLogin(client: ImapFlow): boolean {
  return TOKEN_METHODS.some((m) => client.capabilities.has(m));
}

/** Whether this connection was logged in with a token (not, say, PREAUTH'd as someone else). */
export function usedTokenLogin(client: ImapFlow): boolean {
  return authMethodsUsed(client).some((m) => TOKEN_METHODS.includes(m));
}
