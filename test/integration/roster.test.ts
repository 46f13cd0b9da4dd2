/**
 * Practice rosters through the real engine: patients arrive as HL7 v2 over MLLP and are linked,
 * a practice uploads its CSV roster over /api/roster with a real system token, and attribution
 * asks which roster rows name a patient, through its person or, for a roster that came first,
 * by matching the row again. ATR Groups are synced directly. Each case has its own names,
 * phones and birth dates, so the cases share one engine without meeting in a block.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityRules, type IdentityRules } from '../../engine/src/identity/link-patient';
import { syncGroupRoster } from '../../engine/src/notify/roster-group';
import { rosterAttributions } from '../../engine/src/notify/roster-match';
import { applyBundle } from '../../engine/src/store/fhir-resource-store';
import type { TransactionBundle } from '../../engine/src/store/fhir-types';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient } from '../helpers/system-client';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';
import { sendProcessed } from '../helpers/send-and-finish';

let engine: TestEngine;
let mllp: MllpTestClient;
let base: string;
let rules: IdentityRules;
/** May upload and read rosters. */
let writer: string;
/** May read rosters (system/*.rs), not upload them. */
let reader: string;

const SCOPES = 'system/Group.cud system/Group.rs system/*.rs';
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const PCP_NPI = '1234567893';
const ATR_PROVIDER = 'http://hl7.org/fhir/us/davinci-atr/StructureDefinition/ext-attributedProvider';
const FAMILY_PRACTICE = 'Organization/springfield-family';
const LATE_PRACTICE = 'Organization/lakeside-clinic';
const PRAIRIE = 'Organization/prairie-health';

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

function nextTime(): string {
  minute++;
  const d = new Date(Date.UTC(2024, 4, 6, 9, 0) + minute * 60_000);
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 12)}00+0000`;
}

function adt(p: Demo): string {
  const time = nextTime();
  return [
    `MSH|^~\\&|EPIC|${p.facility}|CARE|CARE|${time}||ADT^A01^ADT_A01|ROS${++controlSeq}|P|2.5.1`,
    `EVN|A01|${time}`,
    `PID|1||${p.mrn}^^^${p.facility}^MR||${p.family}^${p.given}||${p.dob}|${p.sex}|||${p.street}^^Springfield^IL^${p.zip}||^PRN^PH^^1^217^${p.phone}`,
    `PV1|1|I|4W^401^B^${p.facility}||||||MED||||7|||||V${p.mrn}^^^${p.facility}^VN`,
  ].join('\r');
}

async function send(p: Demo): Promise<string> {
  await sendProcessed(engine, mllp, adt(p));
  const rows = await engine.db.query<{ id: string }>(
    `SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND resource->'identifier' @> $1::jsonb`,
    [JSON.stringify([{ system: `urn:care:id:${p.facility}`, value: p.mrn }])],
  );
  expect(rows).toHaveLength(1);
  return rows[0]?.id ?? '';
}

async function personOf(patientId: string): Promise<string> {
  const [row] = await engine.db.query<{ person_id: string }>(
    `SELECT person_id FROM identity_records WHERE patient_id = $1`,
    [patientId],
  );
  return row?.person_id ?? '';
}

/** Registration resources, stored as the FHIR write API would store them. */
async function store(resources: readonly Record<string, unknown>[]): Promise<void> {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((r) => ({
      resource: r,
      request: { method: 'PUT', url: `${String(r['resourceType'])}/${String(r['id'])}` },
    })),
  } as unknown as TransactionBundle;
  await engine.db.transaction((tx) =>
    applyBundle(tx, bundle, { eventTime: '2024-05-06T08:00:00Z', messageId: 'roster-test' }),
  );
}

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function upload(
  csv: string,
  o: { organization?: string; bearer?: string; type?: string } = {},
): Promise<Reply> {
  const query = o.organization === undefined ? '' : `?organization=${encodeURIComponent(o.organization)}`;
  const res = await fetch(`${base}/api/roster${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.bearer ?? writer}`, 'content-type': o.type ?? 'text/csv' },
    body: csv,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function list(organization: string, bearer = writer): Promise<Reply> {
  const res = await fetch(`${base}/api/roster?organization=${encodeURIComponent(organization)}`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const issueCode = (r: Reply): unknown => (r.body['issue'] as { code: string }[] | undefined)?.[0]?.code;

const attributionsOf = (patientId: string): ReturnType<typeof rosterAttributions> =>
  engine.db.transaction((tx) => rosterAttributions(tx, patientId, rules));

const csv = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

const margaret: Demo = {
  facility: 'MERCY',
  mrn: 'RM-1',
  family: 'Holloway',
  given: 'Margaret',
  dob: '19620317',
  sex: 'F',
  street: '45 Birch St',
  zip: '62702',
  phone: '5550301',
};
// Another facility's record of her: upper case, a nickname; the same person.
const maggie: Demo = {
  ...margaret,
  facility: 'STJOHN',
  mrn: 'RS-1',
  family: 'HOLLOWAY',
  given: 'MAGGIE',
  street: '45 BIRCH ST',
};
const jonathan: Demo = {
  facility: 'MERCY',
  mrn: 'RM-2',
  family: 'Pryce',
  given: 'Jonathan',
  dob: '19751102',
  sex: 'M',
  street: '8 Elm Ave',
  zip: '62703',
  phone: '5550302',
};
const avery: Demo = {
  facility: 'MERCY',
  mrn: 'RM-3',
  family: 'Quinlan',
  given: 'Avery',
  dob: '19900621',
  sex: 'F',
  street: '19 Cedar Ct',
  zip: '62704',
  phone: '5550303',
};
const oswald: Demo = {
  facility: 'MERCY',
  mrn: 'RM-4',
  family: 'Thistlewood',
  given: 'Oswald',
  dob: '19580405',
  sex: 'M',
  street: '3 Ash Rd',
  zip: '62705',
  phone: '5550304',
};
const theodore: Demo = {
  facility: 'MERCY',
  mrn: 'RM-5',
  family: 'Lindqvist',
  given: 'Theodore',
  dob: '19830715',
  sex: 'M',
  street: '60 Spruce Way',
  zip: '62706',
  phone: '5550306',
};

const ids: Record<'margaret' | 'maggie' | 'jonathan' | 'avery' | 'oswald', string> = {
  margaret: '',
  maggie: '',
  jonathan: '',
  avery: '',
  oswald: '',
};

beforeAll(async () => {
  const client = await createSystemClient(SCOPES);
  engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile } });
  base = engine.config.http.publicUrl;
  rules = identityRules(engine.config.identity);
  writer = await client.token(base, SCOPES);
  reader = await client.token(base, 'system/*.rs');
  mllp = await MllpTestClient.connect(engine.mllpPort);
  await store([
    { resourceType: 'Organization', id: 'springfield-family', name: 'Springfield Family Practice' },
    { resourceType: 'Organization', id: 'lakeside-clinic', name: 'Lakeside Clinic' },
    { resourceType: 'Organization', id: 'prairie-health', name: 'Prairie Health' },
    {
      resourceType: 'Practitioner',
      id: 'pcp-1',
      identifier: [{ system: NPI_SYSTEM, value: PCP_NPI }],
      name: [{ family: 'Okafor', given: ['Ada'] }],
    },
  ]);
  ids.margaret = await send(margaret);
  ids.maggie = await send(maggie);
  ids.jonathan = await send(jonathan);
  ids.avery = await send(avery);
  ids.oswald = await send(oswald);
  expect(await personOf(ids.maggie)).toBe(await personOf(ids.margaret));
});
afterAll(async () => {
  mllp.close();
  await engine.destroy();
});

describe('CSV rosters over /api/roster', () => {
  const roster = csv(
    'Family,Given,BirthDate,Gender,PostalCode,NPI,phone',
    // A nickname of Margaret, with the practice's PCP.
    `Holloway,Peggy,1962-03-17,F,62702,${PCP_NPI},`,
    // A typo of Jonathan.
    'Pryce,Jonathon,1975-11-02,male,62703,,',
    // Oswald's names, phone and postal code with another birth date: review, never a match.
    'Thistlewood,Oswald,1961-09-12,M,62705,,217-555-0304',
    // Nobody the engine knows.
    'Ashbury,Quentin,1944-04-04,M,62799,,',
    // Avery's twin: same family, birth date and postal code, another given name.
    'Quinlan,Blair,1990-06-21,F,62704,,(217) 555-0303',
    // Not a real date.
    'Holloway,Margaret,1962-02-30,F,62702,,',
  );

  it('matches nicknames and typos, sends the doubtful row to review, keeps the twin apart', async () => {
    const reply = await upload(roster, { organization: FAMILY_PRACTICE });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      roster: `csv:${FAMILY_PRACTICE}`,
      organization: FAMILY_PRACTICE,
      rows: 6,
      matched: 2,
      review: 1,
      unmatched: 2,
      invalid: [{ row: 6, reason: 'birthDate is not a real date' }],
    });
    const results = reply.body['results'] as {
      row: number;
      status: string;
      person?: string;
      score?: number;
    }[];
    expect(results.map((r) => [r.row, r.status])).toEqual([
      [1, 'matched'],
      [2, 'matched'],
      [3, 'review'],
      [4, 'unmatched'],
      [5, 'unmatched'],
    ]);
    expect(results[0]?.person).toBe(`Person/${await personOf(ids.margaret)}`);
    expect(results[1]?.person).toBe(`Person/${await personOf(ids.jonathan)}`);
    expect(results[0]?.score).toBeGreaterThan(0.9);
    // A review candidate is not named to the practice; an unmatched row has no score.
    expect(results[2]?.person).toBeUndefined();
    expect(results[2]?.score).toBeGreaterThan(0);
    expect(results[3]).toEqual({ row: 4, status: 'unmatched' });
    expect(results[4]).toEqual({ row: 5, status: 'unmatched' });
    // No names or birth dates echoed back.
    expect(JSON.stringify(reply.body)).not.toMatch(/Holloway|Peggy|Pryce|Quinlan|1962|1975/);
  });

  it('attributes the matched person’s records at every facility, and nobody for review or twin rows', async () => {
    const expected = {
      roster: `csv:${FAMILY_PRACTICE}`,
      organization: FAMILY_PRACTICE,
      practitionerNpi: PCP_NPI,
      practitioner: 'Practitioner/pcp-1',
      row: 1,
      via: 'person',
    };
    expect(await attributionsOf(ids.margaret)).toEqual([expected]);
    expect(await attributionsOf(ids.maggie)).toEqual([expected]);
    expect(await attributionsOf(ids.jonathan)).toEqual([
      { roster: `csv:${FAMILY_PRACTICE}`, organization: FAMILY_PRACTICE, row: 2, via: 'person' },
    ]);
    expect(await attributionsOf(ids.oswald)).toEqual([]);
    // The twin's row shares Avery's blocks and is unmatched, but the twin veto keeps it off her.
    expect(await attributionsOf(ids.avery)).toEqual([]);
    expect(await attributionsOf('no-such-patient')).toEqual([]);
  });

  it('lists the stored rows’ match status without demographics', async () => {
    const reply = await list(FAMILY_PRACTICE, reader);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ rows: 5, matched: 2, review: 1, unmatched: 2 });
    const members = reply.body['members'] as Record<string, unknown>[];
    expect(members.map((m) => m['status'])).toEqual([
      'matched',
      'matched',
      'review',
      'unmatched',
      'unmatched',
    ]);
    expect(members[0]).toMatchObject({
      row: 1,
      practitionerNpi: PCP_NPI,
      practitioner: 'Practitioner/pcp-1',
    });
    expect(JSON.stringify(reply.body)).not.toMatch(/Holloway|Peggy|Pryce|1962/);
  });

  it('audits uploads and reads per matched patient, never the demographics', async () => {
    const rows = await engine.db.query<{ action: string; patient_id: string | null; resource_id: string }>(
      `SELECT action, patient_id, resource_id FROM audit_events WHERE resource_type = 'Group' AND outcome = 'success'`,
    );
    const uploads = rows.filter((r) => r.action === 'update').map((r) => r.patient_id);
    expect(uploads.sort()).toEqual([ids.margaret, ids.jonathan].sort());
    expect(rows.every((r) => r.resource_id === `csv:${FAMILY_PRACTICE}`)).toBe(true);
    expect(rows.some((r) => r.action === 'search')).toBe(true);
    expect(JSON.stringify(rows)).not.toMatch(/Holloway|Peggy/);
  });

  it('a new upload replaces the previous one as a whole', async () => {
    const reply = await upload(
      csv('family,given,birthDate,gender,postalCode', 'Pryce,Jon,1975-11-02,M,62703'),
      {
        organization: FAMILY_PRACTICE,
      },
    );
    expect(reply.body).toMatchObject({ rows: 1, matched: 1, review: 0, unmatched: 0, invalid: [] });
    const listed = await list(FAMILY_PRACTICE);
    expect(listed.body).toMatchObject({ rows: 1, matched: 1 });
    expect(await attributionsOf(ids.margaret)).toEqual([]);
    expect(await attributionsOf(ids.jonathan)).toEqual([
      { roster: `csv:${FAMILY_PRACTICE}`, organization: FAMILY_PRACTICE, row: 1, via: 'person' },
    ]);
  });

  it('a roster that came before the patient’s first message attributes once the ADT arrives', async () => {
    const reply = await upload(
      csv('family,given,birthDate,gender,postalCode,npi', `Lindqvist,Ted,1983-07-15,M,62706,${PCP_NPI}`),
      { organization: LATE_PRACTICE },
    );
    expect(reply.body).toMatchObject({ rows: 1, matched: 0, unmatched: 1 });
    const theodoreId = await send(theodore);
    expect(await attributionsOf(theodoreId)).toEqual([
      {
        roster: `csv:${LATE_PRACTICE}`,
        organization: LATE_PRACTICE,
        practitionerNpi: PCP_NPI,
        practitioner: 'Practitioner/pcp-1',
        row: 1,
        via: 'rematch',
      },
    ]);
    // Attribution only reads: the row stays as the practice uploaded it.
    expect((await list(LATE_PRACTICE)).body).toMatchObject({ matched: 0, unmatched: 1 });
  });

  it('refuses a token without the Group scopes, with 403', async () => {
    const denied = await upload(roster, { organization: FAMILY_PRACTICE, bearer: reader });
    expect([denied.status, issueCode(denied)]).toEqual([403, 'forbidden']);
    const noGroup = await engine.auth.tokenService.issue({
      clientId: 'obs-app',
      scopes: ['system/Patient.rs'],
    });
    const read = await list(FAMILY_PRACTICE, noGroup.access_token);
    expect([read.status, issueCode(read)]).toEqual([403, 'forbidden']);
    const bound = await engine.auth.tokenService.issue({
      clientId: 'pcp-app',
      scopes: ['patient/Group.cruds'],
      patient: ids.jonathan,
    });
    expect((await list(FAMILY_PRACTICE, bound.access_token)).status).toBe(403);
  });

  it('refuses an unknown or malformed organization, another body type and a bad header', async () => {
    const unknown = await upload(roster, { organization: 'Organization/no-such-practice' });
    expect([unknown.status, issueCode(unknown)]).toEqual([422, 'not-found']);
    expect((await list('Organization/no-such-practice')).status).toBe(422);
    for (const organization of [undefined, 'Patient/x', 'Organization/bad id']) {
      const reply = await upload(roster, organization === undefined ? {} : { organization });
      expect([reply.status, reply.body['resourceType']], String(organization)).toEqual([
        400,
        'OperationOutcome',
      ]);
    }
    const json = await upload('{"family":"Doe"}', {
      organization: FAMILY_PRACTICE,
      type: 'application/json',
    });
    expect([json.status, json.body['resourceType']]).toEqual([415, 'OperationOutcome']);
    const header = await upload(csv('family,given,ssn', 'Doe,Ann,123'), { organization: FAMILY_PRACTICE });
    expect([header.status, issueCode(header)]).toEqual([400, 'invalid']);
    // The refused uploads left the stored roster alone.
    expect((await list(FAMILY_PRACTICE)).body).toMatchObject({ rows: 1, matched: 1 });
  });
  it('a row’s identifier settles a match its demographics alone leave in review', async () => {
    // An initial for the given name and another postal code: just under the link threshold.
    const reply = await upload(
      csv(
        'family,given,birthDate,gender,postalCode,identifier',
        `Pryce,J,1975-11-02,M,62799,urn:care:id:MERCY|${jonathan.mrn}`,
        'Pryce,J,1975-11-02,M,62799,',
      ),
      { organization: PRAIRIE },
    );
    expect(reply.body).toMatchObject({ rows: 2, matched: 1, review: 1, unmatched: 0 });
    const results = reply.body['results'] as { row: number; status: string; person?: string }[];
    expect(results.map((r) => [r.row, r.status, r.person])).toEqual([
      [1, 'matched', `Person/${await personOf(ids.jonathan)}`],
      [2, 'review', undefined],
    ]);
  });
});

describe('ATR Group rosters', () => {
  const group = (): Record<string, unknown> => ({
    resourceType: 'Group',
    id: 'atr-1',
    meta: { profile: ['http://hl7.org/fhir/us/davinci-atr/StructureDefinition/atr-group'] },
    type: 'person',
    actual: true,
    managingEntity: { reference: FAMILY_PRACTICE },
    contained: [
      {
        resourceType: 'Patient',
        id: 'm2',
        name: [{ family: 'Holloway', given: ['Meg'] }],
        birthDate: '1962-03-17',
        gender: 'female',
        address: [{ line: ['45 Birch Street'], postalCode: '62702' }],
      },
    ],
    member: [
      {
        entity: { reference: `Patient/${ids.jonathan}` },
        extension: [{ url: ATR_PROVIDER, valueReference: { reference: 'Practitioner/pcp-1' } }],
      },
      {
        entity: { reference: '#m2' },
        extension: [
          { url: ATR_PROVIDER, valueReference: { identifier: { system: NPI_SYSTEM, value: PCP_NPI } } },
        ],
      },
      {
        entity: { identifier: { system: 'urn:care:id:MERCY', value: avery.mrn } },
        extension: [{ url: ATR_PROVIDER, valueReference: { reference: LATE_PRACTICE } }],
      },
      { entity: { reference: `Patient/${ids.oswald}` }, inactive: true },
    ],
  });

  it('attributes a referenced engine Patient, a contained Patient matched by demographics and a logical reference', async () => {
    const held = await engine.db.transaction((tx) => syncGroupRoster(tx, 'atr-1', group(), rules));
    expect(held).toBe(3);
    const [jonathanRows, margaretRows, averyRows, oswaldRows] = await Promise.all(
      [ids.jonathan, ids.maggie, ids.avery, ids.oswald].map(attributionsOf),
    );
    expect(jonathanRows).toContainEqual({
      roster: 'Group/atr-1',
      organization: FAMILY_PRACTICE,
      practitioner: 'Practitioner/pcp-1',
      row: 1,
      via: 'person',
    });
    expect(margaretRows).toEqual([
      {
        roster: 'Group/atr-1',
        organization: FAMILY_PRACTICE,
        practitionerNpi: PCP_NPI,
        row: 2,
        via: 'person',
      },
    ]);
    expect(averyRows).toEqual([
      { roster: 'Group/atr-1', organization: LATE_PRACTICE, row: 3, via: 'person' },
    ]);
    // An inactive member attributes nobody.
    expect(oswaldRows).toEqual([]);
    // The contained Patient's street was kept for matching, nothing beyond what matching reads.
    const [stored] = await engine.db.query<{ demographics: Record<string, unknown> }>(
      `SELECT demographics FROM roster_members WHERE roster = 'Group/atr-1' AND row_number = 2`,
    );
    expect(Object.keys(stored?.demographics ?? {}).sort()).toEqual(
      ['address', 'birthDate', 'gender', 'name', 'resourceType'].sort(),
    );
  });

  it('a changed Group rewrites its roster, a deleted one removes it', async () => {
    const changed = { ...group(), member: (group()['member'] as unknown[]).slice(0, 1) };
    await engine.db.transaction((tx) => syncGroupRoster(tx, 'atr-1', changed, rules));
    expect(await attributionsOf(ids.maggie)).toEqual([]);
    await engine.db.transaction((tx) => syncGroupRoster(tx, 'atr-1', undefined, rules));
    expect((await attributionsOf(ids.jonathan)).filter((a) => a.roster === 'Group/atr-1')).toEqual([]);
  });
});
