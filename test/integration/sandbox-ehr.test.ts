/**
 * The sandbox EHR as an app and a resource server meet it, over real HTTP on a loopback port:
 * discovery, the SMART authorization code flow with PKCE S256 (EHR and standalone launch),
 * refresh with rotation, introspection with each client authentication method, and the FHIR
 * reads a token opens.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PATIENTS, DEMO_PRACTITIONER } from '../../engine/src/cli/sandbox-ehr/demo-patients';
import { startSandboxEhr, type SandboxEhr } from '../../engine/src/cli/sandbox-ehr/sandbox-ehr';

const APP = 'http://127.0.0.1:5999';
const CLIENT_ID = 'care-timeline';
const REDIRECT_URI = `${APP}/app/`;
const APP_SCOPE =
  'launch openid fhirUser patient/Patient.rs patient/Encounter.rs patient/Observation.rs patient/DiagnosticReport.rs online_access';
const BASIC = { clientId: 'engine-basic', clientSecret: 'correct horse battery staple' };
const BEARER = { clientId: 'engine-bearer', token: randomBytes(24).toString('base64url') };
const JWT_CLIENT = 'engine-jwt';
const PATIENT = DEMO_PATIENTS[0]!;
const OTHER_PATIENT = DEMO_PATIENTS[1]!;

let ehr: SandboxEhr;
let jwtKey: CryptoKey;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES384');
  jwtKey = privateKey;
  ehr = await startSandboxEhr({
    port: 0,
    appLaunchUrl: `${APP}/app/launch.html`,
    appRedirectUris: [REDIRECT_URI],
    clientId: CLIENT_ID,
    patients: DEMO_PATIENTS,
    practitioner: DEMO_PRACTITIONER,
    introspectionClients: [
      { method: 'client_secret_basic', ...BASIC },
      {
        method: 'private_key_jwt',
        clientId: JWT_CLIENT,
        publicJwk: { ...(await exportJWK(publicKey)), alg: 'ES384' },
      },
      { method: 'bearer', ...BEARER },
    ],
  });
});
afterAll(async () => {
  await ehr.close();
});

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** GETs without following redirects. */
async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers });
}

async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

function authorizeUrl(params: Record<string, string>): string {
  const url = new URL(`${new URL(ehr.iss).origin}/authorize`);
  const all = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: APP_SCOPE,
    state: randomUUID(),
    aud: ehr.iss,
    ...params,
  };
  for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v);
  return url.href;
}

/** The query of where an answer redirects to. */
function redirectParams(res: Response): URLSearchParams {
  const location = res.headers.get('location');
  expect(location, 'a redirect').not.toBeNull();
  return new URL(location!).searchParams;
}

/** An EHR launch of `patientId` as the launcher page starts it; returns the launch id. */
async function launch(patientId: string): Promise<string> {
  const res = await get(`${ehr.url}launch/${patientId}`);
  expect(res.status).toBe(302);
  const params = redirectParams(res);
  expect(params.get('iss')).toBe(ehr.iss);
  return params.get('launch')!;
}

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  patient?: string;
  need_patient_banner?: boolean;
  id_token?: string;
  refresh_token?: string;
  error?: string;
}

async function token(form: Record<string, string>): Promise<{ status: number; body: TokenBody }> {
  const res = await post(ehr.urls.token, form);
  return { status: res.status, body: (await res.json()) as TokenBody };
}

/** The whole EHR launch: launcher, authorize, code exchange. */
async function ehrLaunch(
  patientId = PATIENT.id,
): Promise<{ code: string; verifier: string; body: TokenBody }> {
  const { verifier, challenge } = pkce();
  const state = randomUUID();
  const res = await get(
    authorizeUrl({
      launch: await launch(patientId),
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }),
  );
  expect(res.status).toBe(303);
  const params = redirectParams(res);
  expect(params.get('state')).toBe(state);
  const code = params.get('code')!;
  const exchanged = await token({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    code_verifier: verifier,
  });
  expect(exchanged.status).toBe(200);
  return { code, verifier, body: exchanged.body };
}

async function introspect(
  accessToken: string,
  headers: Record<string, string>,
  extra: Record<string, string> = {},
) {
  const res = await post(ehr.urls.introspect, { token: accessToken, ...extra }, headers);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const basicAuth = (id: string, secret: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

async function assertion(
  key: CryptoKey,
  aud = ehr.urls.introspect,
  jti = randomUUID(),
): Promise<Record<string, string>> {
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384' })
    .setIssuer(JWT_CLIENT)
    .setSubject(JWT_CLIENT)
    .setAudience(aud)
    .setJti(jti)
    .setExpirationTime('2m')
    .sign(key);
  return {
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: jwt,
  };
}

describe('discovery', () => {
  it('publishes the SMART configuration with PKCE S256, the endpoints and capabilities', async () => {
    const res = await get(`${ehr.iss}/.well-known/smart-configuration`);
    expect(res.status).toBe(200);
    const config = (await res.json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      issuer: ehr.iss,
      authorization_endpoint: ehr.urls.authorize,
      token_endpoint: ehr.urls.token,
      introspection_endpoint: ehr.urls.introspect,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
    });
    expect(config['capabilities']).toEqual(
      expect.arrayContaining([
        'launch-ehr',
        'launch-standalone',
        'client-public',
        'context-ehr-patient',
        'context-standalone-patient',
        'permission-v1',
        'permission-v2',
        'sso-openid-connect',
      ]),
    );
    expect(config['scopes_supported']).toEqual(
      expect.arrayContaining(['launch', 'openid', 'patient/Patient.rs']),
    );
  });

  it('names the OAuth endpoints in the CapabilityStatement', async () => {
    const res = await get(`${ehr.iss}/metadata`);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    const cs = (await res.json()) as {
      rest: { security: { extension: { url: string; extension: unknown[] }[] } }[];
    };
    const uris = cs.rest[0]?.security.extension.find(
      (e) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
    );
    expect(uris?.extension).toEqual(
      expect.arrayContaining([
        { url: 'authorize', valueUri: ehr.urls.authorize },
        { url: 'token', valueUri: ehr.urls.token },
      ]),
    );
  });

  it('lets the app at its origin call discovery from a browser, and no other origin', async () => {
    const allowed = await get(`${ehr.iss}/.well-known/smart-configuration`, { origin: APP });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    const other = await get(`${ehr.iss}/.well-known/smart-configuration`, { origin: 'http://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('authorization', () => {
  it('refuses an authorization request without PKCE S256, and sends no code', async () => {
    const launchId = await launch(PATIENT.id);
    for (const pkceParams of [{}, { code_challenge: pkce().challenge, code_challenge_method: 'plain' }]) {
      const res = await get(authorizeUrl({ launch: launchId, state: 's1', ...pkceParams }));
      expect(res.status).toBe(303);
      const params = redirectParams(res);
      expect(params.get('error')).toBe('invalid_request');
      expect(params.get('state')).toBe('s1');
      expect(params.get('code')).toBeNull();
    }
  });

  it('never redirects to an unregistered redirect URI or for an unknown client', async () => {
    const { challenge } = pkce();
    const pk = { code_challenge: challenge, code_challenge_method: 'S256' };
    const badRedirect = await get(authorizeUrl({ ...pk, redirect_uri: 'http://evil.example/' }));
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.get('location')).toBeNull();
    const badClient = await get(authorizeUrl({ ...pk, client_id: 'someone-else' }));
    expect(badClient.status).toBe(400);
  });

  it('refuses a wrong aud and an unknown launch', async () => {
    const pk = { code_challenge: pkce().challenge, code_challenge_method: 'S256' };
    const wrongAud = redirectParams(
      await get(authorizeUrl({ ...pk, launch: await launch(PATIENT.id), aud: 'http://elsewhere/fhir' })),
    );
    expect(wrongAud.get('error')).toBe('invalid_request');
    const unknownLaunch = redirectParams(await get(authorizeUrl({ ...pk, launch: 'nope' })));
    expect(unknownLaunch.get('error')).toBe('invalid_request');
  });

  it('runs the EHR launch: a code for PKCE, a token with patient, banner and an id_token naming the practitioner', async () => {
    const { body } = await ehrLaunch();
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      patient: PATIENT.id,
      need_patient_banner: true,
    });
    expect(body.scope.split(' ')).toEqual(APP_SCOPE.split(' '));
    expect(body.refresh_token).toEqual(expect.any(String));
    const jwks = (await (await get(ehr.urls.jwks)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(body.id_token!, createLocalJWKSet(jwks), {
      issuer: ehr.iss,
      audience: CLIENT_ID,
    });
    expect(payload['fhirUser']).toBe(`${ehr.iss}/Practitioner/${DEMO_PRACTITIONER.id}`);
    expect(payload.sub).toBe(DEMO_PRACTITIONER.id);
  });

  it('refuses a wrong code_verifier, and a code used twice revokes what it issued', async () => {
    const { verifier, challenge } = pkce();
    const params = redirectParams(
      await get(
        authorizeUrl({
          launch: await launch(PATIENT.id),
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      ),
    );
    const form = {
      grant_type: 'authorization_code',
      code: params.get('code')!,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
    };
    const wrong = await token({ ...form, code_verifier: pkce().verifier });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // That attempt spent the code, so even the right verifier fails now.
    expect((await token({ ...form, code_verifier: verifier })).status).toBe(400);

    const first = await ehrLaunch();
    const again = await token({
      grant_type: 'authorization_code',
      code: first.code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: first.verifier,
    });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const check = await introspect(first.body.access_token, basicAuth(BASIC.clientId, BASIC.clientSecret));
    expect(check.body).toEqual({ active: false });
  });

  it('runs a standalone launch with a patient picker', async () => {
    const { verifier, challenge } = pkce();
    const res = await get(
      authorizeUrl({
        scope: 'launch/patient openid fhirUser patient/Patient.rs',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    const requestId = /name="request" value="([^"]+)"/.exec(html)?.[1];
    expect(requestId).toBeDefined();
    expect(html).toContain(OTHER_PATIENT.family);
    const chosen = await post(`${new URL(ehr.iss).origin}/authorize/patient`, {
      request: requestId!,
      patient: OTHER_PATIENT.id,
    });
    expect(chosen.status).toBe(303);
    const code = redirectParams(chosen).get('code')!;
    const { body } = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: verifier,
    });
    expect(body).toMatchObject({ patient: OTHER_PATIENT.id, need_patient_banner: true });
    expect(body.scope).toBe('launch/patient openid fhirUser patient/Patient.rs');
    expect(body.refresh_token).toBeUndefined();
  });
});

describe('refresh', () => {
  it('rotates the refresh token, keeps the context, and revokes the grant when a used one comes back', async () => {
    const { body } = await ehrLaunch();
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token! });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ token_type: 'Bearer', patient: PATIENT.id, scope: body.scope });
    expect(refreshed.body.access_token).not.toBe(body.access_token);
    expect(refreshed.body.refresh_token).not.toBe(body.refresh_token);

    const replay = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token! });
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const basic = basicAuth(BASIC.clientId, BASIC.clientSecret);
    expect((await introspect(refreshed.body.access_token, basic)).body).toEqual({ active: false });
    const next = await token({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token! });
    expect(next.status).toBe(400);
  });
});

describe('introspection', () => {
  const patientScope = 'launch openid fhirUser patient/Patient.rs online_access';

  function expectActive(body: Record<string, unknown>): void {
    expect(body).toMatchObject({
      active: true,
      scope: patientScope,
      patient: PATIENT.id,
      client_id: CLIENT_ID,
      sub: DEMO_PRACTITIONER.id,
      fhirUser: `${ehr.iss}/Practitioner/${DEMO_PRACTITIONER.id}`,
      iss: ehr.iss,
    });
    expect(body['exp']).toBeGreaterThan(Date.now() / 1000);
  }

  it('client_secret_basic: active, expired and unknown tokens; a wrong secret is 401', async () => {
    const headers = basicAuth(BASIC.clientId, BASIC.clientSecret);
    expectActive(
      (await introspect(ehr.issueToken({ scope: patientScope, patient: PATIENT.id }), headers)).body,
    );
    const expired = ehr.issueToken({ scope: patientScope, patient: PATIENT.id, expiresInSec: -1 });
    expect(await introspect(expired, headers)).toEqual({ status: 200, body: { active: false } });
    expect((await introspect('not-a-token', headers)).body).toEqual({ active: false });
    const wrong = await introspect(
      ehr.issueToken({ scope: patientScope }),
      basicAuth(BASIC.clientId, 'guess'),
    );
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const none = await introspect(ehr.issueToken({ scope: patientScope }), {});
    expect(none.status).toBe(401);
  });

  it('private_key_jwt: a signed assertion, used once; another key or audience is 401', async () => {
    const live = ehr.issueToken({ scope: patientScope, patient: PATIENT.id });
    const signed = await assertion(jwtKey);
    expectActive((await introspect(live, {}, signed)).body);
    expect((await introspect(live, {}, signed)).status).toBe(401);
    const expired = ehr.issueToken({ scope: patientScope, patient: PATIENT.id, expiresInSec: -1 });
    expect((await introspect(expired, {}, await assertion(jwtKey))).body).toEqual({ active: false });
    const { privateKey: stranger } = await generateKeyPair('ES384');
    expect((await introspect(live, {}, await assertion(stranger))).status).toBe(401);
    expect((await introspect(live, {}, await assertion(jwtKey, 'http://elsewhere/introspect'))).status).toBe(
      401,
    );
  });

  it('bearer: the resource server’s static token; a wrong one is 401', async () => {
    const live = ehr.issueToken({ scope: patientScope, patient: PATIENT.id });
    const headers = { authorization: `Bearer ${BEARER.token}` };
    expectActive((await introspect(live, headers)).body);
    const expired = ehr.issueToken({ scope: patientScope, patient: PATIENT.id, expiresInSec: -1 });
    expect((await introspect(expired, headers)).body).toEqual({ active: false });
    expect((await introspect(live, { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('refuses two authentication methods at once', async () => {
    const live = ehr.issueToken({ scope: patientScope, patient: PATIENT.id });
    const res = await introspect(
      live,
      basicAuth(BASIC.clientId, BASIC.clientSecret),
      await assertion(jwtKey),
    );
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('FHIR reads', () => {
  const scope = 'launch openid fhirUser patient/Patient.rs';

  it('needs a token: none or an expired one is 401 with WWW-Authenticate', async () => {
    const none = await get(`${ehr.iss}/Patient/${PATIENT.id}`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const expired = ehr.issueToken({ scope, patient: PATIENT.id, expiresInSec: -1 });
    const stale = await get(`${ehr.iss}/Patient/${PATIENT.id}`, { authorization: `Bearer ${expired}` });
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('reads the launch patient and the practitioner; another patient is 404, no Patient scope is 403', async () => {
    const { body } = await ehrLaunch();
    const auth = { authorization: `Bearer ${body.access_token}` };
    const patient = await get(`${ehr.iss}/Patient/${PATIENT.id}`, auth);
    expect(patient.status).toBe(200);
    expect(await patient.json()).toMatchObject({
      resourceType: 'Patient',
      id: PATIENT.id,
      birthDate: PATIENT.birthDate,
      name: [{ family: PATIENT.family }],
      generalPractitioner: [{ reference: `Practitioner/${DEMO_PRACTITIONER.id}` }],
    });
    expect((await get(`${ehr.iss}/Patient/${OTHER_PATIENT.id}`, auth)).status).toBe(404);
    const practitioner = await get(`${ehr.iss}/Practitioner/${DEMO_PRACTITIONER.id}`, auth);
    expect(await practitioner.json()).toMatchObject({
      identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: DEMO_PRACTITIONER.npi }],
    });
    const observationsOnly = ehr.issueToken({ scope: 'patient/Observation.rs', patient: PATIENT.id });
    const forbidden = await get(`${ehr.iss}/Patient/${PATIENT.id}`, {
      authorization: `Bearer ${observationsOnly}`,
    });
    expect(forbidden.status).toBe(403);
  });
});

describe('launcher', () => {
  it('frames the app in the patient’s chart with a fresh launch, and lists every patient', async () => {
    const list = await (await get(ehr.url)).text();
    for (const p of DEMO_PATIENTS) expect(list).toContain(`/ehr/${p.id}`);
    const chart = await get(`${ehr.url}ehr/${PATIENT.id}`);
    // The frame loads the app, then this EHR's /authorize, then the app again.
    expect(chart.headers.get('content-security-policy')).toContain(`frame-src 'self' ${APP}`);
    const src = /<iframe[^>]* src="([^"]+)"/.exec(await chart.text())?.[1]?.replaceAll('&amp;', '&');
    expect(src).toBeDefined();
    const url = new URL(src!);
    expect(`${url.origin}${url.pathname}`).toBe(`${APP}/app/launch.html`);
    expect(url.searchParams.get('iss')).toBe(ehr.iss);
    expect(url.searchParams.get('launch')).toEqual(expect.any(String));
  });
});
