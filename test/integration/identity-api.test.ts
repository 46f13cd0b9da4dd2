/**
 * The identity API through the real engine: HL7 v2 in over MLLP, linked in processing, read back
 * as IHE PIXm, `$match`, Person and a cross-facility `$everything` over /fhir, and the analyst's
 * review queue over /api/identity, all with real tokens. Each case has its own names, MRNs,
 * phones and birth dates, so the cases share one engine without meeting in a block.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient } from '../helpers/system-client';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';
import { sendProcessed } from '../helpers/send-and-finish';

let engine: TestEngine;
let mllp: MllpTestClient;
let base: string;
/** Reads everything, decides reviews. */
let token: string;
/** Reads everything, may not decide. */
let readOnly: string;

interface Demo {
  readonly facility: string;
  readonly mrn: string;
  readonly family: string;
  readonly given: string;
  /** YYYYMMDD */
  readonly dob: string;
  readonly sex: 'M' | 'F';
  readonly street: string;
  readonly zip: string;
  /** Seven digits after the 217 area code. */
  readonly phone: string;
}

let controlSeq = 0;
let minute = 0;

/** Event times that only go forward, so every message is newer than what the store holds. */
function nextTime(): string {
  minute++;
  const d = new Date(Date.UTC(2024, 2, 5, 15, 0) + minute * 60_000);
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 12)}00+0000`;
}

function adt(p: Demo, visit = `V${p.mrn}`): string {
  const time = nextTime();
  return [
    `MSH|^~\\&|EPIC|${p.facility}|CARE|CARE|${time}||ADT^A01^ADT_A01|API${++controlSeq}|P|2.5.1`,
    `EVN|A01|${time}`,
    `PID|1||${p.mrn}^^^${p.facility}^MR||${p.family}^${p.given}^Q||${p.dob}|${p.sex}|||${p.street}^^Springfield^IL^${p.zip}||^PRN^PH^^1^217^${p.phone}`,
    `PV1|1|I|4W^401^B^${p.facility}||||||MED||||7|||||${visit}^^^${p.facility}^VN`,
  ].join('\r');
}

const send = (text: string): Promise<void> => sendProcessed(engine, mllp, text);

const system = (p: Pick<Demo, 'facility'>): string => `urn:care:id:${p.facility}`;

async function patientId(p: Pick<Demo, 'facility' | 'mrn'>): Promise<string> {
  const rows = await engine.db.query<{ id: string }>(
    `SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND resource->'identifier' @> $1::jsonb`,
    [JSON.stringify([{ system: system(p), value: p.mrn }])],
  );
  expect(rows).toHaveLength(1);
  return rows[0]?.id ?? '';
}

async function personOf(id: string): Promise<string> {
  const [row] = await engine.db.query<{ person_id: string }>(
    `SELECT person_id FROM identity_records WHERE patient_id = $1`,
    [id],
  );
  return row?.person_id ?? '';
}

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(
  method: string,
  path: string,
  o: { bearer?: string; body?: unknown; type?: string } = {},
): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${o.bearer ?? token}`,
      ...(o.body !== undefined ? { 'content-type': o.type ?? 'application/fhir+json' } : {}),
    },
    ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const get = (path: string, bearer?: string): Promise<Reply> =>
  call('GET', path, bearer === undefined ? {} : { bearer });

interface Entry {
  fullUrl: string;
  resource: Record<string, unknown>;
  search?: { mode: string; score?: number; extension?: { url: string; valueCode: string }[] };
}

const entries = (r: Reply): Entry[] => (r.body['entry'] as Entry[] | undefined) ?? [];
const issueCode = (r: Reply): unknown => (r.body['issue'] as { code: string }[] | undefined)?.[0]?.code;

interface Param {
  name: string;
  valueIdentifier?: { system: string; value: string };
  valueReference?: { reference: string };
}

const demo = (o: Partial<Demo> & Pick<Demo, 'mrn' | 'family' | 'phone'>): Demo => ({
  facility: 'MERCY',
  given: 'William',
  dob: '19800214',
  sex: 'M',
  street: '12 Oak Lane',
  zip: '62701',
  ...o,
});

const matchBody = (resource: Record<string, unknown>, extra: Record<string, unknown>[] = []): unknown => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'resource', resource }, ...extra],
});

beforeAll(async () => {
  const client = await createSystemClient('system/*.rs system/IdentityReview.u');
  engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile } });
  base = engine.config.http.publicUrl;
  token = await client.token(base, 'system/*.rs system/IdentityReview.u');
  readOnly = await client.token(base, 'system/*.rs');
  mllp = await MllpTestClient.connect(engine.mllpPort);
});
afterAll(async () => {
  mllp.close();
  await engine.destroy();
});

describe('identity over /fhir', () => {
  const mercy = demo({ mrn: 'MRN1', family: 'Doe', phone: '5550100' });
  // Another facility's legacy feed: upper case, a nickname, an abbreviated street.
  const stjohn = demo({
    facility: 'STJOHN',
    mrn: 'SJ1',
    family: 'DOE',
    given: 'BILL',
    street: '12 OAK LN',
    phone: '5550100',
  });
  const unrelated = demo({
    mrn: 'MRN9',
    family: 'Fairweather',
    given: 'Alice',
    sex: 'F',
    dob: '19910708',
    street: '400 Lake Shore Dr',
    zip: '60611',
    phone: '5550999',
  });
  let mercyId: string;
  let stjohnId: string;
  let unrelatedId: string;
  let personId: string;

  beforeAll(async () => {
    await send(adt(mercy));
    await send(adt(stjohn));
    await send(adt(unrelated));
    mercyId = await patientId(mercy);
    stjohnId = await patientId(stjohn);
    unrelatedId = await patientId(unrelated);
    personId = await personOf(mercyId);
    expect(await personOf(stjohnId)).toBe(personId);
    expect(await personOf(unrelatedId)).not.toBe(personId);
  });

  it('PIXm: the other facility’s identifier and both Patient ids', async () => {
    const reply = await get(
      `/fhir/Patient/$ihe-pix?sourceIdentifier=${encodeURIComponent(`${system(mercy)}|MRN1`)}`,
    );
    expect(reply.status).toBe(200);
    expect(reply.body['resourceType']).toBe('Parameters');
    const params = reply.body['parameter'] as Param[];
    const identifiers = params.filter((p) => p.name === 'targetIdentifier').map((p) => p.valueIdentifier);
    expect(identifiers).toContainEqual({ system: system(stjohn), value: 'SJ1' });
    expect(identifiers).not.toContainEqual({ system: system(mercy), value: 'MRN1' });
    const ids = params.filter((p) => p.name === 'targetId').map((p) => p.valueReference?.reference);
    expect(ids.sort()).toEqual([`Patient/${mercyId}`, `Patient/${stjohnId}`].sort());
    // Encoded `$` and a target system filter.
    const filtered = await get(
      `/fhir/Patient/%24ihe-pix?sourceIdentifier=${encodeURIComponent(`${system(stjohn)}|SJ1`)}&targetSystem=${encodeURIComponent(system(mercy))}`,
    );
    const only = (filtered.body['parameter'] as Param[]).filter((p) => p.name === 'targetIdentifier');
    expect(only.map((p) => p.valueIdentifier)).toEqual([{ system: system(mercy), value: 'MRN1' }]);
  });

  it('PIXm: 404 for an unknown identifier, 400 for a malformed one, 403 without Patient scope', async () => {
    const unknown = await get(
      `/fhir/Patient/$ihe-pix?sourceIdentifier=${encodeURIComponent('urn:care:id:MERCY|NOPE')}`,
    );
    expect([unknown.status, issueCode(unknown)]).toEqual([404, 'not-found']);
    for (const bad of [
      '',
      '?sourceIdentifier=MRN1',
      '?sourceIdentifier=%7CMRN1',
      '?sourceIdentifier=a%7C',
      '?colour=red',
    ]) {
      const reply = await get(`/fhir/Patient/$ihe-pix${bad}`);
      expect([reply.status, reply.body['resourceType']], bad).toEqual([400, 'OperationOutcome']);
    }
    const noPatient = await engine.auth.tokenService.issue({
      clientId: 'obs-app',
      scopes: ['system/Observation.rs'],
    });
    const denied = await get(
      `/fhir/Patient/$ihe-pix?sourceIdentifier=${encodeURIComponent(`${system(mercy)}|MRN1`)}`,
      noPatient.access_token,
    );
    expect([denied.status, issueCode(denied)]).toEqual([403, 'forbidden']);
  });

  it('$match: the linked records best first, with score and grade; not the unrelated patient', async () => {
    const query = {
      resourceType: 'Patient',
      name: [{ family: 'Doe', given: ['William'] }],
      gender: 'male',
      birthDate: '1980-02-14',
      address: [{ line: ['12 Oak Lane'], postalCode: '62701' }],
      telecom: [{ system: 'phone', value: '(217) 555-0100' }],
    };
    const reply = await call('POST', '/fhir/Patient/$match', { body: matchBody(query) });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const found = entries(reply);
    expect(found.map((e) => e.resource['id'])).toEqual([mercyId, stjohnId]);
    const scores = found.map((e) => e.search?.score ?? -1);
    expect(scores[0]).toBeGreaterThanOrEqual(scores[1] ?? 2);
    for (const e of found) {
      expect(e.search?.mode).toBe('match');
      expect(e.search?.score).toBeGreaterThan(0.9);
      expect(e.search?.score).toBeLessThanOrEqual(1);
      expect(e.search?.extension?.[0]?.url).toBe('http://hl7.org/fhir/StructureDefinition/match-grade');
      expect(['certain', 'probable']).toContain(e.search?.extension?.[0]?.valueCode);
      expect(e.fullUrl).toBe(`${base}/fhir/Patient/${String(e.resource['id'])}`);
    }
    expect(found.map((e) => e.resource['id'])).not.toContain(unrelatedId);

    const one = await call('POST', '/fhir/Patient/$match', {
      body: matchBody(query, [{ name: 'count', valueInteger: 1 }]),
      type: 'application/json',
    });
    expect(entries(one).map((e) => e.resource['id'])).toEqual([mercyId]);

    const certain = await call('POST', '/fhir/Patient/$match', {
      body: matchBody(query, [{ name: 'onlyCertainMatches', valueBoolean: true }]),
    });
    expect(certain.status).toBe(200);
    const grades = entries(certain).map((e) => e.search?.extension?.[0]?.valueCode);
    expect(grades.every((g) => g === 'certain')).toBe(true);
    expect(grades.length).toBeLessThanOrEqual(found.length);
    // The exact Mercy record agrees on everything: certain, and first.
    expect(entries(certain)[0]?.resource['id']).toBe(mercyId);

    // Another birth date vetoes a link whatever else agrees: possible at best, never certain.
    const otherBirth = { ...query, birthDate: '1990-07-08' };
    const possible = await call('POST', '/fhir/Patient/$match', { body: matchBody(otherBirth) });
    const possibleGrades = entries(possible).map((e) => e.search?.extension?.[0]?.valueCode);
    expect(possibleGrades.length).toBeGreaterThan(0);
    expect(new Set(possibleGrades)).toEqual(new Set(['possible']));
    const noneCertain = await call('POST', '/fhir/Patient/$match', {
      body: matchBody(otherBirth, [{ name: 'onlyCertainMatches', valueBoolean: true }]),
    });
    expect([noneCertain.status, entries(noneCertain).length]).toEqual([200, 0]);

    // Someone nobody resembles: an empty searchset.
    const nobody = await call('POST', '/fhir/Patient/$match', {
      body: matchBody({
        resourceType: 'Patient',
        name: [{ family: 'Zzyzx', given: ['Quill'] }],
        birthDate: '1901-01-01',
      }),
    });
    expect([nobody.status, entries(nobody).length]).toEqual([200, 0]);
  });

  it('$match: 400 for a missing or wrong resource or a bad count, 415 for another body type', async () => {
    const patient = { resourceType: 'Patient', name: [{ family: 'Doe' }] };
    const bodies: unknown[] = [
      { resourceType: 'Parameters', parameter: [] },
      matchBody({ resourceType: 'Observation' }),
      matchBody(patient, [{ name: 'count', valueInteger: 0 }]),
      matchBody(patient, [{ name: 'count', valueInteger: 101 }]),
      matchBody(patient, [{ name: 'count', valueInteger: 2.5 }]),
      matchBody(patient, [{ name: 'colour', valueString: 'red' }]),
      patient,
      '{not json',
    ];
    for (const body of bodies) {
      const reply = await call('POST', '/fhir/Patient/$match', { body });
      expect([reply.status, reply.body['resourceType']], JSON.stringify(body)).toEqual([
        400,
        'OperationOutcome',
      ]);
    }
    const text = await call('POST', '/fhir/Patient/$match', { body: 'name=Doe', type: 'text/plain' });
    expect([text.status, text.body['resourceType']]).toEqual([415, 'OperationOutcome']);
  });

  it('$match: a patient-bound token sees only its own patients', async () => {
    const bound = await engine.auth.tokenService.issue({
      clientId: 'pcp-app',
      scopes: ['patient/Patient.rs'],
      patient: stjohnId,
    });
    const reply = await call('POST', '/fhir/Patient/$match', {
      bearer: bound.access_token,
      body: matchBody({
        resourceType: 'Patient',
        name: [{ family: 'Doe', given: ['William'] }],
        gender: 'male',
        birthDate: '1980-02-14',
        address: [{ line: ['12 Oak Lane'], postalCode: '62701' }],
      }),
    });
    expect(reply.status).toBe(200);
    expect(entries(reply).map((e) => e.resource['id'])).toEqual([stjohnId]);
  });

  it('Person: read, and search by link, both facilities linked', async () => {
    const read = await get(`/fhir/Person/${personId}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      resourceType: 'Person',
      id: personId,
      active: true,
      gender: 'male',
      birthDate: '1980-02-14',
      meta: { versionId: expect.any(String) as unknown, lastUpdated: expect.any(String) as unknown },
    });
    const links = (read.body['link'] as { target: { reference: string }; assurance: string }[]).map(
      (l) => l.target.reference,
    );
    expect(links).toEqual([`Patient/${mercyId}`, `Patient/${stjohnId}`].sort());
    expect(read.body['name']).toBeDefined();

    for (const q of [`link=Patient/${stjohnId}`, `link=${stjohnId}`, `patient=Patient/${mercyId}`]) {
      const search = await get(`/fhir/Person?${q}`);
      expect(search.status, q).toBe(200);
      expect(search.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
      expect(entries(search).map((e) => e.resource['id'])).toEqual([personId]);
    }
    const none = await get(`/fhir/Person?link=Patient/no-such-patient`);
    expect([none.status, entries(none).length]).toEqual([200, 0]);
    expect((await get('/fhir/Person')).status).toBe(400);
    expect((await get('/fhir/Person?name=Doe')).status).toBe(400);
    const missing = await get('/fhir/Person/no-such-person');
    expect([missing.status, issueCode(missing)]).toEqual([404, 'not-found']);
    expect((await get('/fhir/Person/bad%20id')).status).toBe(400);
  });

  it('Person: a patient-bound token reads its own person, never another', async () => {
    const bound = await engine.auth.tokenService.issue({
      clientId: 'pcp-app',
      scopes: ['patient/Person.rs'],
      patient: unrelatedId,
    });
    const other = await get(`/fhir/Person/${personId}`, bound.access_token);
    expect([other.status, issueCode(other)]).toEqual([404, 'not-found']);
    const search = await get(`/fhir/Person?link=Patient/${mercyId}`, bound.access_token);
    expect([search.status, entries(search).length]).toEqual([200, 0]);
    const own = await get(`/fhir/Person/${await personOf(unrelatedId)}`, bound.access_token);
    expect(own.status).toBe(200);
    const noScope = await engine.auth.tokenService.issue({
      clientId: 'pcp-app',
      scopes: ['patient/Patient.rs'],
      patient: mercyId,
    });
    expect((await get(`/fhir/Person/${personId}`, noScope.access_token)).status).toBe(403);
  });

  it('$everything: both facilities’ Patients and Encounters, and the Person', async () => {
    const reply = await get(`/fhir/Patient/${mercyId}/$everything`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const found = entries(reply).map((e) => e.resource);
    expect(found[0]?.['id']).toBe(mercyId);
    const ofType = (t: string): Record<string, unknown>[] => found.filter((r) => r['resourceType'] === t);
    expect(ofType('Patient').map((p) => p['id'])).toEqual([mercyId, stjohnId]);
    expect(ofType('Person').map((p) => p['id'])).toEqual([personId]);
    const encounterPatients = ofType('Encounter').map(
      (e) => (e['subject'] as { reference: string }).reference,
    );
    expect(encounterPatients.sort()).toEqual([`Patient/${mercyId}`, `Patient/${stjohnId}`].sort());
    expect(found.map((r) => r['id'])).not.toContain(unrelatedId);
    const unknown = await get('/fhir/Patient/no-such-patient/$everything');
    expect([unknown.status, issueCode(unknown)]).toEqual([404, 'not-found']);
  });

  it('$everything: a token bound to one record sees the person’s other records, nobody else’s', async () => {
    const bound = await engine.auth.tokenService.issue({
      clientId: 'pcp-app',
      scopes: ['patient/Patient.rs', 'patient/Encounter.rs'],
      patient: mercyId,
    });
    const reply = await get(`/fhir/Patient/${mercyId}/$everything`, bound.access_token);
    expect(reply.status).toBe(200);
    const found = entries(reply).map(
      (e) => `${String(e.resource['resourceType'])}/${String(e.resource['id'])}`,
    );
    expect(found).toContain(`Patient/${stjohnId}`);
    expect(found.filter((r) => r.startsWith('Encounter/'))).toHaveLength(2);
    // No Person scope: no Person.
    expect(found.some((r) => r.startsWith('Person/'))).toBe(false);
    // An explicit other patient is refused, whether or not it exists.
    const other = await get(`/fhir/Patient/${unrelatedId}/$everything`, bound.access_token);
    expect([other.status, issueCode(other)]).toEqual([403, 'forbidden']);
  });

  it('audits every access by patient id, never the demographics asked for', async () => {
    const rows = await engine.db.query<{
      action: string;
      resource_type: string;
      patient_id: string | null;
      query: string | null;
    }>(
      `SELECT action, resource_type, patient_id, query FROM audit_events WHERE resource_type IN ('Patient', 'Person')`,
    );
    expect(rows.some((r) => r.resource_type === 'Person' && r.patient_id === stjohnId)).toBe(true);
    expect(rows.some((r) => r.patient_id === mercyId && r.action === 'search')).toBe(true);
    expect(JSON.stringify(rows)).not.toMatch(/MRN1|Doe|William/);
  });

  it('advertises Person and the operations in the CapabilityStatement', async () => {
    const res = await fetch(`${base}/fhir/metadata`);
    const body = (await res.json()) as {
      rest: { resource: { type: string; operation?: { name: string }[] }[] }[];
    };
    const resources = body.rest[0]?.resource ?? [];
    expect(resources.map((r) => r.type)).toContain('Person');
    const ops = resources.find((r) => r.type === 'Patient')?.operation?.map((o) => o.name);
    expect(ops).toEqual(expect.arrayContaining(['ihe-pix', 'match', 'everything']));
  });
});

interface ReviewJson {
  id: string;
  status: string;
  reason: string;
  weight: number;
  score: number;
  fields: { field: string; level: string; weight: number }[];
  a: { patientId: string; personId: string; patient: Record<string, unknown> };
  b: { patientId: string; personId: string; patient: Record<string, unknown> };
  createdAt: string;
  decidedAt?: string;
  decidedBy?: string;
}

const reviewsOf = async (status?: string): Promise<{ reviews: ReviewJson[]; total: number }> => {
  const reply = await get(`/api/identity/reviews${status === undefined ? '' : `?status=${status}`}`);
  expect(reply.status).toBe(200);
  return reply.body as unknown as { reviews: ReviewJson[]; total: number };
};

async function reviewBetween(a: string, b: string): Promise<ReviewJson | undefined> {
  const { reviews } = await reviewsOf();
  return reviews.find((r) => [r.a.patientId, r.b.patientId].sort().join() === [a, b].sort().join());
}

describe('identity reviews over /api/identity', () => {
  // One facility, two MRNs, the same demographics: only the facility may say they are one.
  const first = demo({
    mrn: 'DUP-1',
    family: 'Marchetti',
    given: 'Lorenzo',
    dob: '19660412',
    street: '9 Pine Ct',
    zip: '62704',
    phone: '5550201',
  });
  const second = { ...first, mrn: 'DUP-2' };
  const third = demo({
    mrn: 'DUP-3',
    family: 'Okonkwo',
    given: 'Chidi',
    dob: '19720930',
    street: '77 Cedar Ave',
    zip: '62703',
    phone: '5550202',
  });
  const fourth = { ...third, mrn: 'DUP-4' };
  let ids: string[];

  beforeAll(async () => {
    for (const p of [first, second, third, fourth]) await send(adt(p));
    ids = await Promise.all([first, second, third, fourth].map((p) => patientId(p)));
  });

  it('lists a same-facility pair in review, with both records and the score broken down', async () => {
    const [a = '', b = ''] = ids;
    const review = await reviewBetween(a, b);
    expect(review).toMatchObject({ status: 'open', reason: 'same-facility' });
    expect(review?.score).toBeGreaterThan(0);
    expect(review?.score).toBeLessThanOrEqual(1);
    expect(review?.fields.map((f) => f.field)).toEqual(
      expect.arrayContaining(['given', 'family', 'birthDate']),
    );
    expect(review?.a.patient['resourceType']).toBe('Patient');
    expect(review?.a.personId).not.toBe(review?.b.personId);
    const { total, reviews } = await reviewsOf();
    expect(total).toBeGreaterThanOrEqual(2);
    // Newest first.
    const order = reviews.map((r) => Number(r.id));
    expect(order).toEqual([...order].sort((x, y) => y - x));
  });

  it('link joins the two records in one person at level4; deciding again is 409', async () => {
    const [a = '', b = ''] = ids;
    const review = await reviewBetween(a, b);
    const before = [await personOf(a), await personOf(b)];
    const decided = await call('POST', `/api/identity/reviews/${review?.id ?? ''}`, {
      body: { decision: 'link' },
      type: 'application/json',
    });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ reviewId: review?.id, decision: 'link' });
    const personId = await personOf(a);
    expect(await personOf(b)).toBe(personId);
    const person = await get(`/fhir/Person/${personId}`);
    const links = person.body['link'] as { target: { reference: string }; assurance: string }[];
    expect(links.map((l) => [l.target.reference, l.assurance])).toEqual(
      [a, b].sort().map((id) => [`Patient/${id}`, 'level4']),
    );
    // The person that gave up its record is retired, and says where it went.
    const retired = before.find((id) => id !== personId) ?? '';
    const gone = await get(`/fhir/Person/${retired}`);
    expect([gone.status, issueCode(gone)]).toEqual([404, 'not-found']);
    expect(JSON.stringify(gone.body)).toContain(`merged into Person/${personId}`);
    const again = await call('POST', `/api/identity/reviews/${review?.id ?? ''}`, {
      body: { decision: 'link' },
      type: 'application/json',
    });
    expect([again.status, issueCode(again)]).toEqual([409, 'conflict']);
    const linked = await reviewsOf('linked');
    expect(linked.reviews.find((r) => r.id === review?.id)).toMatchObject({
      status: 'linked',
      decidedBy: expect.any(String) as unknown,
    });

    const audits = await engine.db.query<{ action: string; resource_id: string; patient_id: string }>(
      `SELECT action, resource_id, patient_id FROM audit_events WHERE resource_type = 'IdentityReview' AND action = 'update'`,
    );
    expect(audits.map((r) => r.patient_id).sort()).toEqual([a, b].sort());
    expect(audits.every((r) => r.resource_id === review?.id)).toBe(true);
  });

  it('separate keeps the two records apart', async () => {
    const [, , c = '', d = ''] = ids;
    const review = await reviewBetween(c, d);
    expect(review?.reason).toBe('same-facility');
    const decided = await call('POST', `/api/identity/reviews/${review?.id ?? ''}`, {
      body: { decision: 'separate' },
      type: 'application/json',
    });
    expect([decided.status, decided.body['decision']]).toEqual([200, 'separate']);
    expect(await personOf(c)).not.toBe(await personOf(d));
    expect((await reviewsOf('separated')).reviews.map((r) => r.id)).toContain(review?.id);
    expect((await reviewsOf()).reviews.map((r) => r.id)).not.toContain(review?.id);
  });

  it('refuses a bad body, an unknown review, a bad query and a token that may not decide', async () => {
    for (const body of [{ decision: 'merge' }, {}, { decision: 'link', extra: 1 }, 'not json']) {
      const reply = await call('POST', '/api/identity/reviews/1', { body, type: 'application/json' });
      expect([reply.status, reply.body['resourceType']], JSON.stringify(body)).toEqual([
        400,
        'OperationOutcome',
      ]);
    }
    const unknown = await call('POST', '/api/identity/reviews/999999', {
      body: { decision: 'link' },
      type: 'application/json',
    });
    expect([unknown.status, issueCode(unknown)]).toEqual([404, 'not-found']);
    expect(
      (
        await call('POST', '/api/identity/reviews/abc', {
          body: { decision: 'link' },
          type: 'application/json',
        })
      ).status,
    ).toBe(400);
    expect((await get('/api/identity/reviews?status=bogus')).status).toBe(400);
    expect((await get('/api/identity/reviews?colour=red')).status).toBe(400);
    const denied = await call('POST', '/api/identity/reviews/1', {
      bearer: readOnly,
      body: { decision: 'link' },
      type: 'application/json',
    });
    expect([denied.status, issueCode(denied)]).toEqual([403, 'forbidden']);
    const bound = await engine.auth.tokenService.issue({
      clientId: 'pcp-app',
      scopes: ['patient/*.rs'],
      patient: ids[0] ?? '',
    });
    expect((await get('/api/identity/reviews', bound.access_token)).status).toBe(403);
  });
});
