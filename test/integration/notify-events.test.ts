/**
 * Which clinical events reach the PCP, and what each notice says: one patient's stays, moves,
 * discharges, cancellations, results and death go through the real engine, and the practice's
 * endpoint receives one Da Vinci message per event with the event's code and its focus.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { NoticeReceiver } from '../helpers/notice-receiver';
import {
  adt,
  DAVINCI_EVENT_SYSTEM,
  demo,
  ENGINE_EVENT_SYSTEM,
  messageBundle,
  oru,
  PCP_NPI,
  registerPractice,
  settle,
  useNotifyHarness,
  waitUntil,
  type MessageBundle,
  type NotifyEngine,
  type Practice,
} from '../helpers/notify-harness';

const h = useNotifyHarness('all');

let s: NotifyEngine;
let receiver: NoticeReceiver;
let practice: Practice;
const p = demo({ mrn: 'EV-1', family: 'Marchetti', given: 'Lucia', sex: 'F', phone: '5550201' });

beforeAll(async () => {
  receiver = await h.receiver();
  s = await h.setup();
  practice = await registerPractice(s, `${receiver.url}/fhir`);
});

/**
 * Sends a message and returns the one notice it makes; fails if it makes none or more than
 * one (each case leaves the receiver with exactly the notices of the cases so far).
 */
async function noticeOf(text: string): Promise<MessageBundle> {
  const before = receiver.requests.length;
  const messageId = await s.sendProcessed(text);
  await s.settledOutbox(messageId);
  await waitUntil(() => receiver.requests.length > before, 20_000, 'a notice');
  await settle(300);
  expect(receiver.requests.length - before, 'notices for one message').toBe(1);
  return messageBundle(receiver.requests.at(-1));
}

/** Sends a message and checks it makes no event at all. */
async function noEventOf(text: string): Promise<void> {
  const before = receiver.requests.length;
  const messageId = await s.sendProcessed(text);
  expect(await s.outbox(messageId)).toEqual([]);
  await settle(300);
  expect(receiver.requests.length).toBe(before);
}

const codingOf = (m: MessageBundle): unknown => m.header['eventCoding'];
const reasonOf = (m: MessageBundle): unknown =>
  (m.header['reason'] as { coding?: unknown[] } | undefined)?.coding?.[0];
const focusOf = (m: MessageBundle): string | undefined =>
  (m.header['focus'] as { reference?: string }[] | undefined)?.[0]?.reference;

describe('events a PCP is told of', () => {
  let encounter: string | undefined;

  it('an admission (A01)', async () => {
    const m = await noticeOf(adt(p, { pcpNpi: PCP_NPI, visit: 'V-1', admitTime: '20240506080000+0000' }));
    expect(codingOf(m)).toMatchObject({ system: DAVINCI_EVENT_SYSTEM, code: 'notification-admit' });
    expect(reasonOf(m)).toBeUndefined();
    encounter = focusOf(m);
    expect(encounter).toMatch(/^Encounter\//);
    expect(m.find('Encounter')?.['status']).toBe('in-progress');
  });

  it('a transfer to another unit (A02)', async () => {
    const m = await noticeOf(
      adt(p, { event: 'A02', visit: 'V-1', location: 'ICU^12^A', priorLocation: '4W^401^B' }),
    );
    expect(codingOf(m)).toMatchObject({ system: DAVINCI_EVENT_SYSTEM, code: 'notification-transfer' });
    expect(focusOf(m)).toBe(encounter);
    // The new location travels with the notice.
    const locations = m.resources.filter((r) => r['resourceType'] === 'Location').map((r) => r['name']);
    expect(locations).toContain('MERCY ICU 12 A');
  });

  it('a discharge (A03), with the disposition in the Encounter', async () => {
    const m = await noticeOf(
      adt(p, {
        event: 'A03',
        visit: 'V-1',
        location: 'ICU^12^A',
        disposition: '01',
        dischargeTime: '20240507120000+0000',
      }),
    );
    expect(codingOf(m)).toMatchObject({ system: DAVINCI_EVENT_SYSTEM, code: 'notification-discharge' });
    expect(focusOf(m)).toBe(encounter);
    const enc = m.find('Encounter');
    expect(enc?.['status']).toBe('finished');
    expect(enc?.['hospitalization']).toMatchObject({
      dischargeDisposition: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/discharge-disposition', code: 'home' }],
      },
    });
  });

  it('a cancelled discharge (A13), as a cancellation in the engine code system', async () => {
    const m = await noticeOf(adt(p, { event: 'A13', visit: 'V-1', location: 'ICU^12^A' }));
    expect(codingOf(m)).toMatchObject({ system: ENGINE_EVENT_SYSTEM, code: 'cancellation' });
    expect(focusOf(m)).toBe(encounter);
    expect(m.find('Encounter')?.['status']).toBe('in-progress');
  });

  it('a cancelled admission (A11), as a cancellation', async () => {
    const admitted = await noticeOf(adt(p, { visit: 'V-2', location: '5E^501^A' }));
    expect(codingOf(admitted)).toMatchObject({ code: 'notification-admit' });
    const m = await noticeOf(adt(p, { event: 'A11', visit: 'V-2', location: '5E^501^A' }));
    expect(codingOf(m)).toMatchObject({ system: ENGINE_EVENT_SYSTEM, code: 'cancellation' });
    expect(focusOf(m)).toBe(focusOf(admitted));
    expect(m.find('Encounter')?.['status']).toBe('cancelled');
  });

  it('an emergency department arrival (A04, PV1-2 E), with the engine’s finer reason', async () => {
    const m = await noticeOf(adt(p, { event: 'A04', visit: 'V-ED-1', location: 'ED^01^A' }));
    expect(codingOf(m)).toMatchObject({ system: DAVINCI_EVENT_SYSTEM, code: 'notification-admit' });
    expect(reasonOf(m)).toMatchObject({ system: ENGINE_EVENT_SYSTEM, code: 'ed-arrival' });
    expect(m.find('Encounter')?.['class']).toMatchObject({ code: 'EMER' });
  });

  let observation: string | undefined;

  it('a critical result (OBX-8 HH)', async () => {
    const m = await noticeOf(oru(p, 'LAB-1', [{ value: '6.9', flag: 'HH' }]));
    expect(codingOf(m)).toMatchObject({ system: DAVINCI_EVENT_SYSTEM, code: 'notification-lab-report' });
    expect(reasonOf(m)).toMatchObject({ system: ENGINE_EVENT_SYSTEM, code: 'critical-result' });
    observation = focusOf(m);
    expect(observation).toMatch(/^Observation\//);
    expect(m.find('Observation')?.['valueQuantity']).toMatchObject({ value: 6.9 });
    const log = await s.deliveries({ endpoint: practice.endpoint });
    expect(log[0]?.event).toMatchObject({ kind: 'critical-result', correction: false });
  });

  it('a correction of that result (OBX-11 C), notified as a correction', async () => {
    const m = await noticeOf(oru(p, 'LAB-1', [{ value: '4.1', flag: 'N', status: 'C' }]));
    expect(codingOf(m)).toMatchObject({ code: 'notification-lab-report' });
    expect(reasonOf(m)).toMatchObject({ system: ENGINE_EVENT_SYSTEM, code: 'result-correction' });
    expect(focusOf(m)).toBe(observation);
    expect(m.find('Observation')?.['status']).toBe('corrected');
    const log = await s.deliveries({ endpoint: practice.endpoint });
    expect(log[0]?.event).toMatchObject({ kind: 'critical-result', correction: true });
  });

  it('no notice for a result that is only high (H) or normal', async () => {
    await noEventOf(oru(p, 'LAB-2', [{ code: '2345-7^Glucose', value: '182', flag: 'H' }]));
    await noEventOf(oru(p, 'LAB-3', [{ code: '2951-2^Sodium', value: '140', flag: 'N' }]));
  });

  it('no notice for an update that changes nothing a PCP acts on (A08 of the same stay)', async () => {
    await noEventOf(adt(p, { event: 'A08', visit: 'V-1', location: 'ICU^12^A' }));
  });

  it('a death (PID-30 Y) at the end of a stay: a discharge and a death, one notice each', async () => {
    const before = receiver.requests.length;
    const messageId = await s.sendProcessed(
      adt(p, {
        event: 'A03',
        visit: 'V-1',
        location: 'ICU^12^A',
        deceasedAt: '20240508030000+0000',
        disposition: '20',
      }),
    );
    expect((await s.settledOutbox(messageId)).map((r) => r.kind).sort()).toEqual(['death', 'discharge']);
    await waitUntil(() => receiver.requests.length >= before + 2, 20_000, 'two notices');
    await settle(300);
    const got = receiver.requests.slice(before).map(messageBundle);
    expect(got).toHaveLength(2);
    const death = got.find((m) => (reasonOf(m) as { code?: string } | undefined)?.code === 'death');
    expect(codingOf(death ?? messageBundle(undefined))).toMatchObject({
      system: DAVINCI_EVENT_SYSTEM,
      code: 'notification-vitals',
    });
    expect(got.map((m) => (codingOf(m) as { code?: string }).code)).toContain('notification-discharge');
  });

  it('no notice for a bed move within one unit (4W^401^A to 4W^402^B); a move to another unit is a transfer', async () => {
    const stay = demo({ mrn: 'EV-BED', family: 'Marchetti', phone: '5550777' });
    await s.sendProcessed(adt(stay, { event: 'A01', visit: 'V-BED', location: '4W^401^A' }));
    await noEventOf(adt(stay, { event: 'A02', visit: 'V-BED', location: '4W^402^B' }));
    const moved = await s.sendProcessed(adt(stay, { event: 'A02', visit: 'V-BED', location: 'ICU^7^A' }));
    expect((await s.settledOutbox(moved)).map((r) => r.kind)).toEqual(['transfer']);
  });
});
