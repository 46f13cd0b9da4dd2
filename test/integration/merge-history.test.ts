/**
 * Lists that build up across messages, through the whole engine (MLLP in, mapped, stored, read
 * back over /fhir): a correction resending one OBX leaves the report's other results, and an
 * admission, a transfer and a discharge leave the visit's location history, in either order, and
 * a cancel (A12, A13, A26) takes back what the event it cancels did to that history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient } from '../helpers/system-client';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';
import { sendProcessed } from '../helpers/send-and-finish';
import { bundleResources, getJson, goldenMessage } from '../helpers/golden-message';

let engine: TestEngine;
let mllp: MllpTestClient;
let token: string;

const example = goldenMessage;

const sendAndFinish = (text: string): Promise<void> => sendProcessed(engine, mllp, text);

const fhir = (path: string): Promise<Record<string, unknown>> => getJson(engine, token, `/fhir/${path}`);

const entries = async (search: string): Promise<Record<string, unknown>[]> =>
  bundleResources(await fhir(search));

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

describe('a correction that resends one OBX', () => {
  it('updates that Observation and keeps the report’s other results', async () => {
    // The final report the correction (mappings/tests/oru-r01-correction.hl7) amends.
    const final = example('oru-r01-correction', [
      ['|ORU-0102|', '|ORU-0101|'],
      ['20240306091000-0500||ORU', '20240306080000-0500||ORU'],
      ['||20240306091000-0500||CH|C', '||20240306080000-0500||CH|F'],
      [
        'OBX|2|NM|2951-2^Sodium^LN||138|mmol/L|136-145|N|||C|||20240306070500-0500\nNTE|1||Corrected result: the first value was read from a diluted specimen',
        [
          'OBX|1|NM|2345-7^Glucose^LN||96|mg/dL|70-99|N|||F|||20240306070500-0500',
          'OBX|2|NM|2951-2^Sodium^LN||128|mmol/L|136-145|L|||F|||20240306070500-0500',
          'OBX|3|NM|2823-3^Potassium^LN||4.1|mmol/L|3.5-5.1|N|||F|||20240306070500-0500',
        ].join('\n'),
      ],
    ]);
    expect(final).toContain('Potassium');
    await sendAndFinish(final);
    const [patient] = await entries('Patient?identifier=MRN456');
    const patientId = String(patient?.['id']);
    const [first] = await entries(`DiagnosticReport?patient=${patientId}`);
    expect(first?.['result']).toHaveLength(3);

    await sendAndFinish(example('oru-r01-correction'));
    const reports = await entries(`DiagnosticReport?patient=${patientId}`);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ id: first?.['id'], status: 'corrected', result: first?.['result'] });
    const observations = await entries(`Observation?patient=${patientId}`);
    expect(observations).toHaveLength(3);
    const sodium = observations.find((o) => JSON.stringify(o['code']).includes('2951-2'));
    expect(sodium).toMatchObject({
      status: 'corrected',
      valueQuantity: { value: 138 },
      meta: { versionId: '2' },
    });
    expect(`Observation/${String(sodium?.['id'])}`).toBe(
      (first?.['result'] as { reference: string }[])[1]?.reference,
    );
  });
});

/** The examples' visit, renamed so each test has a patient and visit of its own. */
const visitEdits = (n: string): [string, string][] => [
  ['MRN123', `MRN${n}`],
  ['V12345', `V${n}`],
  ['-0001|', `-${n}|`],
];

async function locationsOf(
  mrn: string,
): Promise<{ encounter: Record<string, unknown>; unit: string; icu: string }> {
  const [patient] = await entries(`Patient?identifier=${mrn}`);
  const [encounter] = await entries(`Encounter?patient=${String(patient?.['id'])}`);
  const list = (encounter?.['location'] ?? []) as { location: { reference: string } }[];
  return {
    encounter: encounter ?? {},
    unit: list[0]?.location.reference ?? '',
    icu: list[1]?.location.reference ?? '',
  };
}

// The examples' times: admitted 5 March 10:00 (PV1-44), to the ICU 6 March 08:25 (EVN-2),
// discharged 8 March 15:45 (PV1-45).
const ADMITTED = '2024-03-05T10:00:00-05:00';
const TRANSFERRED = '2024-03-06T08:25:00-05:00';
const DISCHARGED = '2024-03-08T15:45:00-05:00';

describe('Encounter.location history', () => {
  it('after A01, A02 and A03: each location once, completed, with when the patient arrived and left', async () => {
    await sendAndFinish(example('adt-a01', visitEdits('901')));
    const admitted = await locationsOf('MRN901');
    expect(admitted.encounter['location']).toEqual([
      { location: { reference: admitted.unit }, status: 'active', period: { start: ADMITTED } },
    ]);
    await sendAndFinish(example('adt-a02', visitEdits('901')));
    const transferred = await locationsOf('MRN901');
    expect(transferred.encounter['location']).toEqual([
      {
        location: { reference: admitted.unit },
        status: 'completed',
        period: { start: ADMITTED, end: TRANSFERRED },
      },
      { location: { reference: transferred.icu }, status: 'active', period: { start: TRANSFERRED } },
    ]);
    await sendAndFinish(example('adt-a03', visitEdits('901')));
    const discharged = await locationsOf('MRN901');
    expect(discharged.encounter).toMatchObject({ status: 'finished' });
    expect(discharged.encounter['location']).toEqual([
      {
        location: { reference: admitted.unit },
        status: 'completed',
        period: { start: ADMITTED, end: TRANSFERRED },
      },
      {
        location: { reference: transferred.icu },
        status: 'completed',
        period: { start: TRANSFERRED, end: DISCHARGED },
      },
    ]);
  });

  it('after A01, then A03, then the late A02: the same history, and the visit stays discharged', async () => {
    await sendAndFinish(example('adt-a01', visitEdits('902')));
    await sendAndFinish(example('adt-a03', visitEdits('902')));
    await sendAndFinish(example('adt-a02', visitEdits('902')));
    const { encounter, unit, icu } = await locationsOf('MRN902');
    expect(encounter).toMatchObject({ status: 'finished', period: { end: DISCHARGED } });
    expect(encounter['location']).toEqual([
      { location: { reference: unit }, status: 'completed', period: { start: ADMITTED, end: TRANSFERRED } },
      { location: { reference: icu }, status: 'completed', period: { start: TRANSFERRED, end: DISCHARGED } },
    ]);
  });

  it('after A01, A02 and the A12 that cancels it: the prior location is active again', async () => {
    await sendAndFinish(example('adt-a01', visitEdits('903')));
    await sendAndFinish(example('adt-a02', visitEdits('903')));
    // HL7 v2 3.3.12: the A12's PV1-3 is where the patient was before the transfer.
    await sendAndFinish(
      example('adt-a12', [
        ...visitEdits('903'),
        [
          'PV1|1|I|ICU^12^A^MERCY|||4W^401^B^MERCY^^^MAIN^4',
          'PV1|1|I|4W^401^B^MERCY^^^MAIN^4|||ICU^12^A^MERCY',
        ],
      ]),
    );
    const { encounter, unit, icu } = await locationsOf('MRN903');
    expect(encounter).toMatchObject({ status: 'in-progress' });
    expect(encounter['location']).toEqual([
      { location: { reference: unit }, status: 'active', period: { start: ADMITTED } },
      { location: { reference: icu }, status: 'completed', period: { start: TRANSFERRED } },
    ]);
  });

  it('after A01, A03 and the A13 that cancels it: the location is active again, without an end', async () => {
    // Discharged from (and the discharge cancelled in) the unit the patient was admitted to.
    const inUnit: [string, string] = ['ICU^12^A^MERCY', '4W^401^B^MERCY^^^MAIN^4'];
    await sendAndFinish(example('adt-a01', visitEdits('904')));
    await sendAndFinish(example('adt-a03', [...visitEdits('904'), inUnit]));
    const discharged = await locationsOf('MRN904');
    expect(discharged.encounter['location']).toEqual([
      {
        location: { reference: discharged.unit },
        status: 'completed',
        period: { start: ADMITTED, end: DISCHARGED },
      },
    ]);
    await sendAndFinish(example('adt-a13', [...visitEdits('904'), inUnit]));
    const { encounter, unit } = await locationsOf('MRN904');
    expect(encounter).toMatchObject({ status: 'in-progress', period: { start: ADMITTED } });
    expect(encounter['period']).not.toHaveProperty('end');
    expect(encounter['location']).toEqual([
      { location: { reference: unit }, status: 'active', period: { start: ADMITTED } },
    ]);
  });

  it('after A01, A15 and the A26 that cancels it: the reserved location leaves the history', async () => {
    // The pending transfer (mappings/tests/adt-a15.hl7) of the admitted patient, from the unit
    // the A01 put them in to the reserved bed in PV1-42; the A26 cancels it.
    const pending = (name: string): string =>
      example(name, [
        ['MRN2403', 'MRN905'],
        ['V2403', 'V905'],
        ['-0001|', '-905|'],
        ['ICU^2^A^MERCY^^^MAIN^2', '4W^401^B^MERCY^^^MAIN^4'],
      ]);
    await sendAndFinish(example('adt-a01', visitEdits('905')));
    await sendAndFinish(pending('adt-a15'));
    const reserved = await locationsOf('MRN905');
    expect(reserved.encounter['location']).toEqual([
      { location: { reference: reserved.unit }, status: 'active', period: { start: ADMITTED } },
      { location: { reference: reserved.icu }, status: 'reserved' },
    ]);
    await sendAndFinish(pending('adt-a26'));
    const { encounter, unit } = await locationsOf('MRN905');
    expect(encounter).toMatchObject({ status: 'in-progress' });
    expect(encounter['location']).toEqual([
      { location: { reference: unit }, status: 'active', period: { start: ADMITTED } },
    ]);
  });
});
