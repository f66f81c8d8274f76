// The OpenID Provider as the server uses it, over openid-client 6: the
// authorization code flow with PKCE (S256), state and nonce. discoverOidc
// reads the provider's metadata once, at start-up (the wiring calls it, so
// that a wrong issuer stops `xip serve` with SSO_DISCOVERY_FAILED instead of
// failing the first sign-in); the server is handed the result.
//
// openid-client checks the answer (https://github.com/panva/openid-client,
// docs/functions/authorizationCodeGrant.md): the state, the code exchanged
// with the PKCE verifier and the client secret, and the ID token's issuer,
// audience (our client id; azp when there are several), nonce, exp and iat,
// with a clock tolerance of its own. The signature of the ID token is
// checked too, against the provider's JWKS (enableNonRepudiationChecks):
// OpenID Connect Core 3.1.3.7 lets a client trust TLS for a token it
// fetched itself, but checking costs one cached fetch and leaves nothing to
// a proxy or a misrouted request. It speaks HTTPS only.
import * as client from 'openid-client';
import { XipError } from '../../errors.js';
import type { OidcOptions } from './options.js';
import type { PendingSignIn } from './pending.js';

/** The ID token's claims, as openid-client returns them once checked. */
export type IdClaims = Readonly<Record<string, unknown>> & { readonly iss: string; readonly sub: string };

export interface OidcProvider {
  readonly options: OidcOptions;
  /** The issuer as the provider's metadata states it (the `iss` of its ID tokens). */
  readonly issuer: string;
  /** Where to send the browser, and what to keep for the callback. */
  begin(): Promise<{ url: URL; pending: PendingSignIn }>;
  /**
   * The claims of the ID token for this callback's query string (`?code=…&state=…`), once every check has
   * passed; SSO_FAILED otherwise, its detail saying which check (for the log and the audit trail, never shown to the browser).
   */
  finish(search: string, pending: PendingSignIn): Promise<IdClaims>;
}

export interface DiscoverOptions {
  /** How to reach the provider (openid-client's customFetch); default: Node's fetch. Tests give one that trusts their CA. */
  readonly fetch?: client.CustomFetch;
  /** Seconds per request to the provider (openid-client's default: 30). */
  readonly timeoutSeconds?: number;
}

const SCOPE = 'openid profile email';

export async function discoverOidc(options: OidcOptions, io: DiscoverOptions = {}): Promise<OidcProvider> {
  let config: client.Configuration;
  try {
    config = await client.discovery(
      new URL(options.issuer),
      options.clientId,
      undefined,
      // Microsoft Entra ID takes the secret in the body or as HTTP Basic; the body is what its own samples send.
      client.ClientSecretPost(options.clientSecret),
      {
        execute: [client.enableNonRepudiationChecks],
        timeout: io.timeoutSeconds ?? 30,
        ...(io.fetch ? { [client.customFetch]: io.fetch } : {}),
      },
    );
  } catch (e) {
    throw new XipError('SSO_DISCOVERY_FAILED', `${options.issuer}: ${describe(e)}`, { cause: e });
  }
  const issuer = config.serverMetadata().issuer;

  return {
    options,
    issuer,
    async begin() {
      const pending: PendingSignIn = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUrl,
        scope: SCOPE,
        response_type: 'code',
        // The code comes back in the query of a GET: a top-level navigation, so the SameSite=Lax flow cookie comes with it (form_post would be a cross-site POST, without it).
        response_mode: 'query',
        code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { url, pending };
    },
    async finish(search, pending) {
      // The configured redirect URL, not the request's: openid-client sends it as the token request's redirect_uri,
      // which must be the one the browser was sent with (behind a proxy the request's own URL is not).
      const current = new URL(options.redirectUrl);
      current.search = search;
      try {
        const tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims) throw new Error('no ID token');
        return claims as IdClaims;
      } catch (e) {
        throw new XipError('SSO_FAILED', describe(e), { cause: e });
      }
    },
  };
}

/** What went wrong, from openid-client's errors: its code and message, and the provider's error and description when it answered one. Never a token or the secret: openid-client's messages hold neither. */
function describe(e: unknown): string {
  if (e instanceof client.ResponseBodyError || e instanceof client.AuthorizationResponseError) {
    return `the provider answered ${e.error}${e.error_description ? `: ${e.error_description.split(/\r?\n/)[0]}` : ''}`;
  }
  const err = e as { code?: unknown; message?: unknown; cause?: unknown };
  const code = typeof err?.code === 'string' ? `${err.code}: ` : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const cause =
    err?.cause instanceof Response ? ` (HTTP ${err.cause.status} from ${err.cause.url || 'the provider'})`
    : err?.cause instanceof Error && err.cause.message !== message ? ` (${err.cause.message})`
    : '';
  return `${code}${message}${cause}`.slice(0, 500);
}
