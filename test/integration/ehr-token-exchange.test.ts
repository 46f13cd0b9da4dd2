/**
 * The EHR token exchange end to end: HL7 v2 in over MLLP to build linked records at two
 * facilities, fake EHRs on loopback ports (one per introspection authentication method), and
 * the real engine's `POST /auth/token`, `/fhir` and `/api/identity/ehr-reviews`. Each case has
 * its own people, so the cases share one engine.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEhr, type FakeEhr, type FakeEhrAuth, type FakeEhrToken } from '../helpers/fake-ehr';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient } from '../helpers/system-client';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';
import { sendProcessed } from '../helpers/send-and-finish';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const APP_ORIGIN = 'http://app.example';

let engine: TestEngine;
let mllp: MllpTestClient;
let base: string;
let systemToken: string;
const ehrs = {} as Record<FakeEhrAuth, FakeEhr>;
/** An EHR that refuses the engine's credentials. */
let refusing: FakeEhr;

interface Demo {
  readonly facility: string;
  readonly mrn: string;
  readonly family: string;
  readonly given: string;
  readonly dob: string;
  readonly sex: 'M' | 'F';
  readonly street: string;
  readonly zip: string;
  readonly phone: string;
  /** An extra PID-3 repetition, e.g. `E777^^^HIE^PE`. */
  readonly extraId?: string;
}

const demo = (o: Partial<Demo> & Pick<Demo, 'mrn' | 'family' | 'given' | 'phone'>): Demo => ({
  facility: 'MERCY',
  dob: '19750304',
  sex: 'F',
  street: '48 Birch Road',
  zip: '62704',
  ...o,
});

let controlSeq = 0;
let minute = 0;

function nextTime(): string {
  minute++;
  const d = new Date(Date.UTC(2024, 3, 9, 8, 0) + minute * 60_000);
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 12)}00+0000`;
}

function adt(p: Demo): string {
  const time = nextTime();
  const ids = `${p.mrn}^^^${p.facility}^MR${p.extraId !== undefined ? `~${p.extraId}` : ''}`;
  return [
    `MSH|^~\\&|EPIC|${p.facility}|CARE|CARE|${time}||ADT^A01^ADT_A01|XCH${++controlSeq}|P|2.5.1`,
    `EVN|A01|${time}`,
    `PID|1||${ids}||${p.family}^${p.given}^Q||${p.dob}|${p.sex}|||${p.street}^^Springfield^IL^${p.zip}||^PRN^PH^^1^217^${p.phone}`,
    `PV1|1|I|4W^401^B^${p.facility}||||||MED||||7|||||V${p.mrn}^^^${p.facility}^VN`,
  ].join('\r');
}

const send = (text: string): Promise<void> => sendProcessed(engine, mllp, text);

async function patientId(p: Pick<Demo, 'facility' | 'mrn'>): Promise<string> {
  const rows = await engine.db.query<{ id: string }>(
    `SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND resource->'identifier' @> $1::jsonb`,
    [JSON.stringify([{ system: `urn:care:id:${p.facility}`, value: p.mrn }])],
  );
  expect(rows).toHaveLength(1);
  return rows[0]?.id ?? '';
}

/** The same person as the EHR of the PCP holds them: its own id and MRN, FHIR shapes. */
function ehrPatient(id: string, p: Demo, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    id,
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.999.1', value: `EHR-${id}` }],
    name: [{ use: 'official', family: p.family, given: [p.given] }],
    gender: p.sex === 'F' ? 'female' : 'male',
    birthDate: `${p.dob.slice(0, 4)}-${p.dob.slice(4, 6)}-${p.dob.slice(6)}`,
    address: [{ line: [p.street], city: 'Springfield', state: 'IL', postalCode: p.zip }],
    telecom: [{ system: 'phone', value: `(217) ${p.phone.slice(0, 3)}-${p.phone.slice(3)}` }],
    ...extra,
  };
}

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

async function exchange(
  ehr: FakeEhr,
  subjectToken: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      grant_type: GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN,
      subject_issuer: ehr.iss,
      ...extra,
    }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function get(path: string, bearer: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${bearer}`, ...headers } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Exchanges a fresh EHR token for `t` at `ehr`, expecting success. */
async function engineToken(
  ehr: FakeEhr,
  t: FakeEhrToken,
  extra: Record<string, string> = {},
): Promise<Reply> {
  const reply = await exchange(ehr, ehr.issue(t), extra);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply;
}

const accessToken = (r: Reply): string => r.body['access_token'] as string;
const references = (r: Reply): string[] =>
  ((r.body['entry'] as { resource: { resourceType: string; id: string } }[] | undefined) ?? []).map(
    (e) => `${e.resource.resourceType}/${e.resource.id}`,
  );
const matchOf = (r: Reply): Record<string, unknown> => r.body['match'] as Record<string, unknown>;
const recordsOf = (r: Reply): { patient: string; facility?: string; via: string; grade?: string }[] =>
  matchOf(r)['records'] as { patient: string; facility?: string; via: string; grade?: string }[];

// The launch patient and her records at two hospitals; her twin sister at one of them.
const ada = demo({
  mrn: 'XA1',
  family: 'Quintero',
  given: 'Adelaide',
  phone: '5550144',
  extraId: 'E777^^^HIE^PE',
});
const adaStJohn = demo({
  facility: 'STJOHN',
  mrn: 'SJXA1',
  family: 'QUINTERO',
  given: 'ADELAIDE',
  street: '48 BIRCH RD',
  phone: '5550144',
});
const twin = demo({ mrn: 'XA2', family: 'Quintero', given: 'Beatrice', phone: '5550144' });
// Someone else entirely.
const martin = demo({
  mrn: 'XB1',
  family: 'Okafor',
  given: 'Martin',
  sex: 'M',
  dob: '19620811',
  street: '9 Elm Court',
  zip: '62702',
  phone: '5550177',
});
// Two records of one facility with different MRNs: never linked without that facility's merge.
const erik1 = demo({
  mrn: 'XE1',
  family: 'Lindqvist',
  given: 'Erik',
  sex: 'M',
  dob: '19880120',
  street: '3 Pine St',
  zip: '62711',
  phone: '5550188',
});
const erik2 = demo({ ...erik1, mrn: 'XE2' });
const nobody = demo({
  mrn: 'none',
  family: 'Featherstonehaugh',
  given: 'Zebulon',
  sex: 'M',
  dob: '19990909',
  street: '1 Nowhere Lane',
  zip: '62999',
  phone: '5550000',
});

let adaIds: string[];
let twinId: string;
let martinIds: string[];

beforeAll(async () => {
  ehrs.client_secret_basic = await startFakeEhr('client_secret_basic');
  ehrs.private_key_jwt = await startFakeEhr('private_key_jwt');
  ehrs.bearer = await startFakeEhr('bearer');
  refusing = await startFakeEhr('client_secret_basic');
  const dir = mkdtempSync(join(tmpdir(), 'care-ehr-issuers-'));
  const issuersFile = join(dir, 'ehr-issuers.json');
  writeFileSync(
    issuersFile,
    JSON.stringify([
      ehrs.client_secret_basic.issuerEntry(),
      ehrs.private_key_jwt.issuerEntry(),
      ehrs.bearer.issuerEntry({ discover: true }),
      refusing.issuerEntry({ wrongSecret: true }),
    ]),
  );
  const client = await createSystemClient('system/*.rs');
  engine = await startTestEngine({
    env: {
      SMART_CLIENTS_FILE: client.clientsFile,
      EHR_ISSUERS_FILE: issuersFile,
      CORS_ALLOWED_ORIGINS: APP_ORIGIN,
    },
  });
  base = engine.config.http.publicUrl;
  systemToken = await client.token(base, 'system/*.rs');
  mllp = await MllpTestClient.connect(engine.mllpPort);
  for (const p of [ada, adaStJohn, twin, martin, erik1, erik2]) await send(adt(p));
  adaIds = [await patientId(ada), await patientId(adaStJohn)].sort();
  twinId = await patientId(twin);
  martinIds = [await patientId(martin)];
  for (const ehr of [...Object.values(ehrs), refusing]) {
    ehr.addPatient(ehrPatient('ehr-ada', ada));
    ehr.addPatient(ehrPatient('ehr-martin', martin));
    ehr.addPatient(ehrPatient('ehr-erik', erik1));
    ehr.addPatient(ehrPatient('ehr-nobody', nobody));
    ehr.addPatient(
      ehrPatient('ehr-ada-pe', ada, {
        identifier: [
          {
            system: 'urn:care:id:HIE',
            value: 'E777',
            type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PE' }] },
          },
        ],
      }),
    );
  }
});

afterAll(async () => {
  mllp.close();
  await engine.destroy();
  for (const ehr of [...Object.values(ehrs), refusing]) await ehr.close();
});

describe('a matched launch patient', () => {
  it.each(['client_secret_basic', 'private_key_jwt', 'bearer'] as const)(
    'introspects with %s and issues a token for the person’s records at both facilities',
    async (method) => {
      const ehr = ehrs[method];
      const before = ehr.calls.introspection;
      const exp = Math.floor(Date.now() / 1000) + 200;
      const reply = await engineToken(ehr, { patient: 'ehr-ada', exp, fhirUser: 'Practitioner/pcp-1' });
      expect(ehr.calls.introspection).toBe(before + 1);
      expect(ehr.calls.refusedAuth).toBe(0);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'Bearer' });
      // Never longer than the EHR token, nor 300 s.
      expect(reply.body['expires_in']).toBeLessThanOrEqual(200);
      expect((reply.body['scope'] as string).split(' ')).toEqual([
        'patient/Patient.rs',
        'patient/Encounter.rs',
        'patient/Observation.rs',
        'patient/DiagnosticReport.rs',
        'patient/Condition.rs',
        'patient/Communication.rs',
        'patient/Location.rs',
        'patient/Practitioner.rs',
        'patient/Organization.rs',
      ]);
      expect(adaIds).toContain(reply.body['patient']);
      expect(matchOf(reply)).toMatchObject({ status: 'matched', basis: 'score' });
      expect(
        recordsOf(reply)
          .map((r) => r.patient)
          .sort(),
      ).toEqual(adaIds.map((id) => `Patient/${id}`));
      expect(
        recordsOf(reply)
          .map((r) => r.facility)
          .sort(),
      ).toEqual(['urn:care:id:MERCY', 'urn:care:id:STJOHN']);
      expect(recordsOf(reply).every((r) => r.via === 'match' && r.grade !== undefined)).toBe(true);

      const claims = decodeJwt(accessToken(reply));
      expect([...(claims['patients'] as string[])].sort()).toEqual(adaIds);
      expect(claims['client_id']).toBe('care-timeline');
      expect(claims.sub).toBe(`${ehr.iss}/Practitioner/pcp-1`);
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(200);

      const everything = await get(
        `/fhir/Patient/${String(reply.body['patient'])}/$everything`,
        accessToken(reply),
      );
      expect(everything.status).toBe(200);
      const found = references(everything);
      expect(found.filter((r) => r.startsWith('Patient/')).sort()).toEqual(
        adaIds.map((id) => `Patient/${id}`),
      );
      expect(found.filter((r) => r.startsWith('Encounter/'))).toHaveLength(2);
      expect(found).not.toContain(`Patient/${twinId}`);
    },
  );

  it('finds the introspection endpoint in the EHR’s smart-configuration when the file names none', () => {
    expect(ehrs.bearer.calls.discovery).toBeGreaterThanOrEqual(1);
    expect(ehrs.client_secret_basic.calls.discovery).toBe(0);
    expect(ehrs.private_key_jwt.calls.discovery).toBe(0);
  });

  it('counts a shared certain identifier (enterprise number) as naming the person', async () => {
    const reply = await engineToken(ehrs.client_secret_basic, { patient: 'ehr-ada-pe' });
    expect(matchOf(reply)).toMatchObject({ status: 'matched', basis: 'identifier' });
    expect(
      recordsOf(reply)
        .map((r) => r.patient)
        .sort(),
    ).toEqual(adaIds.map((id) => `Patient/${id}`));
  });

  it('answers 403 for another patient, the twin included, and filters searches', async () => {
    const token = accessToken(await engineToken(ehrs.client_secret_basic, { patient: 'ehr-ada' }));
    for (const path of [
      `/fhir/Patient/${twinId}`,
      `/fhir/Patient/${twinId}/$everything`,
      `/fhir/Patient/${twinId}/_history`,
      `/fhir/Patient/${martinIds[0] ?? ''}/$everything`,
      '/fhir/Patient/no-such-patient',
    ]) {
      const reply = await get(path, token);
      expect([reply.status, (reply.body['issue'] as { code: string }[])[0]?.code], path).toEqual([
        403,
        'forbidden',
      ]);
    }
    const search = await get(`/fhir/Patient?_id=${twinId}`, token);
    expect([search.status, search.body['total']]).toEqual([200, 0]);
    const own = await get('/fhir/Patient', token);
    expect(references(own).sort()).toEqual(adaIds.map((id) => `Patient/${id}`));
    for (const id of adaIds) expect((await get(`/fhir/Patient/${id}`, token)).status).toBe(200);
  });

  it('binds the token to the patient the EHR names, whatever the app says', async () => {
    const reply = await engineToken(ehrs.private_key_jwt, { patient: 'ehr-martin' }, { patient: 'ehr-ada' });
    expect(recordsOf(reply).map((r) => r.patient)).toEqual(martinIds.map((id) => `Patient/${id}`));
    expect(reply.body['patient']).toBe(martinIds[0]);
    const token = accessToken(reply);
    expect((await get(`/fhir/Patient/${adaIds[0] ?? ''}/$everything`, token)).status).toBe(403);
    expect((await get(`/fhir/Patient/${martinIds[0] ?? ''}/$everything`, token)).status).toBe(200);
  });

  it('grants only the scopes the EHR granted, and narrows to a requested scope', async () => {
    const reply = await engineToken(ehrs.bearer, {
      patient: 'ehr-ada',
      scope: 'launch openid patient/Patient.read patient/Encounter.rs user/Condition.read system/*.read',
    });
    expect(reply.body['scope']).toBe('patient/Patient.rs patient/Encounter.rs patient/Condition.rs');
    const token = accessToken(reply);
    const id = adaIds[0] ?? '';
    expect((await get(`/fhir/Observation?patient=${id}`, token)).status).toBe(403);
    expect((await get(`/fhir/Encounter?patient=${id}`, token)).status).toBe(200);
    const narrowed = await engineToken(
      ehrs.bearer,
      { patient: 'ehr-ada' },
      { scope: 'patient/Patient.read launch' },
    );
    expect(narrowed.body['scope']).toBe('patient/Patient.rs');
    const none = await exchange(
      ehrs.bearer,
      ehrs.bearer.issue({ patient: 'ehr-ada', scope: 'launch openid' }),
    );
    expect([none.status, none.body['error'], none.body['reason']]).toEqual([
      400,
      'invalid_scope',
      'invalid-scope',
    ]);
  });
});

describe('no confident match', () => {
  async function ehrReviews(): Promise<Record<string, unknown>[]> {
    const reply = await get('/api/identity/ehr-reviews?status=open', systemToken);
    expect(reply.status).toBe(200);
    return reply.body['reviews'] as Record<string, unknown>[];
  }

  it('issues a token that sees nothing, says why, and queues the case for review', async () => {
    const reply = await engineToken(ehrs.client_secret_basic, { patient: 'ehr-nobody' });
    expect(reply.body['patient']).toBeUndefined();
    expect(matchOf(reply)).toEqual({
      status: 'none',
      reason: 'no-match',
      description: 'no record of this patient at the link threshold',
      records: [],
    });
    expect(decodeJwt(accessToken(reply))['patients']).toEqual([]);
    const token = accessToken(reply);
    expect((await get('/fhir/Patient', token)).body['total']).toBe(0);
    expect((await get('/fhir/Encounter', token)).body['total']).toBe(0);
    expect((await get(`/fhir/Patient/${adaIds[0] ?? ''}`, token)).status).toBe(403);
    expect((await get(`/fhir/Patient/${adaIds[0] ?? ''}/$everything`, token)).status).toBe(403);

    const [review] = (await ehrReviews()).filter((r) => r['ehrPatient'] === 'ehr-nobody');
    expect(review).toMatchObject({
      status: 'open',
      reason: 'no-match',
      issuer: ehrs.client_secret_basic.iss,
      attempts: 1,
      patient: { resourceType: 'Patient', birthDate: '1999-09-09', name: [{ family: 'Featherstonehaugh' }] },
    });
    await engineToken(ehrs.client_secret_basic, { patient: 'ehr-nobody' });
    const [again] = (await ehrReviews()).filter((r) => r['ehrPatient'] === 'ehr-nobody');
    expect(again).toMatchObject({ id: review?.['id'], attempts: 2 });
  });

  it('never guesses between two persons: ambiguous, with both candidates queued', async () => {
    const reply = await engineToken(ehrs.client_secret_basic, { patient: 'ehr-erik' });
    expect(matchOf(reply)).toMatchObject({
      status: 'none',
      reason: 'ambiguous',
      description: 'more than one person matches this patient at the link threshold',
      records: [],
    });
    const [review] = (await ehrReviews()).filter((r) => r['ehrPatient'] === 'ehr-erik');
    const candidates = (review?.['candidates'] as { patientId: string }[]).map((c) => c.patientId).sort();
    expect(candidates).toEqual([await patientId(erik1), await patientId(erik2)].sort());
  });

  it('is refused to a patient-bound token', async () => {
    const token = accessToken(await engineToken(ehrs.client_secret_basic, { patient: 'ehr-ada' }));
    expect((await get('/api/identity/ehr-reviews', token)).status).toBe(403);
  });
});

describe('refused exchanges', () => {
  it('refuses an unknown issuer, an inactive, an expired and a foreign token, each 403', async () => {
    const ehr = ehrs.client_secret_basic;
    const stranger = { ...ehr, iss: 'https://ehr.stranger.example/fhir' } as FakeEhr;
    const cases: [Reply, string][] = [
      [await exchange(stranger, 'whatever'), 'unknown-issuer'],
      [await exchange(ehr, ehr.issue({ active: false, patient: 'ehr-ada' })), 'token-inactive'],
      [
        await exchange(ehr, ehr.issue({ exp: Math.floor(Date.now() / 1000) - 60, patient: 'ehr-ada' })),
        'token-expired',
      ],
      [await exchange(ehr, 'never-issued'), 'token-inactive'],
      [await exchange(ehr, ehr.issue({ patient: 'ehr-ada', clientId: 'another-app' })), 'token-wrong-client'],
      [await exchange(ehr, ehr.issue({})), 'no-patient-context'],
      [await exchange(ehr, ehr.issue({ patient: 'not-at-the-ehr' })), 'ehr-patient-unreadable'],
    ];
    for (const [reply, reason] of cases) {
      expect([reply.status, reply.body['error'], reply.body['reason']], reason).toEqual([
        403,
        'invalid_grant',
        reason,
      ]);
      expect(typeof reply.body['error_description']).toBe('string');
    }
  });

  it('answers 503 when the EHR refuses the engine’s own credentials', async () => {
    const reply = await exchange(refusing, refusing.issue({ patient: 'ehr-ada' }));
    expect([reply.status, reply.body['error'], reply.body['reason']]).toEqual([
      503,
      'temporarily_unavailable',
      'introspection-failed',
    ]);
    expect(refusing.calls.refusedAuth).toBe(1);
  });

  it('answers 400 for a malformed request and 401 for another client_id', async () => {
    const ehr = ehrs.client_secret_basic;
    const token = ehr.issue({ patient: 'ehr-ada' });
    const cases: [Record<string, string>, number, string][] = [
      [{ subject_token: '' }, 400, 'invalid_request'],
      [{ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 400, 'invalid_request'],
      [{ requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }, 400, 'invalid_request'],
      [{ client_assertion: 'x' }, 400, 'invalid_request'],
      [{ audience: 'https://elsewhere.example/fhir' }, 400, 'invalid_target'],
      [{ client_id: 'someone-else' }, 401, 'invalid_client'],
    ];
    for (const [extra, status, error] of cases) {
      const reply = await exchange(ehr, token, extra);
      expect([reply.status, reply.body['error']], JSON.stringify(extra)).toEqual([status, error]);
    }
    const ok = await exchange(ehr, token, { client_id: 'care-timeline', audience: `${base}/fhir` });
    expect(ok.status).toBe(200);
  });

  it('audits every exchange, refusals with their reason, successes per patient', async () => {
    const rows = await engine.db.query<{
      client_id: string;
      outcome: string;
      patient_id: string | null;
      detail: Record<string, string> | null;
    }>(`SELECT client_id, outcome, patient_id, detail FROM audit_events WHERE action = 'exchange'`);
    const refused = new Set(rows.filter((r) => r.outcome !== 'success').map((r) => r.detail?.['reason']));
    for (const reason of [
      'unknown-issuer',
      'token-inactive',
      'token-expired',
      'token-wrong-client',
      'no-patient-context',
      'ehr-patient-unreadable',
      'introspection-failed',
      'invalid-request',
      'invalid-target',
      'invalid-client',
      'invalid-scope',
    ]) {
      expect(refused, reason).toContain(reason);
    }
    expect(rows.find((r) => r.detail?.['reason'] === 'introspection-failed')?.outcome).toBe('error');
    expect(rows.find((r) => r.detail?.['reason'] === 'unknown-issuer')?.detail?.['iss']).toBe(
      'https://ehr.stranger.example/fhir',
    );
    const matched = rows.filter((r) => r.outcome === 'success' && r.detail?.['match'] === 'matched');
    expect(new Set(matched.map((r) => r.patient_id))).toEqual(new Set([...adaIds, ...martinIds]));
    expect(matched.every((r) => r.detail?.['ehrPatient'] !== undefined)).toBe(true);
    // Never the EHR token itself.
    expect(JSON.stringify(rows)).not.toMatch(/ehr-[0-9a-f]{8}-/);
  });
});

describe('the introspection cache', () => {
  it('reuses an answer within the token’s lifetime, and not after it', async () => {
    const ehr = ehrs.private_key_jwt;
    const token = ehr.issue({ patient: 'ehr-ada', exp: Math.floor(Date.now() / 1000) + 2 });
    const before = ehr.calls.introspection;
    expect((await exchange(ehr, token)).status).toBe(200);
    expect((await exchange(ehr, token)).status).toBe(200);
    expect(ehr.calls.introspection).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 2_100));
    const late = await exchange(ehr, token);
    expect(ehr.calls.introspection).toBe(before + 2);
    expect([late.status, late.body['reason']]).toEqual([403, 'token-expired']);
  });
});

describe('CORS', () => {
  const preflight = async (path: string, origin: string): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });

  it('lets the configured origin and the engine’s own call /auth/token and /fhir, and no other', async () => {
    const allowed = await preflight('/auth/token', APP_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const own = await preflight('/fhir/Patient', new URL(base).origin);
    expect(own.headers.get('access-control-allow-origin')).toBe(new URL(base).origin);
    const evil = await preflight('/auth/token', 'http://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();

    const ehr = ehrs.client_secret_basic;
    const post = await exchange(ehr, ehr.issue({ patient: 'ehr-ada' }), {}, { origin: APP_ORIGIN });
    expect(post.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    const read = await get(`/fhir/Patient/${adaIds[0] ?? ''}`, accessToken(post), { origin: APP_ORIGIN });
    expect(read.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(read.headers.get('access-control-expose-headers')).toContain('ETag');
    const other = await get(`/fhir/Patient/${adaIds[0] ?? ''}`, accessToken(post), {
      origin: 'http://evil.example',
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('opens discovery to any origin, advertising the token exchange', async () => {
    for (const path of ['/fhir/metadata', '/fhir/.well-known/smart-configuration']) {
      const res = await fetch(`${base}${path}`, { headers: { origin: 'http://evil.example' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
    }
    const config = (await (await fetch(`${base}/fhir/.well-known/smart-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(config['grant_types_supported']).toEqual(['client_credentials', GRANT]);
  });
});
