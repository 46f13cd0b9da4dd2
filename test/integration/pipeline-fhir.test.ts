/**
 * Messages through the whole engine into FHIR: MLLP in, mapped, stored, read back over /fhir
 * with a real token. Updates land on the same resources, late ones don't roll back, corrections
 * version the same Observation, merges move records, and every row names its mapping version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient } from '../helpers/system-client';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';
import { sendAndFinish as finish, type FinishedMessage } from '../helpers/send-and-finish';
import { bundleResources, getJson, goldenMessage } from '../helpers/golden-message';

const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.3.1234';
let engine: TestEngine;
let mllp: MllpTestClient;
let token: string;

const example = goldenMessage;

const sendAndFinish = (text: string): Promise<FinishedMessage> => finish(engine, mllp, text);

const fhir = (path: string): Promise<Record<string, unknown>> => getJson(engine, token, `/fhir/${path}`);

const entries = bundleResources;

beforeAll(async () => {
  const client = await createSystemClient('system/*.rs');
  engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile } });
  token = await client.token(engine.config.http.publicUrl, 'system/*.rs');
  mllp = await MllpTestClient.connect(engine.mllpPort);
});
afterAll(async () => {
  mllp.close();
  await engine.destroy();
});

describe('HL7 to stored FHIR', () => {
  let patientId: string;
  let encounterId: string;

  it('admits: Patient and an in-progress Encounter, found by identifier', async () => {
    const row = await sendAndFinish(example('adt-a01'));
    expect(row.status).toBe('processed');
    expect(row.mappingVersion).toMatch(/^[0-9a-f]{16}$/);
    const [p] = entries(await fhir(`Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|MRN123`)}`));
    expect(p).toMatchObject({ resourceType: 'Patient', gender: 'female', birthDate: '1980-02-14' });
    patientId = String(p!['id']);
    const [e] = entries(await fhir(`Encounter?patient=${patientId}`));
    expect(e).toMatchObject({ status: 'in-progress', class: { code: 'IMP' } });
    encounterId = String(e!['id']);
  });

  it('keeps the encounter status through an A08, which does not convey one', async () => {
    const a08 = example('adt-a08', [
      ['|A08-0001|', '|A08-0000|'],
      ['20240307120000-0500||ADT', '20240306120000-0500||ADT'],
      ['EVN|A08|20240307115900-0500', 'EVN|A08|20240306115900-0500'],
      ['|||14 Pine St^^Springfield^IL^62702^USA^H||||||||||||||||||20240307113000-0500|Y', ''],
    ]);
    expect(a08).toContain('EVN|A08|20240306');
    await sendAndFinish(a08);
    // It did move the patient to the ICU: a new version, with the status carried over.
    const encounter = await fhir(`Encounter/${encounterId}`);
    expect(encounter).toMatchObject({ status: 'in-progress', meta: { versionId: '2' } });
  });

  it('discharges: the same Encounter becomes finished, with no twin', async () => {
    await sendAndFinish(example('adt-a03'));
    const found = entries(await fhir(`Encounter?patient=${patientId}`));
    expect(found.map((e) => [e['id'], e['status']])).toEqual([[encounterId, 'finished']]);
    const history = await fhir(`Encounter/${encounterId}/_history`);
    expect(history['total']).toBe(3);
    // The A03's PID carries no address or PCP: what the A01 stored is kept (merge update).
    const patient = await fhir(`Patient/${patientId}`);
    expect(JSON.stringify(patient['address'])).toContain('12 Oak St');
    expect(patient['generalPractitioner']).toBeDefined();
  });

  it('does not let an older A08 roll the record back', async () => {
    // The example A08's EVN-2 (7 March) is older than the A03 already stored (8 March).
    await sendAndFinish(example('adt-a08'));
    const patient = await fhir(`Patient/${patientId}`);
    expect(JSON.stringify(patient['address'])).toContain('12 Oak St');
    expect(patient['deceasedBoolean'] ?? patient['deceasedDateTime']).toBeUndefined();
    expect((await fhir(`Encounter/${encounterId}`))['status']).toBe('finished');
  });

  it('stores results and versions the same Observation on a correction (OBX-11 C)', async () => {
    await sendAndFinish(example('oru-r01'));
    const [glucose] = entries(await fhir(`Observation?patient=${patientId}&code=http://loinc.org|2345-7`));
    expect(glucose).toMatchObject({
      status: 'final',
      valueQuantity: { value: 182, system: 'http://unitsofmeasure.org' },
    });
    const corrected = example('oru-r01', [
      ['|ORU-0001|', '|ORU-0002|'],
      ['20240305140000-0500||ORU', '20240305150000-0500||ORU'],
      [
        '|182|mg/dL^milligrams per deciliter^UCUM|70-99|H^High^HL70078|||F|||20240305121500-0500',
        '|128|mg/dL^milligrams per deciliter^UCUM|70-99|H^High^HL70078|||C|||20240305141500-0500',
      ],
    ]);
    await sendAndFinish(corrected);
    const again = entries(await fhir(`Observation?patient=${patientId}&code=http://loinc.org|2345-7`));
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({
      id: glucose!['id'],
      status: 'corrected',
      valueQuantity: { value: 128 },
      meta: { versionId: '2' },
    });
    const reports = entries(await fhir(`DiagnosticReport?patient=${patientId}`));
    expect(reports.length).toBe(2);
  });

  it("writes the results' Encounter without undoing what ADT stored of the visit", async () => {
    // The ORU's thin PV1 (class I, a bed, the visit number) wrote the Encounter the results
    // reference; the discharge, period and places the ADT feed stored are all still there.
    const encounter = await fhir(`Encounter/${encounterId}`);
    expect(encounter).toMatchObject({ status: 'finished', class: { code: 'IMP' } });
    expect(encounter['period']).toMatchObject({ end: expect.any(String) as unknown });
    expect(encounter['location']).toBeDefined();
    const orders = entries(await fhir(`ServiceRequest?patient=${patientId}`));
    expect(orders.length).toBe(2);
  });

  it('stores an MDM T02 discharge summary as a DocumentReference with its text', async () => {
    const row = await sendAndFinish(example('mdm-t02'));
    expect(row.status).toBe('processed');
    const [doc] = entries(await fhir(`DocumentReference?patient=${patientId}`));
    expect(doc).toMatchObject({
      status: 'current',
      docStatus: 'final',
      type: { coding: [{ code: '18842-5' }] },
    });
    const content = doc!['content'] as { attachment: { data: string } }[];
    expect(Buffer.from(content[0]!.attachment.data, 'base64').toString('utf8')).toContain(
      'Follow up with the PCP within 7 days',
    );
  });

  it('stores an ORU discharge summary sent as TX lines as a DocumentReference, not as results', async () => {
    const row = await sendAndFinish(example('oru-r01-text-document'));
    expect(row.status).toBe('processed');
    const lakeside = 'urn:oid:2.16.840.1.113883.3.5678|MRN30417';
    const [patient] = entries(await fhir(`Patient?identifier=${encodeURIComponent(lakeside)}`));
    const docs = entries(await fhir(`DocumentReference?patient=${String(patient!['id'])}`));
    const summary = docs.find(
      (d) => (d['type'] as { coding: { code: string }[] }).coding[0]?.code === '18842-5',
    );
    expect(summary).toMatchObject({ status: 'current', docStatus: 'final' });
    const content = summary!['content'] as { attachment: { data: string; contentType: string } }[];
    expect(content[0]!.attachment.contentType).toBe('text/plain');
    expect(Buffer.from(content[0]!.attachment.data, 'base64').toString('utf8')).toBe(
      [
        'Reason for admission: acute on chronic systolic heart failure.',
        'Diuresed 4.2 kg with IV furosemide; discharge weight 81.3 kg.',
        'Plan: furosemide 40 mg daily, daily weights, PCP visit within 7 days.',
      ].join('\n'),
    );
    // The text reaches the PCP once: no Observation repeats a document line.
    const observations = entries(await fhir(`Observation?patient=${String(patient!['id'])}`));
    const codes = observations.map((o) => (o['code'] as { coding: { code: string }[] }).coding[0]?.code);
    expect(codes.sort()).toEqual(['2951-2', '48767-8']);
  });

  it('merges (A40): the merged patient is replaced-by the survivor and its encounter moves', async () => {
    await sendAndFinish(
      example('adt-a01', [
        ['MRN123', 'MRN555'],
        ['V12345', 'V555'],
        ['|A01-0001|', '|A01-0555|'],
      ]),
    );
    const [merged] = entries(await fhir(`Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|MRN555`)}`));
    const mergedId = String(merged!['id']);
    expect(entries(await fhir(`Encounter?patient=${mergedId}`))).toHaveLength(1);

    await sendAndFinish(example('adt-a40'));
    const after = await fhir(`Patient/${mergedId}`);
    expect(after).toMatchObject({
      active: false,
      link: [{ type: 'replaced-by', other: { reference: `Patient/${patientId}` } }],
    });
    expect(entries(await fhir(`Encounter?patient=${mergedId}`))).toHaveLength(0);
    expect(entries(await fhir(`Encounter?patient=${patientId}`))).toHaveLength(2);
  });

  it('merges each PID/MRG group of one A40 on its own: no patient is fused into another', async () => {
    const admit = (mrn: string, name: string, n: string): string =>
      example('adt-a01', [
        ['MRN123', mrn],
        ['Doe^Jane^Q', name],
        ['V12345', `V${n}`],
        ['|A01-0001|', `|A01-G${n}|`],
      ]);
    await sendAndFinish(admit('MRN701', 'Roe^Rick', '701'));
    await sendAndFinish(admit('MRN702', 'Poe^Pam', '702'));
    await sendAndFinish(admit('MRN703', 'Roe^Richard', '703'));
    await sendAndFinish(admit('MRN704', 'Poe^Pamela', '704'));
    const idOf = async (mrn: string): Promise<string> =>
      String(
        entries(await fhir(`Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|${mrn}`)}`))[0]!['id'],
      );
    const [s1, s2, m1, m2] = [
      await idOf('MRN701'),
      await idOf('MRN702'),
      await idOf('MRN703'),
      await idOf('MRN704'),
    ];

    const row = await sendAndFinish(
      example('adt-a40-two-groups', [
        ['MRN123', 'MRN701'],
        ['Doe^Jane^Q', 'Roe^Rick'],
        ['MRN555', 'MRN703'],
        ['MRN777', 'MRN702'],
        ['Roe^Rick||19700101|M', 'Poe^Pam||19800214|F'],
        ['MRN888', 'MRN704'],
        ['|A40-0002|', '|A40-G700|'],
      ]),
    );
    expect(row.status).toBe('processed');
    for (const [merged, survivor] of [
      [m1, s1],
      [m2, s2],
    ] as const) {
      expect(await fhir(`Patient/${merged}`)).toMatchObject({
        active: false,
        link: [{ type: 'replaced-by', other: { reference: `Patient/${survivor}` } }],
      });
      expect(entries(await fhir(`Encounter?patient=${merged}`))).toHaveLength(0);
      expect(entries(await fhir(`Encounter?patient=${survivor}`))).toHaveLength(2);
    }
    // Each survivor keeps its own identifiers only: the other group's never land on it.
    const identifiers = async (id: string): Promise<string[]> =>
      ((await fhir(`Patient/${id}`))['identifier'] as { value: string }[]).map((i) => i.value).sort();
    expect(await identifiers(s1)).toEqual(['MRN701']);
    expect(await identifiers(s2)).toEqual(['MRN702']);
  });

  it('clears the PCP when a later message sends PD1-4 as HL7 null (""), not when it is empty', async () => {
    // A later A08 without the ROL segment, so PD1-4 is the only source of the PCP.
    const later = (pd1: string, controlId: string): string =>
      example('adt-a01', [
        ['|A01-0001|', `|${controlId}|`],
        ['ADT^A01^ADT_A01', 'ADT^A08^ADT_A01'],
        ['EVN|A01|20240305101200-0500', 'EVN|A08|20240320101200-0500'],
        ['20240305101500-0500||ADT', '20240320101500-0500||ADT'],
        ['PD1|||Mercy Clinic|1234567893^Welby^Marcus^^^Dr^MD^^^^^^NPI', pd1],
      ]).replace(/(\r\n|\r|\n)ROL\|[^\r\n]*/g, '');
    await sendAndFinish(later('PD1|||Mercy Clinic', 'PD1-EMPTY'));
    expect((await fhir(`Patient/${patientId}`))['generalPractitioner']).toBeDefined();
    await sendAndFinish(
      later('PD1|||Mercy Clinic|""', 'PD1-NULL').replace('EVN|A08|20240320', 'EVN|A08|20240321'),
    );
    expect((await fhir(`Patient/${patientId}`))['generalPractitioner']).toBeUndefined();
  });

  it('stores the vitals, allergies, procedure, diagnoses and coverage of an admission', async () => {
    expect((await sendAndFinish(example('adt-a01-clinical'))).status).toBe('processed');
    const [p] = entries(await fhir(`Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|MRN777`)}`));
    const id = String(p!['id']);
    const vitals = entries(await fhir(`Observation?patient=${id}&category=vital-signs`));
    expect(vitals).toHaveLength(5);
    const allergies = entries(await fhir(`AllergyIntolerance?patient=${id}`));
    expect(allergies.map((a) => a['criticality']).sort()).toEqual(['high', undefined]);
    expect(entries(await fhir(`Procedure?patient=${id}`))).toHaveLength(1);
    const [e] = entries(await fhir(`Encounter?patient=${id}`));
    expect((e!['diagnosis'] as unknown[]).length).toBe(2);
    const coverages = entries(await fhir(`Coverage?patient=${id}`));
    expect(coverages.map((c) => c['beneficiary'])).toEqual([{ reference: `Patient/${id}` }]);
  });

  it('records a message type with no mapping as ignored', async () => {
    const row = await sendAndFinish(adtMessage({ controlId: 'A38-1', event: 'A38' }));
    expect(row.status).toBe('ignored');
  });

  it('fails a message that cannot be mapped, with an OperationOutcome naming the HL7 location', async () => {
    const noId = adtMessage({ controlId: 'NOID-1' }).replace(/PID\|1\|\|[^|]*\|/, 'PID|1|||');
    const row = await sendAndFinish(noId);
    expect(row.status).toBe('failed');
    expect(JSON.stringify(row.error)).toMatch(/PID-3/);
  });
});
