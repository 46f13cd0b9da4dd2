// SMART Backend Services end to end: real express on a loopback port, real PostgreSQL, real
// signatures. Every way a client assertion or bearer token can be wrong gets its own case.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyClientAssertion } from '../../engine/src/auth/client-assertion';
import { createJtiStore } from '../../engine/src/auth/jti-store';
import { SmartClientsError, loadSmartClientRegistry } from '../../engine/src/auth/smart-clients';
import { createTokenService } from '../../engine/src/auth/token-service';
import { openDb } from '../../engine/src/store/db';
import { ASSERTION_TYPE, startAuthTestServer, type AuthTestServer } from '../helpers/auth-test-server';
import { createTestDb, TEST_DATABASE_URL, type TestDb } from '../helpers/test-db';

let testDb: TestDb;
let srv: AuthTestServer;

beforeAll(async () => {
  testDb = await createTestDb('auth');
  srv = await startAuthTestServer(testDb.db);
});

afterAll(async () => {
  await srv.close();
  await testDb.drop();
});

async function accessToken(scope: string, alg: 'ES384' | 'RS384' = 'ES384'): Promise<string> {
  const res = await srv.requestToken(await srv.assertion({ alg }), scope);
  expect(res.status).toBe(200);
  return res.body['access_token'] as string;
}

function issueCode(body: Record<string, unknown>): unknown {
  expect(body['resourceType']).toBe('OperationOutcome');
  return (body['issue'] as { code: string }[])[0]?.code;
}

describe('POST /auth/token', () => {
  it('grants an ES384 client a bearer token of at most 300 s', async () => {
    const res = await srv.requestToken(await srv.assertion(), 'system/Patient.rs');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'bearer', scope: 'system/Patient.rs' });
    expect(res.body['expires_in']).toBeLessThanOrEqual(300);
    const claims = decodeJwt(res.body['access_token'] as string);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(300);
    expect(claims['client_id']).toBe('es-client');
  });

  it('grants an RS384 client, narrowing a broad request to its registration', async () => {
    const res = await srv.requestToken(
      await srv.assertion({ alg: 'RS384' }),
      'system/*.cruds system/Patient.read',
    );
    expect(res.status).toBe(200);
    expect(res.body['scope']).toBe('system/*.rs system/Patient.read');
  });

  it('refuses a token lifetime over 300 s at construction', async () => {
    await expect(createTokenService({ issuer: srv.publicUrl, lifetimeSeconds: 301 })).rejects.toThrow(
      RangeError,
    );
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ['an expired assertion', () => srv.assertion({ expIn: -120 }), /expired/],
    ['an assertion living more than 5 minutes', () => srv.assertion({ expIn: 3600 }), /at most 300 seconds/],
    ['a key not in the client JWKS', () => srv.assertion({ key: srv.strangerKey }), /signature/],
    [
      'a key registered for another client',
      () => srv.assertion({ key: srv.rsKey, alg: 'RS384', iss: 'es-client' }),
      /signature/,
    ],
    ['an unknown client', () => srv.assertion({ iss: 'nobody' }), /not registered/],
    ['a wrong aud', () => srv.assertion({ aud: `${srv.publicUrl}/fhir` }), /aud must be the token endpoint/],
    ['iss differing from sub', () => srv.assertion({ sub: 'rs-client' }), /iss and sub/],
    [
      'HS256',
      () =>
        new SignJWT({ jti: randomUUID() })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('es-client')
          .setSubject('es-client')
          .setAudience(srv.tokenEndpoint)
          .setExpirationTime('2m')
          .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!')),
      /ES384 or RS384/,
    ],
    [
      'alg none',
      () =>
        Promise.resolve(
          new UnsecuredJWT({ jti: randomUUID() })
            .setIssuer('es-client')
            .setSubject('es-client')
            .setAudience(srv.tokenEndpoint)
            .setExpirationTime('2m')
            .encode(),
        ),
      /ES384 or RS384/,
    ],
    ['garbage', () => Promise.resolve('not.a.jwt'), /well-formed/],
  ];
  it.each(refusals)('refuses %s with 401 invalid_client', async (_name, make, description) => {
    const res = await srv.requestToken(await make());
    expect(res.status).toBe(401);
    expect(res.body['error']).toBe('invalid_client');
    expect(res.body['error_description']).toMatch(description);
  });

  it('refuses a replayed jti', async () => {
    const once = await srv.assertion();
    expect((await srv.requestToken(once)).status).toBe(200);
    const again = await srv.requestToken(once);
    expect(again.status).toBe(401);
    expect(again.body).toEqual({
      error: 'invalid_client',
      error_description: 'client_assertion jti has already been used',
    });
    const fresh = await srv.requestToken(await srv.assertion({ jti: decodeJwt(once).jti ?? '' }));
    expect(fresh.status).toBe(401);
  });

  it('refuses a replay seen by another engine process (another pool on the same schema)', async () => {
    const other = await openDb({ url: TEST_DATABASE_URL, schema: testDb.schema, dataDir: 'memory://' });
    try {
      const once = await srv.assertion();
      expect((await srv.requestToken(once)).status).toBe(200);
      const replay = verifyClientAssertion(once, {
        clients: srv.registry,
        jtiStore: createJtiStore(other),
        tokenEndpoint: srv.tokenEndpoint,
      });
      await expect(replay).rejects.toMatchObject({ name: 'AuthError', code: 'invalid_client' });
    } finally {
      await other.close();
    }
  });

  it('answers invalid_scope when no requested scope is registered', async () => {
    const res = await srv.requestToken(await srv.assertion(), 'system/Encounter.rs patient/*.read');
    expect(res.status).toBe(400);
    expect(res.body['error']).toBe('invalid_scope');
  });

  it('drops a scope with a ? filter from the grant instead of widening it', async () => {
    const lab =
      'system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
    const alone = await srv.requestToken(await srv.assertion(), lab);
    expect([alone.status, alone.body['error']]).toEqual([400, 'invalid_scope']);
    const mixed = await srv.requestToken(await srv.assertion(), `system/Patient.rs ${lab}`);
    expect(mixed.status).toBe(200);
    expect(mixed.body['scope']).toBe('system/Patient.rs');
    const token = mixed.body['access_token'] as string;
    expect((await srv.get('/fhir/Observation?code=1234-5', token)).status).toBe(403);
  });

  it('answers RFC 6749 errors for malformed requests', async () => {
    const good = {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      scope: 'system/Patient.rs',
    };
    const cases: [Record<string, string>, number, string][] = [
      [
        { ...good, grant_type: 'authorization_code', client_assertion: await srv.assertion() },
        400,
        'unsupported_grant_type',
      ],
      [good, 400, 'invalid_request'],
      [
        { ...good, client_assertion_type: 'urn:other', client_assertion: await srv.assertion() },
        400,
        'invalid_request',
      ],
      [{ ...good, client_assertion: await srv.assertion(), client_id: 'rs-client' }, 401, 'invalid_client'],
    ];
    for (const [form, status, error] of cases) {
      const res = await srv.postToken(form);
      expect([res.status, res.body['error']]).toEqual([status, error]);
    }
    const json = await fetch(srv.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...good, client_assertion: await srv.assertion() }),
    });
    expect([json.status, ((await json.json()) as { error: string }).error]).toEqual([400, 'invalid_request']);
    const twice = await fetch(srv.tokenEndpoint, {
      method: 'POST',
      body: `${new URLSearchParams({ ...good, client_assertion: await srv.assertion() }).toString()}&scope=system/*.rs`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(((await twice.json()) as { error_description: string }).error_description).toBe(
      'scope must be sent exactly once',
    );
    const huge = await srv.postToken({ ...good, client_assertion: 'x'.repeat(20_000) });
    expect([huge.status, huge.body['error']]).toEqual([400, 'invalid_request']);
  });
});

describe('bearer-protected routes', () => {
  it('serves discovery without a token', async () => {
    const res = await srv.get('/fhir/.well-known/smart-configuration');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token_endpoint: srv.tokenEndpoint,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['ES384', 'RS384'],
    });
    expect(res.body['capabilities']).toContain('client-confidential-asymmetric');
    expect(res.body).not.toHaveProperty('authorization_endpoint');
  });

  it('reads with a valid token and writes an audit row of IDs', async () => {
    const res = await srv.get('/fhir/Patient/p-123', await accessToken('system/Patient.rs'));
    expect(res.status).toBe(200);
    const rows = await testDb.db.query(
      `SELECT client_id, action, resource_type, resource_id, patient_id, outcome FROM audit_events
       WHERE resource_id = 'p-123'`,
    );
    expect(rows).toEqual([
      {
        client_id: 'es-client',
        action: 'read',
        resource_type: 'Patient',
        resource_id: 'p-123',
        patient_id: 'p-123',
        outcome: 'success',
      },
    ]);
  });

  it('redacts demographic search values in the audit row', async () => {
    const res = await srv.get(
      '/fhir/Observation?patient=p-9&family=Smith&code=1234-5',
      await accessToken('system/*.rs', 'RS384'),
    );
    expect(res.status).toBe(200);
    const rows = await testDb.db.query<{ query: string }>(
      `SELECT query FROM audit_events WHERE client_id = 'rs-client' AND resource_type = 'Observation'`,
    );
    expect(rows.map((r) => r.query)).toEqual(['patient=p-9&family=REDACTED&code=1234-5']);
  });

  it('answers 403 forbidden when the scopes do not cover the resource', async () => {
    const res = await srv.get(
      '/fhir/Encounter/e-1',
      await accessToken('system/Patient.rs system/Observation.rs'),
    );
    expect(res.status).toBe(403);
    expect(issueCode(res.body)).toBe('forbidden');
  });

  it('answers 401 login for a missing token, with a bare Bearer challenge', async () => {
    const res = await srv.get('/fhir/Patient/p-1');
    expect(res.status).toBe(401);
    expect(issueCode(res.body)).toBe('login');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers 401 invalid_token for garbage, foreign and expired tokens', async () => {
    const foreign = await createTokenService({ issuer: srv.publicUrl });
    const past = await createTokenService({
      issuer: srv.publicUrl,
      keyPair: srv.engineKeys,
      now: () => Date.now() - 600_000,
    });
    const tokens: [string, RegExp][] = [
      ['garbage', /not a token this server issued/],
      [(await foreign.issue({ clientId: 'es-client', scopes: ['system/*.rs'] })).access_token, /signature/],
      [(await past.issue({ clientId: 'es-client', scopes: ['system/*.rs'] })).access_token, /expired/],
    ];
    for (const [token, diagnostics] of tokens) {
      const res = await srv.get('/fhir/Patient/p-1', token);
      expect(res.status).toBe(401);
      expect(issueCode(res.body)).toBe('login');
      expect((res.body['issue'] as { diagnostics: string }[])[0]?.diagnostics).toMatch(diagnostics);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    }
    const basic = await fetch(`${srv.publicUrl}/fhir/Patient/p-1`, {
      headers: { authorization: 'Basic dXNlcjpwdw==' },
    });
    expect(basic.status).toBe(401);
  });
});

describe('replay store and clients file', () => {
  it('purges expired jti rows', async () => {
    const store = createJtiStore(testDb.db, { purgeIntervalMs: Number.MAX_SAFE_INTEGER });
    expect(await store.claim('es-client', 'old-jti', new Date(Date.now() - 1000))).toBe(true);
    expect(await store.claim('es-client', 'old-jti', new Date(Date.now() + 1000))).toBe(false);
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await store.claim('es-client', 'old-jti', new Date(Date.now() + 1000))).toBe(true);
  });

  it('loads the clients file, and names the file with every problem when it is invalid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smart-clients-'));
    try {
      const good = join(dir, 'good.json');
      await writeFile(good, JSON.stringify([{ client_id: 'x', jwks: { keys: [] }, scope: 'system/*.rs' }]));
      await expect(loadSmartClientRegistry(good)).rejects.toThrow(/good\.json[\s\S]*jwks\.keys is empty/);
      const broken = join(dir, 'broken.json');
      await writeFile(broken, '[{');
      await expect(loadSmartClientRegistry(broken)).rejects.toBeInstanceOf(SmartClientsError);
      await expect(loadSmartClientRegistry(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json/);
      expect((await loadSmartClientRegistry(undefined)).clients).toEqual([]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
