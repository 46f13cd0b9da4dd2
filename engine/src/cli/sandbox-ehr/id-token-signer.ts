/**
 * OpenID Connect id_tokens for the sandbox EHR's user: a key pair made at start (RS256, the
 * algorithm every OIDC client must accept), its public half published at `jwks_uri`, and the
 * SMART `fhirUser` claim naming the Practitioner who launched the app.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface IdTokenClaims {
  /** The app's client id (`aud`). */
  readonly clientId: string;
  /** The user's id (`sub`). */
  readonly subject: string;
  /** Absolute URL of the user's FHIR resource, `<iss>/Practitioner/<id>`. */
  readonly fhirUser: string;
  readonly name?: string;
  readonly nonce?: string;
  readonly lifetimeSec: number;
}

export interface IdTokenSigner {
  /** The public key set for `jwks_uri`. */
  readonly jwks: { readonly keys: readonly JWK[] };
  sign(claims: IdTokenClaims): Promise<string>;
}

/**
 * Makes the key pair.
 * @param issuer - the FHIR base URL (`iss` of every id_token).
 */
export async function createIdTokenSigner(issuer: string): Promise<IdTokenSigner> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    sign: (c) => signIdToken(privateKey, kid, issuer, c),
  };
}

async function signIdToken(key: CryptoKey, kid: string, issuer: string, c: IdTokenClaims): Promise<string> {
  return new SignJWT({
    fhirUser: c.fhirUser,
    ...(c.name !== undefined ? { name: c.name } : {}),
    ...(c.nonce !== undefined ? { nonce: c.nonce } : {}),
  })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(c.subject)
    .setAudience(c.clientId)
    .setIssuedAt()
    .setExpirationTime(`${c.lifetimeSec}s`)
    .sign(key);
}
