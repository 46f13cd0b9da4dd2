/**
 * Topic-based Subscriptions (R4 backport) through the real engine: a PCP system subscribes over
 * /fhir, its rest-hook gets the handshake and then the events of the patient it filtered on,
 * numbered from 1, with heartbeats while idle; `$status` and `$events` tell the same story, and
 * a subscriber whose endpoint refuses the handshake is told why.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { NoticeReceiver, ReceivedNotice } from '../helpers/notice-receiver';
import { adt, demo, settle, useNotifyHarness, waitUntil, type NotifyEngine } from '../helpers/notify-harness';
import { waitFor } from '../helpers/test-engine';

const h = useNotifyHarness('all');

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const TOPIC = 'https://care-coordination.org/fhir/SubscriptionTopic';
const ENCOUNTER_START = `${TOPIC}/encounter-start`;

let s: NotifyEngine;
const watched = demo({ mrn: 'SB-1', family: 'Okonkwo', given: 'Adaeze', sex: 'F', phone: '5550501' });
const other = demo({ mrn: 'SB-2', family: 'Vandermeer', given: 'Pieter', phone: '5550502' });
let watchedId: string;

beforeAll(async () => {
  // Sweeps every second, so a heartbeat is never more than a second late.
  s = await h.setup({ sweepIntervalMs: 1_000 });
  // Outpatient registrations: the patients are known (and the filter can name one), no event.
  for (const p of [watched, other]) {
    const messageId = await s.sendProcessed(
      adt(p, { event: 'A04', patientClass: 'O', visit: `V-${p.mrn}-0` }),
    );
    expect(await s.outbox(messageId)).toEqual([]);
  }
  watchedId = await s.patientId(watched);
});

interface SubscriptionOptions {
  readonly topic?: string;
  readonly filter?: string;
  readonly payload?: 'empty' | 'id-only' | 'full-resource';
  readonly heartbeatSeconds?: number;
}

function subscription(endpoint: string, o: SubscriptionOptions = {}): Record<string, unknown> {
  return {
    resourceType: 'Subscription',
    meta: { profile: [`${BACKPORT}/backport-subscription`] },
    status: 'requested',
    reason: 'Care coordination for my panel',
    criteria: o.topic ?? ENCOUNTER_START,
    ...(o.filter !== undefined
      ? { _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: o.filter }] } }
      : {}),
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: {
        extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: o.payload ?? 'id-only' }],
      },
      ...(o.heartbeatSeconds !== undefined
        ? {
            extension: [
              { url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: o.heartbeatSeconds },
            ],
          }
        : {}),
      header: ['Authorization: Bearer subscriber-secret'],
    },
  };
}

interface Parameter {
  name: string;
  valueCode?: string;
  valueString?: string;
  valueReference?: { reference: string };
  valueCanonical?: string;
  part?: Parameter[];
}

/** The status Parameters of a notification Bundle (its first entry). */
function statusOf(bundle: Record<string, unknown>): Parameter[] {
  const entries = bundle['entry'] as { resource: { parameter?: Parameter[] } }[] | undefined;
  return entries?.[0]?.resource.parameter ?? [];
}

const param = (ps: Parameter[], name: string): Parameter | undefined => ps.find((p) => p.name === name);
const typeOf = (n: ReceivedNotice): string | undefined => param(statusOf(n.json()), 'type')?.valueCode;
const ofType = (r: NoticeReceiver, type: string): ReceivedNotice[] =>
  r.requests.filter((n) => typeOf(n) === type);

async function subscribe(endpoint: string, o: SubscriptionOptions = {}): Promise<string> {
  const created = await s.fhir('POST', '/fhir/Subscription', subscription(endpoint, o));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body['status']).toBe('requested');
  return String(created.body['id']);
}

async function statusBecomes(id: string, status: string): Promise<Record<string, unknown>> {
  let current: Record<string, unknown> = {};
  await waitFor(
    async () => {
      current = (await s.fhir('GET', `/fhir/Subscription/${id}`)).body;
      return current['status'] === status;
    },
    10_000,
    `Subscription/${id} ${status}`,
  );
  return current;
}

describe('topic-based subscriptions', () => {
  let hook: NoticeReceiver;
  let subscriptionId: string;

  it('lists its topics in the CapabilityStatement', async () => {
    const metadata = await fetch(`${s.base}/fhir/metadata`);
    expect(metadata.status).toBe(200);
    const cs = (await metadata.json()) as { rest: { resource: Record<string, unknown>[] }[] };
    const entry = cs.rest[0]?.resource.find((r) => r['type'] === 'Subscription');
    const topics = (entry?.['extension'] as { url: string; valueCanonical: string }[] | undefined)
      ?.filter((e) => e.url === `${BACKPORT}/capabilitystatement-subscriptiontopic-canonical`)
      .map((e) => e.valueCanonical);
    expect(topics).toEqual(
      expect.arrayContaining([
        ENCOUNTER_START,
        `${TOPIC}/encounter-transfer`,
        `${TOPIC}/encounter-end`,
        `${TOPIC}/encounter-cancel`,
        `${TOPIC}/patient-death`,
        `${TOPIC}/critical-result`,
      ]),
    );
  });

  it('activates a subscription with a handshake to its endpoint', async () => {
    hook = await h.receiver();
    subscriptionId = await subscribe(`${hook.url}/hook`, {
      filter: `Encounter?patient=Patient/${watchedId}`,
      payload: 'id-only',
      heartbeatSeconds: 1,
    });
    await statusBecomes(subscriptionId, 'active');
    const first = hook.requests[0];
    expect(first?.path).toBe('/hook');
    expect(typeOf(first as ReceivedNotice)).toBe('handshake');
    // The subscriber's own header is sent with every request.
    expect(first?.headers['authorization']).toBe('Bearer subscriber-secret');
    const status = statusOf(first?.json() ?? {});
    expect(param(status, 'status')?.valueCode).toBe('requested');
    expect(param(status, 'subscription')?.valueReference?.reference).toBe(
      `${s.base}/fhir/Subscription/${subscriptionId}`,
    );
    expect(param(status, 'topic')?.valueCanonical).toBe(ENCOUNTER_START);
  });

  it('sends the filtered patient’s admission as event 1, and nothing of another patient', async () => {
    const before = ofType(hook, 'event-notification').length;
    expect(before).toBe(0);
    const otherAdmission = await s.sendProcessed(adt(other, { visit: 'V-SB-2' }));
    expect((await s.settledOutbox(otherAdmission)).map((r) => r.status)).toEqual(['no-recipient']);
    await s.sendProcessed(adt(watched, { visit: 'V-SB-1' }));
    await waitUntil(() => ofType(hook, 'event-notification').length === 1, 20_000, 'event notification');
    await settle(500);
    const events = ofType(hook, 'event-notification');
    expect(events).toHaveLength(1);
    const bundle = events[0]?.json() ?? {};
    expect(bundle['type']).toBe('history');
    const status = statusOf(bundle);
    expect(param(status, 'status')?.valueCode).toBe('active');
    expect(param(status, 'events-since-subscription-start')?.valueString).toBe('1');
    const event = param(status, 'notification-event');
    expect(param(event?.part ?? [], 'event-number')?.valueString).toBe('1');
    const focus = param(event?.part ?? [], 'focus')?.valueReference?.reference ?? '';
    expect(focus).toMatch(new RegExp(`^${s.base}/fhir/Encounter/`));
    expect(param(event?.part ?? [], 'additional-context')?.valueReference?.reference).toBe(
      `${s.base}/fhir/Patient/${watchedId}`,
    );
    // id-only: the entries name the resources but do not carry them.
    const entries = bundle['entry'] as { fullUrl: string; resource?: unknown }[];
    expect(entries.slice(1).map((e) => [e.fullUrl, e.resource])).toEqual([
      [focus, undefined],
      [`${s.base}/fhir/Patient/${watchedId}`, undefined],
    ]);
    const log = await s.deliveries({ endpoint: `Subscription/${subscriptionId}` });
    expect(log).toMatchObject([
      { channel: 'subscription', status: 'delivered', eventNumber: 1, reasons: [{ source: 'subscription' }] },
    ]);
  });

  it('sends heartbeats while there is nothing to tell', async () => {
    const since = Date.now();
    await waitUntil(() => ofType(hook, 'heartbeat').some((n) => n.at >= since), 10_000, 'a heartbeat');
    const beat = ofType(hook, 'heartbeat').find((n) => n.at >= since);
    const status = statusOf(beat?.json() ?? {});
    expect(param(status, 'status')?.valueCode).toBe('active');
    expect(param(status, 'events-since-subscription-start')?.valueString).toBe('1');
    expect(param(status, 'notification-event')).toBeUndefined();
  });

  it('reports the subscription with $status and its events with $events', async () => {
    const status = await s.fhir('GET', `/fhir/Subscription/${subscriptionId}/$status`);
    expect(status.status).toBe(200);
    expect(status.body['type']).toBe('searchset');
    const parameters =
      (status.body['entry'] as { resource: { parameter: Parameter[] } }[])[0]?.resource.parameter ?? [];
    expect(param(parameters, 'type')?.valueCode).toBe('query-status');
    expect(param(parameters, 'status')?.valueCode).toBe('active');
    expect(param(parameters, 'events-since-subscription-start')?.valueString).toBe('1');

    const events = await s.fhir('GET', `/fhir/Subscription/${subscriptionId}/$events`);
    expect(events.status).toBe(200);
    const eventStatus = statusOf(events.body);
    expect(param(eventStatus, 'type')?.valueCode).toBe('query-event');
    const listed = eventStatus.filter((p) => p.name === 'notification-event');
    expect(listed.map((e) => param(e.part ?? [], 'event-number')?.valueString)).toEqual(['1']);
    const sent = statusOf(ofType(hook, 'event-notification')[0]?.json() ?? {});
    expect(param(listed[0]?.part ?? [], 'focus')).toEqual(
      param(param(sent, 'notification-event')?.part ?? [], 'focus'),
    );
    expect((await s.fhir('GET', '/fhir/Subscription/no-such-one/$status')).status).toBe(404);
    expect(
      (await s.fhir('GET', `/fhir/Subscription/${subscriptionId}/$events?eventsSinceNumber=x`)).status,
    ).toBe(400);
  });

  it('sends the Encounter itself with a full-resource payload', async () => {
    const fullHook = await h.receiver();
    const id = await subscribe(`${fullHook.url}/full`, {
      filter: `Encounter?patient=Patient/${watchedId}`,
      payload: 'full-resource',
    });
    await statusBecomes(id, 'active');
    await s.sendProcessed(adt(watched, { event: 'A04', visit: 'V-SB-ED', location: 'ED^01^A' }));
    await waitUntil(() => ofType(fullHook, 'event-notification').length === 1, 20_000, 'full-resource event');
    const bundle = ofType(fullHook, 'event-notification')[0]?.json() ?? {};
    const entries = bundle['entry'] as { fullUrl: string; resource?: Record<string, unknown> }[];
    const encounter = entries.find((e) => e.resource?.['resourceType'] === 'Encounter')?.resource;
    expect(encounter).toMatchObject({
      status: 'planned',
      class: { code: 'EMER' },
      subject: { reference: `Patient/${watchedId}` },
    });
    expect(entries.find((e) => e.resource?.['resourceType'] === 'Patient')?.resource?.['id']).toBe(watchedId);
    // Its own count starts at 1; the first subscription has now seen two events.
    expect(param(statusOf(bundle), 'events-since-subscription-start')?.valueString).toBe('1');
    await waitUntil(
      () => ofType(hook, 'event-notification').length === 2,
      20_000,
      'second event to the first',
    );
    const second = statusOf(ofType(hook, 'event-notification')[1]?.json() ?? {});
    expect(param(param(second, 'notification-event')?.part ?? [], 'event-number')?.valueString).toBe('2');
  });

  it('puts a subscription whose endpoint refuses the handshake in error, saying why', async () => {
    const refusing = await h.receiver(() => ({ status: 500 }));
    const id = await subscribe(`${refusing.url}/hook`, { filter: `Encounter?patient=Patient/${watchedId}` });
    const errored = await statusBecomes(id, 'error');
    expect(String(errored['error'])).toMatch(/500/);
    expect(refusing.requests.map(typeOf)).toEqual(['handshake']);
    const status = await s.fhir('GET', `/fhir/Subscription/${id}/$status`);
    const parameters =
      (status.body['entry'] as { resource: { parameter: Parameter[] } }[])[0]?.resource.parameter ?? [];
    expect(param(parameters, 'status')?.valueCode).toBe('error');
    expect(param(parameters, 'error')).toBeDefined();
    // An event for its patient is not sent to a subscription in error.
    await s.sendProcessed(adt(watched, { visit: 'V-SB-3', location: '6N^601^A' }));
    await settle(1_000);
    expect(refusing.requests).toHaveLength(1);
  });

  it('refuses a Subscription on a topic it does not offer, or with a filter it cannot apply, with 422', async () => {
    for (const o of [
      { topic: `${TOPIC}/no-such-topic` },
      { filter: 'Encounter?location=Location/x' },
      { topic: `${TOPIC}/critical-result`, filter: `Encounter?patient=Patient/${watchedId}` },
    ]) {
      const reply = await s.fhir('POST', '/fhir/Subscription', subscription('http://127.0.0.1:9/hook', o));
      expect(reply.status, JSON.stringify(o)).toBe(422);
      expect(reply.body['resourceType']).toBe('OperationOutcome');
    }
  });
});

describe('heartbeats after an event', () => {
  it('waits a whole period after an event notification before the next heartbeat', async () => {
    const hook = await h.receiver();
    const id = await subscribe(`${hook.url}/hb`, {
      filter: `Encounter?patient=Patient/${watchedId}`,
      heartbeatSeconds: 4,
    });
    await statusBecomes(id, 'active');
    // An event early in a period (a heartbeat was due about three seconds later): the subscriber
    // has just heard from the server.
    await waitUntil(() => ofType(hook, 'heartbeat').length >= 1, 10_000, 'a first heartbeat');
    await settle(1_000);
    await s.sendProcessed(adt(watched, { event: 'A04', visit: 'V-SB-HB', location: 'ED^04^A' }));
    await waitUntil(() => ofType(hook, 'event-notification').length === 1, 20_000, 'the event');
    const eventAt = ofType(hook, 'event-notification')[0]?.at ?? 0;
    await waitUntil(
      () => ofType(hook, 'heartbeat').some((n) => n.at > eventAt),
      10_000,
      'the next heartbeat',
    );
    const next = ofType(hook, 'heartbeat').find((n) => n.at > eventAt);
    expect((next?.at ?? 0) - eventAt).toBeGreaterThanOrEqual(3_900);
  }, 30_000);
});
