/**
 * A registered SMART Backend Services client for tests: a real ES384 key pair, a clients file
 * the engine loads, and a real token request over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { requestSystemToken } from '../../engine/src/auth/request-system-token';

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
    token: (baseUrl, scope) =>
      requestSystemToken({ tokenUrl: `${baseUrl}/auth/token`, clientId, privateKey, kid: 'k1', scope }),
  };
}
