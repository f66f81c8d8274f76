// OAuth 2.0 bearer-token logins (SASL XOAUTH2, OAUTHBEARER) for the test
// Dovecot (dovecot.ts), the way Exchange Online takes app-only tokens: the
// token names an application, not a user; the login's user (the mailbox) is
// the identity, and the token only has to be live. Dovecot 2.3 (Debian
// bookworm's 2.3.19.1) asks an RFC 7662 introspection endpoint about each
// token (`introspection_mode = post`: POST token=… as a form).
//
// What this relies on, read in Dovecot 2.3.19.1's source
// (src/auth/db-oauth2.c, src/auth/auth-request.c, src/auth/mech-oauth2.c)
// and https://doc.dovecot.org/2.3/configuration_manual/authentication/oauth2/:
//
// - db_oauth2_user_is_enabled: the answer's `active_attribute` ("active"),
//   when present, must equal `active_value` ("true"; the JSON parser hands a
//   JSON true/false over as the text "true"/"false"), else PASSWORD_MISMATCH:
//   an inactive, revoked or unknown token is refused with
//   `NO [AUTHENTICATIONFAILED]`. (An answer without "active" would pass: the
//   endpoint must always send it, as RFC 7662 requires.)
// - db_oauth2_validate_username: 2.3 REQUIRES the `username_attribute` in the
//   answer (missing: "No username returned", an internal failure, `NO
//   [UNAVAILABLE]`), and compares `username_format` expanded once with the
//   login's user and once with that attribute's value. Dovecot posts only the
//   token (oauth2_introspection_start: token, client_id, client_secret; the
//   X-Dovecot-Auth-* headers carry service and addresses, never the user), so
//   the endpoint cannot echo the user back. Instead: `username_attribute =
//   client_id` (RFC 7662's member naming the app) and a `username_format`
//   without any variable, which expands to the same text on both sides. So
//   the attribute must be there (the token names an app) and the user is the
//   one named in the SASL exchange (mech-oauth2.c: XOAUTH2's `user=`,
//   OAUTHBEARER's gs2 `a=`).
// - `scope` (optional): db_oauth2_token_in_scope wants one of its words in the
//   answer's "scope" (or "aud"), else the login is refused.
// - Without a check, any live token would log in ANY user name, also one the
//   userdb does not know, which then fails after the SASL exchange as an
//   "Internal login failure" (auth-master: "Authenticated user not found from
//   userdb"): Dovecot closes the connection without a tagged answer, which a
//   client takes for a lost connection (tried once, so seen). So the oauth2
//   passdb ends in `continue-ok`, and a second
//   passdb (the same passwd-file, for these mechanisms only) follows: after a
//   continue-ok the password is marked verified (skip_password_check, see
//   auth_request_handle_passdb_callback and auth_request_db_password_verify),
//   so it only looks the user up: known -> logged in, unknown -> return-fail,
//   `NO [AUTHENTICATIONFAILED]`, as Exchange refuses a mailbox the app may
//   not open. Both passdbs are limited to the token mechanisms (`mechanisms`,
//   auth_request_want_skip_passdb), so PLAIN, LOGIN and the master user work
//   as before.
// - No auth cache is configured (auth_cache_size = 0), so every login asks
//   the endpoint again: a revoked or expired token is refused at once.

export type TokenMechanism = 'xoauth2' | 'oauthbearer';

export interface DovecotOAuth2Options {
  /** The RFC 7662 endpoint Dovecot posts each token to (test/support/oauth2-introspection.ts). */
  readonly introspectionUrl: string;
  /**
   * The SASL mechanisms offered for tokens (default both). Exchange Online
   * offers AUTH=XOAUTH2 only; imapflow takes OAUTHBEARER when that is offered too.
   */
  readonly mechanisms?: readonly TokenMechanism[];
  /** A scope the token must hold (the answer's "scope"); default: none checked. */
  readonly scope?: string;
}

export function tokenMechanisms(o: DovecotOAuth2Options): string {
  const mechanisms = o.mechanisms ?? ['xoauth2', 'oauthbearer'];
  if (mechanisms.length === 0) throw new TypeError('oauth2.mechanisms: at least one of xoauth2, oauthbearer');
  return mechanisms.join(' ');
}

/** The oauth2 passdb's args file (dovecot-oauth2.conf.ext). */
export function oauth2ArgsText(o: DovecotOAuth2Options): string {
  if (!/^http:\/\/[^\s]+$/.test(o.introspectionUrl)) throw new TypeError(`oauth2.introspectionUrl "${o.introspectionUrl}" must be a plain http:// URL`);
  if (o.scope !== undefined && !/^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(o.scope)) throw new TypeError(`oauth2.scope "${o.scope}" must be printable words`);
  return [
    `# written by test/support/dovecot-oauth2.ts`,
    `introspection_mode = post`,
    `introspection_url = ${o.introspectionUrl}`,
    `username_attribute = client_id`,
    // no variable: the same text for the login's user and for the client_id (see above)
    `username_format = app-only`,
    `active_attribute = active`,
    `active_value = true`,
    ...(o.scope !== undefined ? [`scope = ${o.scope}`] : []),
    `timeout_msecs = 10000`,
    '',
  ].join('\n');
}

/** The passdbs that check a token, then that the user exists; they go before the others. */
export function oauth2Passdbs(o: DovecotOAuth2Options, argsPath: string, usersPath: string): string[] {
  const mechanisms = tokenMechanisms(o);
  return [
    `passdb {`,
    `  driver = oauth2`,
    `  mechanisms = ${mechanisms}`,
    `  args = ${argsPath}`,
    `  result_success = continue-ok`,
    `  result_failure = return-fail`,
    `  result_internalfail = return-fail`,
    `}`,
    `passdb {`,
    `  driver = passwd-file`,
    `  mechanisms = ${mechanisms}`,
    `  args = ${usersPath}`,
    `  result_failure = return-fail`,
    `  result_internalfail = return-fail`,
    `}`,
  ];
}
