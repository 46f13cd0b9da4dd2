/**
 * How the engine proves itself to an EHR's introspection endpoint (RFC 7662 section 2.1 asks
 * for some authorisation): HTTP Basic with a client secret (RFC 6749 section 2.3.1), a signed
 * RFC 7523 client assertion, or a bearer token the EHR issued to the engine.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { CLIENT_ASSERTION_TYPE } from './client-assertion';
import type { IntrospectionAuth } from './ehr-issuers';

/** Assertions live this long: well within the 5 minutes SMART allows. */
export const INTROSPECTION_ASSERTION_SECONDS = 120;

/** What to add to an introspection request. */
export interface IntrospectionCredentials {
  readonly headers: Readonly<Record<string, string>>;
  readonly form: Readonly<Record<string, string>>;
}

/** RFC 6749 section 2.3.1: each part form-encoded before joining, then base64. */
function basic(clientId: string, secret: string): string {
  const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * The credentials for one introspection call. A `private_key_jwt` assertion is signed afresh
 * each time (its `jti` is single-use at the EHR), with `aud` the introspection endpoint.
 * @param endpoint - the introspection endpoint the request goes to.
 * @param nowMs - the current time in milliseconds.
 */
export async function introspectionCredentials(
  auth: IntrospectionAuth,
  endpoint: string,
  nowMs: number,
): Promise<IntrospectionCredentials> {
  switch (auth.method) {
    case 'client_secret_basic':
      return { headers: { authorization: basic(auth.clientId, auth.clientSecret) }, form: {} };
    case 'bearer':
      return { headers: { authorization: `Bearer ${auth.token}` }, form: {} };
    case 'private_key_jwt': {
      const iat = Math.floor(nowMs / 1000);
      const assertion = await new SignJWT({})
        .setProtectedHeader({
          alg: auth.alg,
          typ: 'JWT',
          ...(auth.kid !== undefined ? { kid: auth.kid } : {}),
        })
        .setIssuer(auth.clientId)
        .setSubject(auth.clientId)
        .setAudience(endpoint)
        .setJti(randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(iat + INTROSPECTION_ASSERTION_SECONDS)
        .sign(auth.key);
      return {
        headers: {},
        form: { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion },
      };
    }
  }
}
