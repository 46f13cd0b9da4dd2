/**
 * A registered SMART Backend Services client for tests: a real ES384 key pair, a clients file
 * the engine loads, and a real token request over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface SystemClient {
  readonly clientId: string;
  readonly clientsFile: string;
  /** Gets a bearer token from the engine at `baseUrl` (its PUBLIC_URL) for `scope`. */
  token(baseUrl: string, scope: string): Promise<string>;
}

export async function createSystemClient(
  registeredScope = 'system/*.rs system/Message.rus',
): Promise<SystemClient> {
  const clientId = `test-${randomUUID()}`;
  const { privateKey, publicKey } = await generateKeyPair('ES384');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' };
  const dir = mkdtempSync(join(tmpdir(), 'care-clients-'));
  const clientsFile = join(dir, 'clients.json');
  writeFileSync(
    clientsFile,
    JSON.stringify([{ client_id: clientId, jwks: { keys: [jwk] }, scope: registeredScope }]),
  );
  return {
    clientId,
    clientsFile,
    token: (baseUrl, scope) => requestToken(baseUrl, clientId, privateKey, scope),
  };
}

async function requestToken(
  baseUrl: string,
  clientId: string,
  key: CryptoKey,
  scope: string,
): Promise<string> {
  const aud = `${baseUrl}/auth/token`;
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid: 'k1' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setJti(randomUUID())
    .setExpirationTime('4m')
    .sign(key);
  const res = await fetch(aud, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
    }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (body.access_token === undefined) {
    throw new Error(`token request failed: ${res.status} ${body.error ?? ''}`);
  }
  return body.access_token;
}
