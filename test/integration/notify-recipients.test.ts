/**
 * Which PractitionerRoles the recipient directory counts, against a real store: hospital feeds
 * (ROL, PRT) write roles for the same NPIs practices register, and such a role must not get an
 * inbox entry nobody reads; a role a practice registered still does.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Attribution } from '../../engine/src/notify/attribution';
import { planNotices } from '../../engine/src/notify/plan-notices';
import { findRecipients } from '../../engine/src/notify/recipient-directory';
import { writeDirect } from '../../engine/src/store/fhir-direct-write';
import type { JsonObject } from '../../engine/src/store/fhir-json';
import { writeVersion } from '../../engine/src/store/fhir-version-writer';
import { createTestDb, type TestDb } from '../helpers/test-db';

const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const NPI = '1234567893';

let t: TestDb;
beforeEach(async () => {
  t = await createTestDb('notifyrcpt');
});
afterEach(async () => {
  await t.drop();
});

/** Writes a version as the pipeline does for archived message 1 (`meta.source` urn:care:message:1). */
async function fromMessage(type: string, id: string, body: JsonObject): Promise<void> {
  const now = new Date().toISOString();
  await t.db.transaction((tx) =>
    writeVersion(
      tx,
      {
        type,
        id,
        body: { resourceType: type, id, ...body },
        deleted: false,
        eventTime: now,
        lastUpdated: now,
        messageId: '1',
      },
      undefined,
    ),
  );
}

/** Registers a resource as a practice does through POST /fhir (`meta.source` urn:care:api:practice). */
async function registered(type: string, id: string, body: JsonObject): Promise<string> {
  const result = await t.db.transaction((tx) =>
    writeDirect(
      tx,
      { kind: 'update', type, id, body: { resourceType: type, id, ...body }, mayCreate: true },
      { clientId: 'practice', requestId: randomUUID() },
    ),
  );
  expect(result.ok).toBe(true);
  return `${type}/${id}`;
}

const davinciEndpoint: JsonObject = {
  status: 'active',
  address: 'https://practice.example/fhir',
  connectionType: {
    system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
    code: 'hl7-fhir-msg',
  },
  payloadType: [
    { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' }] },
  ],
};

const attribution: Attribution = {
  npi: NPI,
  ref: 'Practitioner/hospital-pcp',
  reason: { source: 'message', practitioner: `npi:${NPI}`, via: 'Patient/p1' },
};

describe('recipient directory', () => {
  it('leaves out a role a hospital message made, and gives the registered role its inbox entry', async () => {
    await fromMessage('Practitioner', 'hospital-pcp', {
      identifier: [{ system: NPI_SYSTEM, value: NPI }],
      active: true,
    });
    await fromMessage('Organization', 'hospital-clinic', { name: 'Mercy Clinic', active: true });
    // What rules/practitioner-role.yaml makes of `ROL|1|AD|PP|<NPI>^Welby...`.
    await fromMessage('PractitionerRole', 'hospital-role', {
      active: true,
      practitioner: { reference: 'Practitioner/hospital-pcp' },
      organization: { reference: 'Organization/hospital-clinic' },
    });
    const org = await registered('Organization', 'practice', { name: 'Welby Family Practice' });
    const role = await registered('PractitionerRole', 'practice-pcp', {
      active: true,
      practitioner: { identifier: { system: NPI_SYSTEM, value: NPI } },
      organization: { reference: org },
    });

    const recipients = await t.db.transaction((tx) => findRecipients(tx, [attribution]));
    expect(recipients.map((r) => [r.target, r.inbox, r.endpoints.length])).toEqual([[role, true, 0]]);

    const plan = planNotices('admit:Encounter/e1/_history/1', recipients, []);
    expect(plan.notices.map((n) => [n.channel, n.target])).toEqual([['inbox', role]]);
    expect(plan.inbox.map((i) => i.recipients)).toEqual([[role]]);
  });

  it('still counts a hospital role that reaches a registered endpoint, without an inbox entry', async () => {
    await fromMessage('Practitioner', 'hospital-pcp', {
      identifier: [{ system: NPI_SYSTEM, value: NPI }],
      active: true,
    });
    const endpoint = await registered('Endpoint', 'practice-endpoint', davinciEndpoint);
    await fromMessage('PractitionerRole', 'hospital-role', {
      active: true,
      practitioner: { reference: 'Practitioner/hospital-pcp' },
      endpoint: [{ reference: endpoint }],
    });

    const recipients = await t.db.transaction((tx) => findRecipients(tx, [attribution]));
    expect(recipients.map((r) => [r.target, r.inbox, r.endpoints.map((e) => e.ref)])).toEqual([
      ['PractitionerRole/hospital-role', false, [endpoint]],
    ]);
    const plan = planNotices('admit:Encounter/e1/_history/1', recipients, []);
    expect(plan.notices.map((n) => [n.channel, n.target])).toEqual([['davinci', endpoint]]);
    expect(plan.inbox).toEqual([]);
  });
});
