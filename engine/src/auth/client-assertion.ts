/**
 * Authenticates a SMART Backend Services client from its private_key_jwt assertion (RFC 7523):
 * signature against the registered JWKS, iss/sub/aud/exp/jti, and a replay check in the database.
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import { AuthError } from './auth-error';
import type { JtiStore } from './jti-store';
import type { RegisteredClient, SmartClientRegistry } from './smart-clients';

/** The only `client_assertion_type` accepted. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Signing algorithms SMART Backend Services requires servers to support; nothing else is accepted. */
export const ASSERTION_ALGORITHMS = ['ES384', 'RS384'] as const;

/** An assertion may expire at most this far ahead (SMART Backend Services). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

const MAX_JTI_LENGTH = 256;

/**
 * Default slack for clock skew between client and engine, in seconds: an assertion is accepted
 * until `exp` plus this, so its `jti` is kept (and refused again) until then too.
 */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

export interface ClientAssertionOptions {
  readonly clients: SmartClientRegistry;
  readonly jtiStore: JtiStore;
  /** The token endpoint URL: the `aud` every assertion must carry. */
  readonly tokenEndpoint: string;
  /**
   * Slack for clock skew between client and engine, applied to exp, nbf and the 300 s limit,
   * and to how long a used `jti` is kept.
   * @defaultValue DEFAULT_CLOCK_TOLERANCE_SECONDS (5)
   */
  readonly clockToleranceSeconds?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/** A client that proved possession of a registered key with a fresh assertion. */
export interface VerifiedClientAssertion {
  readonly client: RegisteredClient;
  readonly jti: string;
  readonly expiresAt: Date;
}

function invalidClient(description: string, cause?: unknown): AuthError {
  return new AuthError('invalid_client', description, cause === undefined ? undefined : { cause });
}

function readClientId(assertion: string): string {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch (err) {
    throw invalidClient('client_assertion is not a well-formed signed JWT', err);
  }
  if (!(ASSERTION_ALGORITHMS as readonly unknown[]).includes(header.alg)) {
    throw invalidClient('client_assertion must be signed with ES384 or RS384');
  }
  if (typeof claims.iss !== 'string' || claims.iss === '' || claims.iss !== claims.sub) {
    throw invalidClient('client_assertion iss and sub must both be the client_id');
  }
  return claims.iss;
}

/** Tries every matching key when a JWKS holds several without `kid` (e.g. during rotation). */
async function verifyWithClientKeys(
  assertion: string,
  client: RegisteredClient,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(assertion, client.keySet, options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return (await jwtVerify(assertion, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function describeJoseError(err: errors.JOSEError, tokenEndpoint: string): string {
  if (err instanceof errors.JWTExpired) return 'client_assertion has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return `client_assertion aud must be the token endpoint ${tokenEndpoint}`;
    if (err.reason === 'missing') return `client_assertion is missing the "${err.claim}" claim`;
    return `client_assertion "${err.claim}" claim is invalid`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
    return 'client_assertion signature does not match any key registered for this client';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'client_assertion must be signed with ES384 or RS384';
  return 'client_assertion is not a well-formed signed JWT';
}

/**
 * Verifies a client assertion and records its `jti`, so the same assertion never works twice.
 * @param assertion - the `client_assertion` form field.
 * @throws AuthError `invalid_client` for every authentication failure (unknown client, bad
 *   signature or alg, wrong aud, expired or too long-lived, reused jti). Database errors propagate.
 */
export async function verifyClientAssertion(
  assertion: string,
  options: ClientAssertionOptions,
): Promise<VerifiedClientAssertion> {
  const clientId = readClientId(assertion);
  const client = options.clients.find(clientId);
  if (client === undefined) throw invalidClient('client_id is not registered');

  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  let claims: JWTPayload;
  try {
    claims = await verifyWithClientKeys(assertion, client, {
      algorithms: [...ASSERTION_ALGORITHMS],
      issuer: clientId,
      subject: clientId,
      audience: options.tokenEndpoint,
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(nowSeconds * 1000),
      clockTolerance: tolerance,
    });
  } catch (err) {
    if (err instanceof errors.JOSEError) {
      throw invalidClient(describeJoseError(err, options.tokenEndpoint), err);
    }
    throw err;
  }

  // requiredClaims guarantees exp is a number and jti is present.
  const exp = claims.exp ?? 0;
  if (exp > nowSeconds + MAX_ASSERTION_LIFETIME_SECONDS + tolerance) {
    throw invalidClient(
      `client_assertion exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds ahead`,
    );
  }
  const jti = claims.jti;
  // PostgreSQL text cannot hold NUL: a jti with one would fail the claim below as a 500.
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH || jti.includes('\u0000')) {
    throw invalidClient(
      `client_assertion jti must be a string of 1 to ${MAX_JTI_LENGTH} characters, without NUL`,
    );
  }
  const expiresAt = new Date(exp * 1000);
  // Kept for as long as the assertion is accepted, tolerance included: dropped at exp, it could
  // be replayed in the seconds of slack after.
  const acceptedUntil = new Date((exp + tolerance) * 1000);
  if (!(await options.jtiStore.claim(clientId, jti, acceptedUntil))) {
    throw invalidClient('client_assertion jti has already been used');
  }
  return { client, jti, expiresAt };
}
