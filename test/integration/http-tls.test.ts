/**
 * The HTTP APIs carry PHI, so HTTPS is one setting away: with HTTP_TLS_CERT/KEY the engine serves
 * only TLS, and a client that trusts the CA gets through.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestEngine, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;
let port: number;

beforeAll(async () => {
  port = await freePort();
  engine = await startTestEngine({
    env: {
      HTTP_PORT: String(port),
      PUBLIC_URL: `https://localhost:${port}`,
      HTTP_TLS_CERT: 'test/fixtures/tls/server.pem',
      HTTP_TLS_KEY: 'test/fixtures/tls/server-key.pem',
    },
  });
});
afterAll(async () => {
  await engine.destroy();
});

function get(path: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', servername: 'localhost', port, path, ...(ca !== undefined ? { ca } : {}) },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

describe('HTTPS', () => {
  it('serves the API over TLS to a client that trusts the CA', async () => {
    const res = await get('/fhir/.well-known/smart-configuration', readFileSync('test/fixtures/tls/ca.pem'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ token_endpoint: `https://localhost:${port}/auth/token` });
  });

  it('refuses plain HTTP and untrusted clients', async () => {
    await expect(get('/healthz')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
