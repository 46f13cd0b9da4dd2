/**
 * A SMART Backend Services client for a benchmark: a fresh ES384 key pair and a clients file the
 * engine loads, so a benchmark registers through the API as a practice would, not around it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { requestSystemToken } from '../../auth/request-system-token';

export interface BenchSystemClient {
  /** For SMART_CLIENTS_FILE. */
  readonly clientsFile: string;
  /** A bearer token from the engine at `baseUrl` (its PUBLIC_URL) for the registered scope. */
  token(baseUrl: string): Promise<string>;
  /** Deletes the clients file and its directory. */
  remove(): void;
}

/**
 * Creates the key pair and writes the clients file.
 * @param scope - what the client is registered for, and asks for.
 */
export async function createBenchSystemClient(scope: string): Promise<BenchSystemClient> {
  const clientId = `bench-${randomUUID()}`;
  const kid = 'bench-1';
  const { privateKey, publicKey } = await generateKeyPair('ES384');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
  const dir = mkdtempSync(join(tmpdir(), 'care-bench-clients-'));
  const clientsFile = join(dir, 'smart-clients.json');
  writeFileSync(clientsFile, JSON.stringify([{ client_id: clientId, jwks: { keys: [jwk] }, scope }]));
  return {
    clientsFile,
    token: (baseUrl) =>
      requestSystemToken({ tokenUrl: `${baseUrl}/auth/token`, clientId, privateKey, kid, scope }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
