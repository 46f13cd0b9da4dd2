/**
 * The types the mappings store besides encounters and results (AllergyIntolerance, Procedure,
 * Coverage, RelatedPerson, ServiceRequest, Specimen, DocumentReference), end to end: HL7 in over
 * MLLP, searched and read over /fhir with their FHIR R4 parameters, kept to the launched patient
 * for a patient-bound token, audited, and moved to the survivor by an A40.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCHANGE_APP_SCOPES } from '../../engine/src/auth/exchange-scopes';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient } from '../helpers/system-client';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';
import { sendProcessed } from '../helpers/send-and-finish';
import { goldenMessage } from '../helpers/golden-message';

const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.3.1234';
type Resource = Record<string, unknown>;

let engine: TestEngine;
let mllp: MllpTestClient;
let systemToken: string;
/** Patient ids: Jane Doe (A01 with NK1, MDM T02), Grace Okafor (A01 with AL1, PR1, IN1), Adaeze Okafor (ORU with ORC, SPM, ED/RP). */
let jane: string;
let grace: string;
let adaeze: string;

const example = goldenMessage;

const send = (text: string): Promise<void> => sendProcessed(engine, mllp, text);

async function get(path: string, token = systemToken): Promise<{ status: number; body: Resource }> {
  const res = await fetch(`${engine.config.http.publicUrl}/fhir/${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Resource };
}

async function search(path: string, token = systemToken): Promise<Resource[]> {
  const reply = await get(path, token);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return ((reply.body['entry'] as { resource: Resource }[] | undefined) ?? []).map((e) => e.resource);
}

const refs = (resources: readonly Resource[]): string[] =>
  resources.map((r) => `${String(r['resourceType'])}/${String(r['id'])}`);

async function patientId(mrn: string): Promise<string> {
  const [p] = await search(`Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|${mrn}`)}`);
  return String(p?.['id']);
}

async function patientToken(patient: string, scopes: string): Promise<string> {
  const issued = await engine.auth.tokenService.issue({
    clientId: 'pcp-app',
    scopes: scopes.split(' '),
    patient,
  });
  return issued.access_token;
}

beforeAll(async () => {
  const client = await createSystemClient('system/*.rs');
  engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile } });
  systemToken = await client.token(engine.config.http.publicUrl, 'system/*.rs');
  mllp = await MllpTestClient.connect(engine.mllpPort);
  await send(example('adt-a01'));
  await send(example('mdm-t02'));
  await send(example('adt-a01-clinical'));
  await send(example('oru-r01-orders'));
  [jane, grace, adaeze] = [await patientId('MRN123'), await patientId('MRN777'), await patientId('MRN4471')];
});
afterAll(async () => {
  mllp.close();
  await engine.destroy();
});

describe('searching and reading the new types', () => {
  it('AllergyIntolerance by patient, code, clinical-status and category', async () => {
    const all = await search(`AllergyIntolerance?patient=${grace}&clinical-status=active`);
    expect(all).toHaveLength(2);
    const [penicillin] = await search(
      `AllergyIntolerance?patient=Patient/${grace}&code=http://www.nlm.nih.gov/research/umls/rxnorm|7980`,
    );
    expect(penicillin).toMatchObject({ criticality: 'high', patient: { reference: `Patient/${grace}` } });
    expect(refs(await search(`AllergyIntolerance?subject=${grace}&category=food`))).toHaveLength(1);
    expect(await search(`AllergyIntolerance?patient=${jane}`)).toEqual([]);
    const read = await get(`AllergyIntolerance/${String(penicillin!['id'])}`);
    expect([read.status, read.body['id']]).toEqual([200, penicillin!['id']]);
  });

  it('Procedure by patient, code, date, status and encounter', async () => {
    const [procedure] = await search(
      `Procedure?patient=${grace}&code=4A023N7&date=2024-06-11&status=unknown`,
    );
    expect(procedure).toBeDefined();
    const encounter = (procedure!['encounter'] as { reference: string }).reference;
    expect(refs(await search(`Procedure?encounter=${encounter}`))).toEqual(refs([procedure!]));
    expect(await search(`Procedure?patient=${grace}&date=lt2024-06-01`)).toEqual([]);
  });

  it('Coverage by patient (its beneficiary), status, identifier and payor, with the payor included', async () => {
    const found = await search(`Coverage?patient=${grace}&status=active&_include=Coverage:payor`);
    const [coverage, payor] = found;
    expect(coverage).toMatchObject({
      resourceType: 'Coverage',
      beneficiary: { reference: `Patient/${grace}` },
    });
    expect(payor).toMatchObject({ resourceType: 'Organization', name: 'Blue Cross Blue Shield of Illinois' });
    expect((coverage!['payor'] as { reference: string }[])[0]?.reference).toBe(
      `Organization/${String(payor!['id'])}`,
    );
    const coverageRef = refs([coverage!]);
    expect(refs(await search(`Coverage?beneficiary=Patient/${grace}&identifier=BCBSPPO`))).toEqual(
      coverageRef,
    );
    expect(refs(await search(`Coverage?payor=Organization/${String(payor!['id'])}`))).toEqual(coverageRef);
    expect(refs(await search(`Coverage?subscriber=Patient/${grace}`))).toEqual(coverageRef);
    expect((await get(`Coverage/${String(coverage!['id'])}`)).status).toBe(200);
  });

  it('RelatedPerson by patient, name and relationship', async () => {
    const [spouse] = await search(`RelatedPerson?patient=${jane}&name=john&relationship=SPS`);
    expect(spouse).toMatchObject({ name: [{ family: 'Doe', given: ['John'] }] });
    expect(await search(`RelatedPerson?patient=${jane}&name=grace`)).toEqual([]);
  });

  it('ServiceRequest and Specimen by patient, identifier, code, status, authored and type', async () => {
    const [order] = await search(
      `ServiceRequest?patient=${adaeze}&identifier=urn:care:id:MERCY|PL5501&status=completed&code=http://loinc.org|57021-8&authored=2024-03-10`,
    );
    expect(order).toMatchObject({ intent: 'order' });
    const encounter = (order!['encounter'] as { reference: string }).reference;
    expect(refs(await search(`ServiceRequest?encounter=${encounter}`))).toEqual(refs([order!]));
    const [specimen] = await search(
      `Specimen?patient=${adaeze}&type=http://snomed.info/sct|119297000&identifier=urn:care:id:MERCYLAB|FS-9001`,
    );
    expect(specimen).toMatchObject({ request: [{ reference: `ServiceRequest/${String(order!['id'])}` }] });
    expect(await search(`Specimen?patient=${jane}`)).toEqual([]);
  });

  it('DocumentReference by patient, type, date, status, identifier and encounter', async () => {
    const [summary] = await search(
      `DocumentReference?patient=${jane}&type=http://loinc.org|18842-5&date=ge2024-03-12&status=current&identifier=urn:care:id:MERCY|DOC-2024-0312`,
    );
    expect(summary).toMatchObject({ docStatus: 'final' });
    const encounter = (summary!['context'] as { encounter: { reference: string }[] }).encounter[0]!.reference;
    const withVisit = await search(
      `DocumentReference?encounter=${encounter}&_include=DocumentReference:encounter`,
    );
    expect(refs(withVisit)).toEqual([...refs([summary!]), encounter]);
    // The ORU's pathology PDF and imaging link, not the discharge summary.
    expect(await search(`DocumentReference?patient=${adaeze}`)).toHaveLength(2);
    expect(await search(`DocumentReference?patient=${jane}&date=lt2024-03-12`)).toEqual([]);
  });
});

describe('/fhir/metadata', () => {
  it('lists each new type with its search parameters and includes', async () => {
    const res = await fetch(`${engine.config.http.publicUrl}/fhir/metadata`);
    const cs = (await res.json()) as {
      rest: { resource: { type: string; searchParam: { name: string }[]; searchInclude: string[] }[] }[];
    };
    const byType = new Map(cs.rest[0]!.resource.map((r) => [r.type, r]));
    const names = (type: string): string[] => byType.get(type)?.searchParam.map((p) => p.name) ?? [];
    expect(names('Coverage')).toEqual(
      expect.arrayContaining(['patient', 'beneficiary', 'subscriber', 'payor', 'status', 'identifier']),
    );
    expect(byType.get('Coverage')?.searchInclude).toContain('Coverage:payor');
    expect(names('AllergyIntolerance')).toEqual(
      expect.arrayContaining(['patient', 'clinical-status', 'code', 'date']),
    );
    expect(names('Procedure')).toEqual(
      expect.arrayContaining(['patient', 'encounter', 'code', 'date', 'status']),
    );
    expect(names('RelatedPerson')).toEqual(expect.arrayContaining(['patient', 'identifier', 'name']));
    expect(names('ServiceRequest')).toEqual(
      expect.arrayContaining(['patient', 'encounter', 'identifier', 'code', 'status', 'authored']),
    );
    expect(names('Specimen')).toEqual(expect.arrayContaining(['patient', 'identifier', 'type']));
    expect(names('DocumentReference')).toEqual(
      expect.arrayContaining(['patient', 'encounter', 'type', 'date', 'status', 'identifier']),
    );
  });
});

describe('a patient-bound token', () => {
  it("reads its patient's Coverage and DocumentReference, never another patient's", async () => {
    const [graceCoverage] = await search(`Coverage?patient=${grace}`);
    const [janeDoc] = await search(`DocumentReference?patient=${jane}`);
    const coverageId = String(graceCoverage!['id']);
    const docId = String(janeDoc!['id']);
    const asGrace = await patientToken(grace, 'patient/Coverage.rs patient/DocumentReference.rs');
    const asJane = await patientToken(jane, 'patient/Coverage.rs patient/DocumentReference.rs');

    expect((await get(`Coverage/${coverageId}`, asGrace)).status).toBe(200);
    expect((await get(`Coverage/${coverageId}`, asJane)).status).toBe(404);
    expect((await get(`DocumentReference/${docId}`, asJane)).status).toBe(200);
    expect((await get(`DocumentReference/${docId}`, asGrace)).status).toBe(404);
    const coverageOnly = await patientToken(grace, 'patient/Coverage.rs');
    expect((await get(`DocumentReference?patient=${grace}`, coverageOnly)).status).toBe(403);
    // Searches stay within the token's patient, whatever they ask for.
    expect(await search(`Coverage?patient=${grace}`, asJane)).toEqual([]);
    expect(refs(await search('Coverage', asGrace))).toEqual(refs([graceCoverage!]));
    expect(await search(`DocumentReference?patient=${adaeze}`, asGrace)).toEqual([]);
    // The payor holds no patient data: included for the patient's own Coverage.
    const included = await search(
      'Coverage?_include=Coverage:payor',
      await patientToken(grace, 'patient/*.rs'),
    );
    expect(included.map((r) => r['resourceType'])).toEqual(['Coverage', 'Organization']);

    const audits = await engine.db.query<{ resource_id: string; patient_id: string | null; outcome: string }>(
      `SELECT resource_id, patient_id, outcome FROM audit_events
        WHERE resource_type = 'Coverage' AND action = 'read' ORDER BY id`,
    );
    expect(audits.filter((a) => a.resource_id === coverageId).map((a) => [a.patient_id, a.outcome])).toEqual(
      expect.arrayContaining([
        [grace, 'success'],
        [grace, 'denied'],
      ]),
    );
  });
});

describe('Patient/$everything', () => {
  it("holds the Coverage, but a token with the timeline app's scopes gets none of the new types", async () => {
    const everything = async (token?: string): Promise<string[]> =>
      (await search(`Patient/${grace}/$everything`, token)).map((r) => String(r['resourceType']));
    const types = await everything();
    expect(types).toEqual(expect.arrayContaining(['Coverage', 'AllergyIntolerance', 'Procedure']));
    // Least privilege: the app shows none of these, so its exchanged token reads none of them.
    const asApp = await everything(await patientToken(grace, EXCHANGE_APP_SCOPES.join(' ')));
    expect(asApp).toEqual(expect.arrayContaining(['Patient', 'Encounter', 'Observation']));
    expect(asApp.filter((t) => ['Coverage', 'AllergyIntolerance', 'Procedure'].includes(t))).toEqual([]);
  });
});

describe('an A40 merge', () => {
  it("moves the merged patient's Coverage, AllergyIntolerance and RelatedPerson to the survivor", async () => {
    // A second record of Grace (another MRN, with a next of kin), merged into the first.
    await send(
      example('adt-a01-clinical', [
        ['MRN777', 'MRN778'],
        ['V67890', 'V67891'],
        ['|A01-0101|', '|A01-0778|'],
        ['PD1|||Mercy Clinic', 'PD1|||Mercy Clinic\nNK1|1|Okafor^Obi|SPO^Spouse^HL70063'],
      ]),
    );
    const merged = await patientId('MRN778');
    const [coverage] = await search(`Coverage?patient=${merged}`);
    expect(coverage).toMatchObject({ subscriber: { reference: `Patient/${merged}` } });
    expect(await search(`RelatedPerson?patient=${merged}`)).toHaveLength(1);

    await send(
      example('adt-a40', [
        ['MRN123', 'MRN777'],
        ['Doe^Jane^Q||19800214', 'Okafor^Grace^A||19620923'],
        ['MRN555', 'MRN778'],
        ['|A40-0001|', '|A40-0778|'],
      ]),
    );
    for (const type of ['Coverage', 'AllergyIntolerance', 'RelatedPerson', 'Procedure']) {
      expect(await search(`${type}?patient=${merged}`), type).toEqual([]);
    }
    const coverages = await search(`Coverage?patient=${grace}`);
    expect(refs(coverages)).toContain(`Coverage/${String(coverage!['id'])}`);
    expect(coverages.find((c) => c['id'] === coverage!['id'])).toMatchObject({
      beneficiary: { reference: `Patient/${grace}` },
      subscriber: { reference: `Patient/${grace}` },
      meta: { versionId: '2' },
    });
    expect(await search(`Coverage?subscriber=Patient/${merged}`)).toEqual([]);
    expect(await search(`AllergyIntolerance?patient=${grace}`)).toHaveLength(4);
    expect(await search(`RelatedPerson?patient=${grace}&name=obi`)).toHaveLength(1);
    // The survivor's launch token now sees the moved Coverage.
    const asGrace = await patientToken(grace, 'patient/Coverage.rs');
    expect((await get(`Coverage/${String(coverage!['id'])}`, asGrace)).status).toBe(200);
  });
});
