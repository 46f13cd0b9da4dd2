/**
 * A client assertion is accepted up to the clock tolerance after its `exp`, so its `jti` must be
 * kept that long too: purged at `exp`, the same assertion could be replayed in the seconds of
 * slack after. The token endpoint over HTTP, real PostgreSQL, a clock the test moves, and a
 * replay store that purges before every claim.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from '../../engine/src/auth/client-assertion';
import { createJtiStore, type JtiStore } from '../../engine/src/auth/jti-store';
import { createSmartClientRegistry, parseSmartClients } from '../../engine/src/auth/smart-clients';
import { tokenEndpointFor } from '../../engine/src/auth/smart-configuration';
import { createTokenRouter } from '../../engine/src/auth/token-router';
import { createTokenService } from '../../engine/src/auth/token-service';
import { createTestDb, type TestDb } from '../helpers/test-db';

const CLIENT = 'replay-client';
const TOLERANCE = DEFAULT_CLOCK_TOLERANCE_SECONDS;

let testDb: TestDb;
let server: Server;
let tokenEndpoint: string;
let privateKey: CryptoKey;
let jtiStore: JtiStore;
/** The engine's clock, in ms; each test sets it. */
let nowMs = Date.now();

beforeAll(async () => {
  testDb = await createTestDb('jti');
  const keys = await generateKeyPair('ES384', { extractable: true });
  privateKey = keys.privateKey;
  const registry = createSmartClientRegistry(
    parseSmartClients(
      [
        {
          client_id: CLIENT,
          jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1' }] },
          scope: 'system/*.rs',
        },
      ],
      'jti replay test client',
    ),
  );
  const app = express();
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tokenEndpoint = tokenEndpointFor(publicUrl);
  const clock = (): number => nowMs;
  // purgeIntervalMs 0: every claim purges first, as a long-running engine eventually does.
  jtiStore = createJtiStore(testDb.db, { purgeIntervalMs: 0, now: clock });
  app.use(
    '/auth',
    createTokenRouter({
      publicUrl,
      clients: registry,
      jtiStore,
      tokenService: await createTokenService({ issuer: publicUrl }),
      now: clock,
    }),
  );
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await testDb.drop();
});

async function assertion(expSeconds: number, jti: string = randomUUID()): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
    .setIssuer(CLIENT)
    .setSubject(CLIENT)
    .setAudience(tokenEndpoint)
    .setExpirationTime(expSeconds)
    .setJti(jti)
    .sign(privateKey);
}

async function requestToken(
  clientAssertion: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
      scope: 'system/Patient.rs',
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('jti replay within the clock tolerance', () => {
  it('accepts an assertion a little past exp once, and refuses it again after a purge', async () => {
    const start = Math.floor(Date.now() / 1000);
    nowMs = start * 1000;
    const exp = start - 2; // expired 2 s ago: still within the 5 s tolerance
    const once = await assertion(exp);

    const first = await requestToken(once);
    expect(first.status).toBe(200);
    expect(first.body['access_token']).toBeTypeOf('string');

    nowMs = (exp + TOLERANCE - 1) * 1000; // past exp, still accepted
    await jtiStore.purgeExpired();
    const replay = await requestToken(once);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({
      error: 'invalid_client',
      error_description: 'client_assertion jti has already been used',
    });
    const [row] = await testDb.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM auth_used_jti WHERE client_id = $1',
      [CLIENT],
    );
    expect(row?.n).toBe(1);
  });

  it('stores the jti until exp plus the tolerance, and purges it only after', async () => {
    const start = Math.floor(Date.now() / 1000);
    nowMs = start * 1000;
    const exp = start + 60;
    const jti = randomUUID();
    expect((await requestToken(await assertion(exp, jti))).status).toBe(200);
    const [row] = await testDb.db.query<{ expires_at: Date }>(
      'SELECT expires_at FROM auth_used_jti WHERE client_id = $1 AND jti = $2',
      [CLIENT, jti],
    );
    expect(row?.expires_at.getTime()).toBe((exp + TOLERANCE) * 1000);

    nowMs = (exp + TOLERANCE) * 1000 - 1;
    await jtiStore.purgeExpired();
    expect((await requestToken(await assertion(exp, jti))).body['error_description']).toBe(
      'client_assertion jti has already been used',
    );

    // Once the tolerance is over too, the row may go: the assertion is refused as expired anyway.
    nowMs = (exp + TOLERANCE + 1) * 1000;
    expect(await jtiStore.purgeExpired()).toBeGreaterThanOrEqual(1);
    const late = await requestToken(await assertion(exp, jti));
    expect(late.status).toBe(401);
    expect(late.body['error_description']).toBe('client_assertion has expired');
  });

  it('refuses a jti holding a NUL byte as invalid_client, not a 500 from PostgreSQL', async () => {
    nowMs = Date.now();
    const res = await requestToken(await assertion(Math.floor(nowMs / 1000) + 60, 'a\u0000b'));
    expect(res.status).toBe(401);
    expect(res.body['error']).toBe('invalid_client');
  });
});
