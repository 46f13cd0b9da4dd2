// The token exchange against a real HTTP server on a loopback port standing in for the engine's
// /auth/token and /fhir: the RFC 8693 form, caching, re-exchange after the EHR token is refreshed
// and before expiry, one exchange in flight, the 401 retry, error mapping, and paging.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEngineFhirSource } from '../src/engine/engine-fhir-source';
import { createEngineSession, type EngineSessionOptions } from '../src/engine/engine-session';
import { parseExchangeResponse } from '../src/engine/exchange-response';
import { startLoopbackServer, type LoopbackServer } from './fixtures/loopback-server';

interface Seen {
  readonly path: string;
  readonly body: string;
  readonly authorization?: string;
}

let server: LoopbackServer;
let base = '';
let seen: Seen[] = [];
let tokenAnswers: { status: number; body: unknown }[] = [];
let fhirAnswers: { status: number; body: unknown }[] = [];
let issued = 0;

beforeAll(async () => {
  server = await startLoopbackServer((req, body, res) => {
    seen.push({
      path: req.url ?? '',
      body,
      ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
    });
    const answer =
      req.url === '/auth/token'
        ? (tokenAnswers.shift() ?? { status: 200, body: grantBody((issued += 1)) })
        : (fhirAnswers.shift() ?? { status: 200, body: { resourceType: 'Bundle', entry: [] } });
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  base = server.base;
});

afterAll(() => server.close());

beforeEach(() => {
  seen = [];
  tokenAnswers = [];
  fhirAnswers = [];
  issued = 0;
});

function grantBody(n: number): Record<string, unknown> {
  return {
    access_token: `engine-${n}`,
    token_type: 'Bearer',
    expires_in: 300,
    scope: 'patient/*.rs',
    patient: 'p1',
    match: {
      status: 'matched',
      basis: 'score',
      records: [{ patient: 'Patient/p1', facility: 'MERCY', via: 'match', grade: 'certain', score: 1 }],
    },
  };
}

function session(over: Partial<EngineSessionOptions> = {}): ReturnType<typeof createEngineSession> {
  return createEngineSession({
    tokenUrl: `${base}/auth/token`,
    issuer: 'https://ehr.example/fhir',
    subjectToken: () => Promise.resolve('ehr-token-1'),
    ...over,
  });
}

describe('engine token exchange', () => {
  it('posts the RFC 8693 form and reads the grant', async () => {
    const grant = await session().grant();
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'ehr-token-1',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_issuer: 'https://ehr.example/fhir',
    });
    expect(grant).toMatchObject({ accessToken: 'engine-1', patient: 'p1', match: { status: 'matched' } });
  });

  it('reuses the grant, and exchanges again when the EHR token changed or the grant nears expiry', async () => {
    let subject = 'ehr-token-1';
    let clock = 1_000_000;
    const s = session({ subjectToken: () => Promise.resolve(subject), now: () => clock });
    expect((await s.grant()).accessToken).toBe('engine-1');
    expect((await s.grant()).accessToken).toBe('engine-1');
    subject = 'ehr-token-2'; // fhirclient refreshed the EHR token
    expect((await s.grant()).accessToken).toBe('engine-2');
    clock += 280_000; // 20 s left: inside the margin
    expect((await s.grant()).accessToken).toBe('engine-3');
    expect(seen.map((r) => new URLSearchParams(r.body).get('subject_token'))).toEqual([
      'ehr-token-1',
      'ehr-token-2',
      'ehr-token-2',
    ]);
  });

  it('keeps one exchange in flight for parallel requests', async () => {
    const s = session();
    const grants = await Promise.all([s.grant(), s.grant(), s.grant()]);
    expect(new Set(grants.map((g) => g.accessToken)).size).toBe(1);
    expect(seen).toHaveLength(1);
  });

  it('ends the session on an inactive or expired EHR token, and fails the launch on other refusals', async () => {
    tokenAnswers.push({
      status: 403,
      body: {
        error: 'invalid_grant',
        error_description: 'the EHR says the token is not active',
        reason: 'token-inactive',
      },
    });
    await expect(session().grant()).rejects.toMatchObject({ name: 'SessionExpiredError' });
    tokenAnswers.push({
      status: 403,
      body: {
        error: 'invalid_grant',
        error_description: 'https://ehr.example/fhir is not a known EHR',
        reason: 'unknown-issuer',
      },
    });
    await expect(session().grant()).rejects.toMatchObject({
      name: 'LaunchFailedError',
      message: expect.stringContaining('is not a known EHR') as string,
    });
    tokenAnswers.push({
      status: 400,
      body: { error: 'invalid_request', error_description: 'subject_token is missing' },
    });
    await expect(session().grant()).rejects.toMatchObject({ name: 'LaunchFailedError' });
    tokenAnswers.push({ status: 503, body: { error: 'temporarily_unavailable', reason: 'ehr-unavailable' } });
    await expect(session().grant()).rejects.toMatchObject({ name: 'ExchangeError', status: 503 });
  });

  it('sends the app’s client id when it knows it', async () => {
    await session({ clientId: 'care-timeline' }).grant();
    expect(new URLSearchParams(seen[0]?.body).get('client_id')).toBe('care-timeline');
  });

  it('reads a no-match answer as an empty match, not an error', () => {
    const g = parseExchangeResponse(
      {
        access_token: 't',
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 60,
        scope: '',
        match: {
          status: 'none',
          reason: 'no-match',
          description: 'no record of this patient at the link threshold',
          records: [],
        },
      },
      0,
    );
    expect(g).toEqual({
      accessToken: 't',
      expiresAt: 60_000,
      scope: '',
      match: { status: 'none', reason: 'no record of this patient at the link threshold', records: [] },
    });
    expect(() => parseExchangeResponse({ token_type: 'bearer' }, 0)).toThrow('no access_token');
  });
});

describe('engine FHIR source', () => {
  it('reads $everything with the engine token and the inbox for every record of the person', async () => {
    const src = createEngineFhirSource({ fhirBase: `${base}/fhir/`, session: session() });
    await src.everything('p1');
    await src.inbox(['p1', 'p2', 'p1']);
    const fhir = seen.filter((r) => r.path.startsWith('/fhir/'));
    expect(fhir.map((r) => [r.path, r.authorization])).toEqual([
      ['/fhir/Patient/p1/$everything', 'Bearer engine-1'],
      ['/fhir/Communication?patient=Patient%2Fp1,Patient%2Fp2', 'Bearer engine-1'],
    ]);
  });

  it('exchanges again after a 401, and ends the session after a second', async () => {
    const src = createEngineFhirSource({ fhirBase: `${base}/fhir/`, session: session() });
    fhirAnswers.push({ status: 401, body: {} });
    await src.everything('p1');
    expect(seen.filter((r) => r.path.startsWith('/fhir/')).map((r) => r.authorization)).toEqual([
      'Bearer engine-1',
      'Bearer engine-2',
    ]);
    fhirAnswers.push({ status: 401, body: {} }, { status: 401, body: {} });
    await expect(src.everything('p1')).rejects.toMatchObject({ name: 'SessionExpiredError' });
  });

  it('completes $everything with the Organizations, Practitioners and Locations it names', async () => {
    const src = createEngineFhirSource({ fhirBase: `${base}/fhir/`, session: session() });
    fhirAnswers.push(
      {
        status: 200,
        body: {
          resourceType: 'Bundle',
          entry: [
            {
              resource: {
                resourceType: 'Encounter',
                id: 'e',
                serviceProvider: { reference: 'Organization/o1' },
                participant: [{ individual: { reference: 'Practitioner/pr' } }],
                location: [{ location: { reference: 'Location/bed' } }],
              },
            },
          ],
        },
      },
      {
        status: 200,
        body: {
          resourceType: 'Bundle',
          entry: [{ resource: { resourceType: 'Organization', id: 'o1', name: 'MERCY' } }],
        },
      },
      {
        status: 403,
        body: {
          resourceType: 'OperationOutcome',
          issue: [{ diagnostics: 'scope does not allow Practitioner.s' }],
        },
      },
      {
        status: 200,
        body: {
          resourceType: 'Bundle',
          entry: [
            { resource: { resourceType: 'Location', id: 'bed', partOf: { reference: 'Location/ward' } } },
          ],
        },
      },
      {
        status: 200,
        body: {
          resourceType: 'Bundle',
          entry: [{ resource: { resourceType: 'Location', id: 'ward', name: '4W' } }],
        },
      },
    );
    const bundle = await src.everything('p1');
    expect(bundle.entry?.map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)).toEqual([
      'Encounter/e',
      'Organization/o1',
      'Location/bed',
      'Location/ward',
    ]);
    expect(seen.filter((r) => r.path.startsWith('/fhir/')).map((r) => r.path)).toEqual([
      '/fhir/Patient/p1/$everything',
      '/fhir/Organization?_id=o1',
      '/fhir/Practitioner?_id=pr',
      '/fhir/Location?_id=bed',
      '/fhir/Location?_id=ward',
    ]);
  });

  it('reports the OperationOutcome of a failure', async () => {
    const src = createEngineFhirSource({ fhirBase: `${base}/fhir/`, session: session() });
    fhirAnswers.push({
      status: 422,
      body: { resourceType: 'OperationOutcome', issue: [{ diagnostics: 'more than 10000 resources' }] },
    });
    await expect(src.everything('p1')).rejects.toMatchObject({
      name: 'EngineRequestError',
      status: 422,
      message: 'more than 10000 resources',
    });
  });

  it('follows next pages on the engine’s own FHIR path, whatever host name the engine writes', async () => {
    const src = createEngineFhirSource({ fhirBase: `${base}/fhir/`, session: session() });
    fhirAnswers.push(
      {
        status: 200,
        body: {
          resourceType: 'Bundle',
          entry: [{ resource: { resourceType: 'Communication', id: 'a' } }],
          link: [
            { relation: 'next', url: 'http://localhost:1/fhir/Communication?patient=Patient%2Fp1&_offset=1' },
          ],
        },
      },
      {
        status: 200,
        body: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Communication', id: 'b' } }] },
      },
    );
    const bundle = await src.inbox(['p1']);
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual(['a', 'b']);
    expect(seen.at(-1)?.path).toBe('/fhir/Communication?patient=Patient%2Fp1&_offset=1');
    fhirAnswers.push({
      status: 200,
      body: {
        resourceType: 'Bundle',
        link: [{ relation: 'next', url: 'https://elsewhere.example/other/x' }],
      },
    });
    await expect(src.inbox(['p1'])).rejects.toMatchObject({ name: 'EngineRequestError' });
  });
});
