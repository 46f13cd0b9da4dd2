/**
 * Who is told, through the real engine: a PCP named in one facility's record hears of the same
 * person's visit at another facility (identity links), never of a twin that identity keeps apart,
 * and a practice's uploaded roster attributes patients whose messages name no PCP at all. Every
 * notice says which source attributed it.
 */
import { describe, expect, it } from 'vitest';
import {
  adt,
  demo,
  messageBundle,
  OTHER_NPI,
  PCP_NPI,
  registerPractice,
  settle,
  useNotifyHarness,
  waitUntil,
  waitForDelivery,
  type Demo,
} from '../helpers/notify-harness';

const h = useNotifyHarness();

describe('twins', () => {
  const household = {
    family: 'Kowalczyk',
    dob: '20100505',
    street: '7 Birch Rd',
    zip: '62704',
    phone: '5550103',
  };
  const twinA = demo({ ...household, mrn: 'TW-A', given: 'Daniel' });
  // Twin B at the same facility and, for a later visit, at another one.
  const twinB = demo({ ...household, mrn: 'TW-B', given: 'Matthew' });
  const twinBElsewhere = demo({ ...household, facility: 'STJOHN', mrn: 'SJ-TW-B', given: 'Matthew' });

  it('the ED visits of the twin whose record names no PCP reach nobody; the other twin’s admission does', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    const admitA = await s.sendProcessed(adt(twinA, { pcpNpi: PCP_NPI, visit: 'V-TA' }));
    expect((await s.settledOutbox(admitA)).map((r) => [r.kind, r.status])).toEqual([['admit', 'notified']]);
    await waitUntil(() => receiver.accepted().length === 1, 20_000, 'twin A admitted');

    const edB = await s.sendProcessed(adt(twinB, { event: 'A04', visit: 'V-TB', location: 'ED^01^A' }));
    const edBElsewhere = await s.sendProcessed(
      adt(twinBElsewhere, { event: 'A04', visit: 'V-STB', location: 'ED^02^A' }),
    );
    const [idA, idB, idBElsewhere] = await Promise.all(
      [twinA, twinB, twinBElsewhere].map((t) => s.patientId(t)),
    );
    // Identity keeps the twins apart and joins twin B's two records.
    const [personA, personB, personBElsewhere] = await Promise.all(
      [idA, idB, idBElsewhere].map((id) => s.personOf(id ?? '')),
    );
    expect(personA).toBeDefined();
    expect(personB).not.toBe(personA);
    expect(personBElsewhere).toBe(personB);
    for (const messageId of [edB, edBElsewhere]) {
      const rows = await s.settledOutbox(messageId);
      expect(rows.map((r) => [r.kind, r.status])).toEqual([['ed-arrival', 'no-recipient']]);
      expect(rows[0]?.detail).toEqual({ attributed: [] });
    }
    await settle(1_000);
    expect(receiver.requests).toHaveLength(1);
    const log = await s.deliveries({ endpoint: practice.endpoint });
    expect(log.map((d) => [d.patient, d.event.kind])).toEqual([[`Patient/${idA}`, 'admit']]);
    // Nothing about twin B anywhere in the delivery log, the inbox included.
    expect((await s.deliveries({ patient: `Patient/${idB}` })).length).toBe(0);
    expect((await s.deliveries({ patient: `Patient/${idBElsewhere}` })).length).toBe(0);
  }, 30_000);
});

describe('person attribution across facilities', () => {
  const mercy = demo({ mrn: 'PA-1', family: 'Hollister', phone: '5550101' });
  // Another facility's legacy feed: upper case, a nickname, no PD1. The same person.
  const stjohn = demo({
    facility: 'STJOHN',
    mrn: 'SJ-PA-1',
    family: 'HOLLISTER',
    given: 'BILL',
    street: '12 OAK LN',
    phone: '5550101',
  });

  it('the PCP named at hospital 1 hears of the ED visit at hospital 2, with source person', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await s.sendProcessed(adt(mercy, { pcpNpi: PCP_NPI, visit: 'V-PA-1' }));
    await waitUntil(() => receiver.accepted().length === 1, 20_000, 'the admission at hospital 1');
    await s.sendProcessed(adt(mercy, { event: 'A03', visit: 'V-PA-1', disposition: '01' }));
    await waitUntil(() => receiver.accepted().length === 2, 20_000, 'the discharge at hospital 1');
    await s.sendProcessed(adt(stjohn, { event: 'A04', visit: 'V-SJ-1', location: 'ED^03^A' }));
    const [mercyId, stjohnId] = await Promise.all([s.patientId(mercy), s.patientId(stjohn)]);
    expect(await s.personOf(stjohnId)).toBe(await s.personOf(mercyId));

    const ed = await waitForDelivery(
      s,
      { endpoint: practice.endpoint, patient: `Patient/${stjohnId}` },
      (d) => d.status === 'delivered',
      'the ED notice from hospital 2',
    );
    expect(ed).toMatchObject({
      event: { kind: 'ed-arrival' },
      reasons: [{ source: 'person', practitioner: `npi:${PCP_NPI}`, via: `Patient/${mercyId}` }],
    });
    const first = (await s.deliveries({ patient: `Patient/${mercyId}`, endpoint: practice.endpoint })).at(-1);
    expect(first?.reasons).toEqual([
      { source: 'message', practitioner: `npi:${PCP_NPI}`, via: `Patient/${mercyId}` },
    ]);
    // The notice is about hospital 2's record: the other facility's Patient does not travel with it.
    const m = messageBundle(receiver.accepted()[2]);
    expect(m.header['id']).toBe(ed.noticeId);
    const patients = m.resources.filter((r) => r['resourceType'] === 'Patient').map((r) => r['id']);
    expect(patients).toEqual([stjohnId]);
    // The practice's inbox entry carries the same reason.
    const inbox = await s.deliveries({ endpoint: practice.role, patient: `Patient/${stjohnId}` });
    expect(inbox.map((d) => [d.channel, d.reasons[0]?.source])).toEqual([['inbox', 'person']]);
  }, 30_000);

  it('a practice registered for another NPI hears nothing of the patient', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    await registerPractice(s, `${receiver.url}/fhir`, { npi: OTHER_NPI });
    const messageId = await s.sendProcessed(adt(mercy, { pcpNpi: PCP_NPI, visit: 'V-PA-2' }));
    const rows = await s.settledOutbox(messageId);
    // Attributed to a PCP nobody registered for: no recipient, with the attribution kept.
    expect(rows.map((r) => r.status)).toEqual(['no-recipient']);
    expect(rows[0]?.detail).toMatchObject({
      attributed: [{ source: 'message', practitioner: `npi:${PCP_NPI}` }],
    });
    await settle(500);
    expect(receiver.requests).toHaveLength(0);
  }, 30_000);
});

describe('roster attribution', () => {
  const known: Demo = demo({
    mrn: 'RO-1',
    family: 'Quimby',
    given: 'Harriet',
    sex: 'F',
    dob: '19620317',
    phone: '5550401',
    zip: '62702',
  });
  // Not seen by the engine before the roster arrives: matched when its first message does.
  const later: Demo = demo({
    mrn: 'RO-2',
    family: 'Lindqvist',
    given: 'Theodore',
    dob: '19830715',
    phone: '5550402',
    zip: '62706',
  });
  const stranger: Demo = demo({
    mrn: 'RO-3',
    family: 'Ashbury',
    given: 'Quentin',
    dob: '19440404',
    phone: '5550403',
    zip: '62799',
  });

  it('a rostered patient’s admission notifies the practice, with source roster', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`, { npi: OTHER_NPI });
    // An outpatient registration makes the patient known, and is no event.
    const registered = await s.sendProcessed(
      adt(known, { event: 'A04', patientClass: 'O', visit: 'V-RO-0' }),
    );
    expect(await s.outbox(registered)).toEqual([]);
    const upload = await s.api(
      'POST',
      `/api/roster?organization=${encodeURIComponent(practice.organization)}`,
      [
        'Family,Given,BirthDate,Gender,PostalCode,NPI',
        `Quimby,Harriet,1962-03-17,F,62702,${OTHER_NPI}`,
        'Lindqvist,Ted,1983-07-15,M,62706,',
        '',
      ].join('\r\n'),
    );
    expect(upload.status, JSON.stringify(upload.body)).toBe(200);
    expect(upload.body).toMatchObject({ rows: 2, matched: 1, unmatched: 1 });
    const roster = `csv:${practice.organization}`;

    // The row with an NPI reaches that practitioner's role (endpoint and inbox).
    await s.sendProcessed(adt(known, { visit: 'V-RO-1' }));
    const knownId = await s.patientId(known);
    const first = await waitForDelivery(
      s,
      { endpoint: practice.endpoint, patient: `Patient/${knownId}` },
      (d) => d.status === 'delivered',
      'the rostered admission',
    );
    expect(first).toMatchObject({
      event: { kind: 'admit' },
      reasons: [{ source: 'roster', practitioner: `npi:${OTHER_NPI}`, via: roster }],
    });
    expect((await s.deliveries({ endpoint: practice.role })).map((d) => d.reasons[0]?.source)).toEqual([
      'roster',
    ]);

    // The row without one names only the practice: its Organization's endpoint hears of it.
    await s.sendProcessed(adt(later, { visit: 'V-RO-2' }));
    const laterId = await s.patientId(later);
    const second = await waitForDelivery(
      s,
      { endpoint: practice.endpoint, patient: `Patient/${laterId}` },
      (d) => d.status === 'delivered',
      'the admission of the patient rostered before arriving',
    );
    expect(second.reasons).toEqual([{ source: 'roster', practitioner: practice.organization, via: roster }]);

    // Someone on no roster and with no PCP: nobody.
    const strangerMessage = await s.sendProcessed(adt(stranger, { visit: 'V-RO-3' }));
    expect((await s.settledOutbox(strangerMessage)).map((r) => r.status)).toEqual(['no-recipient']);
    await settle(500);
    expect(receiver.accepted()).toHaveLength(2);
    expect(receiver.requests).toHaveLength(2);
  }, 30_000);
});

describe('ATR Group roster through the FHIR API', () => {
  const member: Demo = demo({
    mrn: 'GR-1',
    family: 'Okonkwo',
    given: 'Adaeze',
    sex: 'F',
    dob: '19710922',
    phone: '5550501',
    zip: '62703',
  });

  it('a Group member attributed to a practitioner by NPI reaches that practice; deleting the Group stops it', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`, { npi: OTHER_NPI });
    // Known to the engine, with no PCP in its messages.
    await s.sendProcessed(adt(member, { event: 'A04', patientClass: 'O', visit: 'V-GR-0' }));
    const patientId = await s.patientId(member);
    const group = await s.fhir('POST', '/fhir/Group', {
      resourceType: 'Group',
      type: 'person',
      actual: true,
      managingEntity: { reference: practice.organization },
      member: [
        {
          entity: { reference: `Patient/${patientId}` },
          extension: [
            {
              url: 'http://hl7.org/fhir/us/davinci-atr/StructureDefinition/ext-attributedProvider',
              valueReference: { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: OTHER_NPI } },
            },
          ],
        },
      ],
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const groupRef = `Group/${String(group.body['id'])}`;

    await s.sendProcessed(adt(member, { visit: 'V-GR-1' }));
    const delivered = await waitForDelivery(
      s,
      { endpoint: practice.endpoint, patient: `Patient/${patientId}` },
      (d) => d.status === 'delivered',
      'the admission of the Group member',
    );
    expect(delivered.reasons).toEqual([
      { source: 'roster', practitioner: `npi:${OTHER_NPI}`, via: groupRef },
    ]);

    // The practice drops the patient from its roster: the next admission reaches nobody.
    expect((await s.fhir('DELETE', `/fhir/${groupRef}`)).status).toBe(204);
    const after = await s.sendProcessed(adt(member, { visit: 'V-GR-2' }));
    expect((await s.settledOutbox(after)).map((r) => r.status)).toEqual(['no-recipient']);
    await settle(300);
    expect(receiver.requests).toHaveLength(1);
  }, 30_000);
});
