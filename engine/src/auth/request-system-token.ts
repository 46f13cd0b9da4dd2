/**
 * The client side of SMART Backend Services: sign a one-use assertion and trade it for a bearer
 * token. Used by `npm run client` and by tests, which must speak the protocol as a client would.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey, type KeyObject } from 'jose';
import { CLIENT_ASSERTION_TYPE } from './client-assertion';

export interface SystemTokenRequest {
  /** `${PUBLIC_URL}/auth/token`: also the assertion's audience. */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly privateKey: CryptoKey | KeyObject | Uint8Array;
  readonly kid: string;
  /** @defaultValue ES384 */
  readonly alg?: 'ES384' | 'RS384';
  readonly scope: string;
}

/** Resolves with the access token; rejects with the server's error code and description. */
export async function requestSystemToken(r: SystemTokenRequest): Promise<string> {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: r.alg ?? 'ES384', kid: r.kid })
    .setIssuer(r.clientId)
    .setSubject(r.clientId)
    .setAudience(r.tokenUrl)
    .setJti(randomUUID())
    .setExpirationTime('4m')
    .sign(r.privateKey);
  const res = await fetch(r.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
      scope: r.scope,
    }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (body.access_token === undefined) {
    throw new Error(
      `token request refused (${res.status}): ${body.error ?? ''} ${body.error_description ?? ''}`.trim(),
    );
  }
  return body.access_token;
}
