/**
 * ADT events that change whose record something is, through the whole engine (MLLP in, mapped,
 * stored, read back over /fhir and /api): an A47 identifier change keeps the patient's records
 * together under the new identifier, an A45 moves a visit only from the patient the sender names,
 * and an event left unmapped on purpose shows the analyst its reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MllpTestClient } from '../helpers/mllp-test-client';
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

const get = (path: string): Promise<Record<string, unknown>> => getJson(engine, token, path);

const search = async (query: string): Promise<Record<string, unknown>[]> =>
  bundleResources(await get(`/fhir/${query}`));

const patientByMrn = async (mrn: string): Promise<Record<string, unknown>> => {
  const [patient] = await search(`Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|${mrn}`)}`);
  expect(patient, mrn).toBeDefined();
  return patient!;
};

/** An admission of `mrn` with visit `visit` (the A01 golden example, another patient). */
const admit = (mrn: string, visit: string, controlId: string): string =>
  example('adt-a01', [
    ['MRN123', mrn],
    ['V12345', visit],
    ['|A01-0001|', `|${controlId}|`],
  ]);

beforeAll(async () => {
  const client = await createSystemClient();
  engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile } });
  token = await client.token(engine.config.http.publicUrl, 'system/Message.rs system/*.rs');
  mllp = await MllpTestClient.connect(engine.mllpPort);
});
afterAll(async () => {
  mllp.close();
  await engine.destroy();
});

describe('A47 change patient identifier list', () => {
  it('keeps the visit with the patient under the new identifier, and redirects the old one', async () => {
    await sendAndFinish(admit('T2408', 'V2408', 'A47-ADMIT'));
    const old = await patientByMrn('T2408');
    expect(await search(`Encounter?patient=${String(old['id'])}`)).toHaveLength(1);

    expect((await sendAndFinish(example('adt-a47'))).status).toBe('processed');
    const renamed = await patientByMrn('MRN2409');
    expect(await get(`/fhir/Patient/${String(old['id'])}`)).toMatchObject({
      active: false,
      link: [{ type: 'replaced-by', other: { reference: `Patient/${String(renamed['id'])}` } }],
    });
    expect(await search(`Encounter?patient=${String(old['id'])}`)).toHaveLength(0);
    expect(await search(`Encounter?patient=${String(renamed['id'])}`)).toHaveLength(1);

    // A late message under the old identifier lands on the new record, not on a revived old one.
    const late = admit('T2408', 'V2418', 'A47-LATE').replace('ADT^A01^ADT_A01', 'ADT^A08^ADT_A01');
    await sendAndFinish(late.replace('EVN|A01|20240305101200', 'EVN|A08|20240418101200'));
    expect(await search(`Encounter?patient=${String(renamed['id'])}`)).toHaveLength(2);
    expect((await get(`/fhir/Patient/${String(old['id'])}`))['active']).toBe(false);
  });
});

describe('A45 move visit information', () => {
  const move = (visit: string, from: string, controlId: string): string =>
    example('adt-a45', [
      ['V2410', visit],
      ['MRN2410', from],
      ['|A45-0001|', `|${controlId}|`],
    ]);

  it('moves the visit from the MRG-1 patient to the PID patient', async () => {
    await sendAndFinish(admit('MRN2410', 'V2410', 'A45-ADMIT-1'));
    const from = await patientByMrn('MRN2410');
    const [visit] = await search(`Encounter?patient=${String(from['id'])}`);

    expect((await sendAndFinish(move('V2410', 'MRN2410', 'A45-MOVE-1'))).status).toBe('processed');
    const to = await patientByMrn('MRN2411');
    const moved = await get(`/fhir/Encounter/${String(visit!['id'])}`);
    expect(moved['subject']).toEqual({ reference: `Patient/${String(to['id'])}` });
    // Only the subject changed: the admission's status and locations are kept.
    expect(moved).toMatchObject({ status: visit!['status'], location: visit!['location'] });
    expect(await search(`Encounter?patient=${String(from['id'])}`)).toHaveLength(0);
  });

  it("refuses to move a visit that is not the MRG-1 patient's, and changes nothing", async () => {
    await sendAndFinish(admit('MRN2420', 'V2420', 'A45-ADMIT-2'));
    const owner = await patientByMrn('MRN2420');
    const [visit] = await search(`Encounter?patient=${String(owner['id'])}`);

    // The sender says the visit belongs to MRN2421, but it is MRN2420's.
    const row = await sendAndFinish(move('V2420', 'MRN2421', 'A45-WRONG'));
    expect(row.status).toBe('failed');
    expect(JSON.stringify(row.error)).toMatch(/holds subject .* not .* as the message requires/);
    expect((await get(`/fhir/Encounter/${String(visit!['id'])}`))['subject']).toEqual({
      reference: `Patient/${String(owner['id'])}`,
    });
  });

  it('moves nothing without MRG-1, and tells the analyst why', async () => {
    const row = await sendAndFinish(example('adt-a45-no-prior-patient'));
    expect(row.status).toBe('processed');
    expect(await search(`Encounter?identifier=${encodeURIComponent(`${MRN_SYSTEM}|V2412`)}`)).toHaveLength(0);
    const view = await get(`/api/messages/${row.id}`);
    const issues = view['issues'] as { diagnostics: string }[];
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      severity: 'warning',
      code: 'rule-skipped',
      expression: ['MRG[segment 4]'],
      rule: 'mappings/adt-a45.yaml#moved-encounter.when',
    });
    expect(issues[0]?.diagnostics).toMatch(/moves a visit only when MRG-1 .* and MRG-5 .* are\s+both sent/);
  });
});

describe('an event left unmapped on purpose', () => {
  it('is archived as ignored, and the message view shows the reason and the file', async () => {
    const row = await sendAndFinish(example('adt-a35'));
    expect(row.status).toBe('ignored');
    const view = await get(`/api/messages/${row.id}`);
    expect(view['mappingFile']).toBe('mappings/adt-account-events.yaml');
    const issues = view['issues'] as { diagnostics: string }[];
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'information', code: 'not-mapped' });
    expect(issues[0]?.diagnostics).toMatch(
      /^ADT\^A35 is not mapped on purpose \(mappings\/adt-account-events\.yaml\): it merges or moves a patient account/,
    );
  });
});
