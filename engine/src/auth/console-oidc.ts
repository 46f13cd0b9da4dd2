/**
 * Console sign-in through an OpenID Connect provider (CONSOLE_OIDC_*), with openid-client: the
 * authorization code flow with PKCE (S256), state and nonce, and the role taken from an ID token
 * claim. The provider is discovered on first use, not at start, so an IdP that is down delays
 * nobody's engine start, only OIDC sign-in.
 */
import * as oidc from 'openid-client';
import type { ConsoleSettings } from '../config/schema';
import { CodedError, type CodedErrorOptions } from '../errors/coded-error';
import type { ConsoleRole } from './console-roles';
import type { OidcLoginStore } from './console-oidc-logins';

/** How long a started sign-in may take at the provider before its callback is refused. */
export const OIDC_LOGIN_TTL_MS = 10 * 60_000;

/** Why an OIDC sign-in failed. */
export type ConsoleOidcErrorCode =
  /** The provider could not be reached or answered nonsense: try later (503). */
  | 'oidc-unavailable'
  /** The callback matches no sign-in this browser started (no cookie, expired, used): 400. */
  | 'oidc-login-unknown'
  /** The provider's answer failed a check (state, nonce, signature) or reported an error: 400. */
  | 'oidc-refused'
  /** Signed in at the provider, but the roles claim names neither `analyst` nor `admin`: 403. */
  | 'oidc-no-role'
  /** CONSOLE_OIDC_ISSUER is unusable (plain HTTP off loopback): the engine does not start. */
  | 'oidc-config';

export class ConsoleOidcError extends CodedError<ConsoleOidcErrorCode> {
  override readonly name = 'ConsoleOidcError';
  /** The user the provider named, when it got that far (for the audit row of a refusal). */
  readonly userName: string | undefined;
  constructor(
    code: ConsoleOidcErrorCode,
    message: string,
    options?: CodedErrorOptions & { userName?: string },
  ) {
    super(code, message, options);
    this.userName = options?.userName;
  }
}

/** A user the provider vouched for. */
export interface OidcUser {
  readonly userName: string;
  readonly role: ConsoleRole;
}

export interface ConsoleOidc {
  /** Starts a sign-in: where to send the browser, and the id its short-lived cookie keeps. */
  begin(): Promise<{ readonly redirectTo: URL; readonly loginId: string }>;
  /**
   * Finishes a sign-in from the provider's redirect.
   * @param loginId - the cookie `begin` set; undefined when the browser sent none.
   * @param callbackUrl - the callback URL as the provider called it (PUBLIC_URL plus the query).
   * @throws ConsoleOidcError
   */
  finish(loginId: string | undefined, callbackUrl: URL): Promise<OidcUser>;
}

export interface ConsoleOidcOptions {
  readonly settings: NonNullable<ConsoleSettings['oidc']>;
  /** Where the provider sends the browser back: `${PUBLIC_URL}/console/auth/oidc/callback`. */
  readonly redirectUri: string;
  readonly logins: OidcLoginStore;
}

/** Longest user name taken from a provider; longer ones are refused rather than cut. */
const MAX_NAME_LENGTH = 256;

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/**
 * The roles a claim value names: an array of strings, or one string separated by spaces or
 * commas (providers differ). The claim name is tried as written first (Auth0 uses URLs with
 * dots), then as a dotted path (Keycloak's `realm_access.roles`).
 */
export function rolesFromClaims(claims: Readonly<Record<string, unknown>>, claim: string): string[] {
  let value: unknown = claims[claim];
  if (value === undefined && claim.includes('.')) {
    value = claim.split('.').reduce<unknown>((at, key) => {
      if (typeof at !== 'object' || at === null) return undefined;
      return (at as Record<string, unknown>)[key];
    }, claims);
  }
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((r) => r !== '');
  if (Array.isArray(value)) return value.filter((r): r is string => typeof r === 'string');
  return [];
}

/** `admin` wins over `analyst`; neither is no console role. */
export function consoleRoleOf(roles: readonly string[]): ConsoleRole | undefined {
  const lower = new Set(roles.map((r) => r.toLowerCase()));
  if (lower.has('admin')) return 'admin';
  if (lower.has('analyst')) return 'analyst';
  return undefined;
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function userNameOf(claims: Readonly<Record<string, unknown>>): string {
  for (const key of ['preferred_username', 'email', 'sub']) {
    const v = claims[key];
    if (typeof v === 'string' && v !== '' && v.length <= MAX_NAME_LENGTH && !hasControlCharacter(v)) {
      return v;
    }
  }
  throw new ConsoleOidcError(
    'oidc-refused',
    'the ID token names no usable user (preferred_username, email or sub)',
  );
}

/**
 * openid-client's message with the check that failed: its errors say "invalid response
 * encountered" and keep the detail (which parameter or claim) in `cause`.
 */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown error';
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause !== undefined && cause !== err.message ? `${err.message} (${cause})` : err.message;
}

function refusedOrUnavailable(err: unknown, what: string, alwaysAway = false): ConsoleOidcError {
  // fetch failures (refused, DNS, TLS, timeout) are the provider being away, not a bad answer.
  const away =
    alwaysAway || err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError');
  return new ConsoleOidcError(away ? 'oidc-unavailable' : 'oidc-refused', `${what}: ${reasonOf(err)}`, {
    cause: err,
    transient: away,
  });
}

/**
 * A client secret sent the way the provider supports: HTTP Basic when it lists it (or lists
 * nothing, Basic being the default), else in the form body.
 */
function secretAuth(secret: string): oidc.ClientAuth {
  const basic = oidc.ClientSecretBasic(secret);
  const post = oidc.ClientSecretPost(secret);
  return (as, client, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    (methods === undefined || methods.includes('client_secret_basic') ? basic : post)(
      as,
      client,
      body,
      headers,
    );
  };
}

/** Builds the OIDC sign-in; call `begin` and `finish` from the routes. */
export function createConsoleOidc(o: ConsoleOidcOptions): ConsoleOidc {
  const issuer = new URL(o.settings.issuer);
  // openid-client refuses plain HTTP; a provider on this host (a development IdP) is allowed it.
  const insecure = issuer.protocol === 'http:' && isLoopback(issuer.hostname);
  if (issuer.protocol !== 'https:' && !insecure) {
    throw new ConsoleOidcError('oidc-config', 'CONSOLE_OIDC_ISSUER must be https (http only on loopback)');
  }
  let discovered: Promise<oidc.Configuration> | undefined;

  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= (async () => {
      const secret = o.settings.clientSecret;
      return oidc.discovery(
        issuer,
        o.settings.clientId,
        secret,
        secret === undefined ? oidc.None() : secretAuth(secret),
        {
          // The same bound then applies to every later request with this configuration.
          timeout: 10,
          // Deprecated only as a warning sign; used solely for an issuer on loopback (see above).
          // eslint-disable-next-line @typescript-eslint/no-deprecated
          ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      );
    })().catch((err: unknown) => {
      discovered = undefined;
      throw refusedOrUnavailable(err, `discovery at ${issuer.href} failed`, true);
    });
    return discovered;
  };

  return {
    async begin() {
      const config = await configuration();
      const login = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
      };
      const redirectTo = oidc.buildAuthorizationUrl(config, {
        redirect_uri: o.redirectUri,
        response_type: 'code',
        scope: 'openid profile email',
        state: login.state,
        nonce: login.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(login.codeVerifier),
        code_challenge_method: 'S256',
      });
      return { redirectTo, loginId: await o.logins.save(login, OIDC_LOGIN_TTL_MS) };
    },

    async finish(loginId, callbackUrl) {
      const login = loginId === undefined ? undefined : await o.logins.take(loginId);
      if (login === undefined) {
        throw new ConsoleOidcError(
          'oidc-login-unknown',
          'this sign-in was not started here, has expired or was already used: start again',
        );
      }
      const config = await configuration();
      let claims: Readonly<Record<string, unknown>> | undefined;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: login.codeVerifier,
          expectedState: login.state,
          expectedNonce: login.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims();
      } catch (err) {
        throw refusedOrUnavailable(err, 'the provider refused the sign-in or its answer failed a check');
      }
      if (claims === undefined) {
        throw new ConsoleOidcError('oidc-refused', 'the provider returned no ID token');
      }
      const userName = userNameOf(claims);
      const role = consoleRoleOf(rolesFromClaims(claims, o.settings.rolesClaim));
      if (role === undefined) {
        throw new ConsoleOidcError(
          'oidc-no-role',
          `the ID token's '${o.settings.rolesClaim}' claim names neither 'analyst' nor 'admin'`,
          { userName },
        );
      }
      return { userName, role };
    },
  };
}
