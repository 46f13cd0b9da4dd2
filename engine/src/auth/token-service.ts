/**
 * Issues and verifies the engine's own access tokens: short-lived ES256 JWTs, so every request
 * is authorised without a database lookup and a leaked token is useful for at most five minutes.
 */
import { randomUUID } from 'node:crypto';
import { errors, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { AccessContext } from './access-context';
import { TokenError } from './token-error';

/** No access token lives longer than this (SMART Backend Services recommends 300 s). */
export const MAX_TOKEN_LIFETIME_SECONDS = 300;

const ALG = 'ES256';
const TYP = 'at+jwt';

/** The engine's signing key pair. */
export interface TokenKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

export interface TokenServiceOptions {
  /** The engine's public URL: issuer and audience of every token. */
  readonly issuer: string;
  /**
   * Token lifetime in seconds; must be between 1 and 300.
   * @defaultValue 300
   */
  readonly lifetimeSeconds?: number;
  /**
   * Signing keys. Engines that share tokens (several processes behind one URL) must share a key
   * pair; by default each service generates its own at start.
   * @defaultValue a new ES256 pair
   */
  readonly keyPair?: TokenKeyPair;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/** What to put in a token. */
export interface TokenGrant {
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly subject?: string;
  /** The launch patient (SMART `patient` claim); the token may see only this patient's data. */
  readonly patient?: string;
  /**
   * Every Patient id the token may see (claim `patients`), for a token bound to a person's
   * records at several facilities (EHR token exchange). An empty list binds the token to no
   * patient at all: `patient/` scopes then see no patient data. With `patient`, the set is both.
   */
  readonly patients?: readonly string[];
  /**
   * A shorter life than the service's, e.g. to end with the EHR token it was exchanged for;
   * clamped to 1..`lifetimeSeconds`.
   * @defaultValue the service's lifetimeSeconds
   */
  readonly lifetimeSeconds?: number;
}

/** The token endpoint's success body (RFC 6749 section 5.1). */
export interface IssuedToken {
  readonly access_token: string;
  readonly token_type: 'bearer';
  readonly expires_in: number;
  readonly scope: string;
}

/** Issues tokens and turns presented ones back into an AccessContext. */
export interface TokenService {
  readonly lifetimeSeconds: number;
  /** Signs a token for a grant. */
  issue(grant: TokenGrant): Promise<IssuedToken>;
  /**
   * Verifies a bearer token.
   * @throws TokenError with code `token-expired`, `token-bad-signature` or `token-malformed`.
   */
  verify(token: string): Promise<AccessContext>;
}

const isPatientId = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** The Patient ids of the `patient` and `patients` claims; undefined when the token has neither. */
function patientsOf(claims: JWTPayload): Set<string> | undefined {
  const patient = claims['patient'];
  const patients = claims['patients'];
  if (patient !== undefined && !isPatientId(patient)) {
    throw new TokenError('token-malformed', 'access token patient claim is not a Patient ID');
  }
  if (patients !== undefined && !(Array.isArray(patients) && patients.every(isPatientId))) {
    throw new TokenError('token-malformed', 'access token patients claim is not a list of Patient IDs');
  }
  if (patient === undefined && patients === undefined) return undefined;
  return new Set([...(patient !== undefined ? [patient] : []), ...(patients ?? [])]);
}

function toAccessContext(claims: JWTPayload): AccessContext {
  const clientId = claims['client_id'];
  const scope = claims['scope'];
  const subject = claims.sub;
  if (typeof clientId !== 'string' || typeof scope !== 'string') {
    throw new TokenError('token-malformed', 'access token lacks client_id or scope');
  }
  const patients = patientsOf(claims);
  return {
    clientId,
    scopes: scope.split(' ').filter((s) => s !== ''),
    ...(subject !== undefined && subject !== clientId ? { subject } : {}),
    // A set, so a person's records at several facilities are one restriction.
    ...(patients !== undefined ? { patients } : {}),
  };
}

function toTokenError(err: unknown): unknown {
  if (err instanceof errors.JWTExpired) {
    return new TokenError('token-expired', 'access token has expired', { cause: err });
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenError('token-bad-signature', 'access token signature is not valid', { cause: err });
  }
  if (err instanceof errors.JOSEError) {
    return new TokenError('token-malformed', 'access token is not a token this server issued', {
      cause: err,
    });
  }
  return err;
}

/**
 * Creates the token service, generating a key pair unless one is given.
 * @throws RangeError when `lifetimeSeconds` is not within 1..300.
 */
export async function createTokenService(options: TokenServiceOptions): Promise<TokenService> {
  const lifetimeSeconds = options.lifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS;
  if (
    !Number.isInteger(lifetimeSeconds) ||
    lifetimeSeconds < 1 ||
    lifetimeSeconds > MAX_TOKEN_LIFETIME_SECONDS
  ) {
    throw new RangeError(`lifetimeSeconds must be an integer from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}`);
  }
  const keyPair = options.keyPair ?? (await generateKeyPair(ALG));
  const now = options.now ?? Date.now;
  const { issuer } = options;

  return {
    lifetimeSeconds,
    async issue(grant) {
      const iat = Math.floor(now() / 1000);
      const scope = grant.scopes.join(' ');
      const asked = grant.lifetimeSeconds;
      const lifetime =
        asked === undefined || !Number.isFinite(asked)
          ? lifetimeSeconds
          : Math.max(1, Math.min(lifetimeSeconds, Math.floor(asked)));
      const claims: JWTPayload = {
        client_id: grant.clientId,
        scope,
        ...(grant.patient !== undefined ? { patient: grant.patient } : {}),
        ...(grant.patients !== undefined ? { patients: [...grant.patients] } : {}),
      };
      const accessToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, typ: TYP })
        .setIssuer(issuer)
        .setAudience(issuer)
        .setSubject(grant.subject ?? grant.clientId)
        .setJti(randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(iat + lifetime)
        .sign(keyPair.privateKey);
      return { access_token: accessToken, token_type: 'bearer', expires_in: lifetime, scope };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keyPair.publicKey, {
          algorithms: [ALG],
          issuer,
          audience: issuer,
          typ: TYP,
          requiredClaims: ['exp', 'iat', 'sub'],
          currentDate: new Date(now()),
          maxTokenAge: MAX_TOKEN_LIFETIME_SECONDS,
        });
        return toAccessContext(payload);
      } catch (err) {
        throw toTokenError(err);
      }
    },
  };
}
