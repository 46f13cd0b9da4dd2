import { describe, expect, it } from 'vitest';
import { buildNotificationBundle, type NoticeContext } from '../../engine/src/notify/davinci-bundle';
import { EventKind } from '../../engine/src/notify/derive-events';
import {
  DAVINCI_NOTIFICATION_EVENT_SYSTEM,
  ENGINE_NOTIFICATION_CONCEPTS,
  ENGINE_NOTIFICATION_EVENT_SYSTEM,
  notificationCodes,
} from '../../engine/src/notify/notification-codes';
import {
  buildStatusSearchset,
  buildSubscriptionBundle,
  buildSubscriptionStatus,
  type SubscriptionBundleInput,
} from '../../engine/src/notify/subscription-notification';
import {
  capabilityTopicExtensions,
  FILTER_CRITERIA_EXTENSION,
  HEARTBEAT_PERIOD_EXTENSION,
  MAX_COUNT_EXTENSION,
  parseSubscription,
  PAYLOAD_CONTENT_EXTENSION,
  subscriptionMatches,
  SUBSCRIPTION_TOPICS,
  TIMEOUT_EXTENSION,
  TOPIC_CANONICAL_EXTENSION,
  type ParsedSubscription,
} from '../../engine/src/notify/subscription-topics';
import type { JsonObject } from '../../engine/src/store/fhir-json';

const BASE = 'https://engine.example.org';
const FHIR = `${BASE}/fhir`;
const NOTICE = '6f1c2a9e-3b7d-4e0a-9c55-1d2e3f405162';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const DIAGNOSIS_ROLE = 'http://terminology.hl7.org/CodeSystem/diagnosis-role';

// ---- fixtures: one patient's records, and records that must never travel with them ----

const patient: JsonObject = {
  resourceType: 'Patient',
  id: 'p1',
  name: [{ family: 'Doe', given: ['Jane'] }],
  managingOrganization: { reference: 'Organization/hosp' },
  generalPractitioner: [{ reference: 'Practitioner/pcp' }],
  link: [{ other: { reference: 'Patient/p1-old' }, type: 'replaces' }],
};
const otherPatient: JsonObject = { resourceType: 'Patient', id: 'p2', name: [{ family: 'Roe' }] };
const replacedRecord: JsonObject = { resourceType: 'Patient', id: 'p1-old', name: [{ family: 'Doe' }] };
const hospital: JsonObject = { resourceType: 'Organization', id: 'hosp', name: 'General Hospital' };
const lab: JsonObject = { resourceType: 'Organization', id: 'lab', name: 'Central Lab' };
const pcpClinic: JsonObject = { resourceType: 'Organization', id: 'pcp-clinic', name: 'Family Clinic' };
const icu: JsonObject = {
  resourceType: 'Location',
  id: 'icu',
  name: 'ICU',
  managingOrganization: { reference: 'Organization/hosp' },
};
const ward: JsonObject = { resourceType: 'Location', id: 'ward', name: 'Ward 3' };
const home: JsonObject = { resourceType: 'Location', id: 'rehab', name: 'Rehab Center' };
const practitioner = (id: string): JsonObject => ({
  resourceType: 'Practitioner',
  id,
  name: [{ family: id }],
});
const condition = (id: string, code: string): JsonObject => ({
  resourceType: 'Condition',
  id,
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code }] },
  subject: { reference: 'Patient/p1' },
  encounter: { reference: 'Encounter/e1' },
  asserter: { reference: 'Practitioner/dr-att' },
});
const admitDx = condition('c-ad', 'R07.9');
const dischargeDx = condition('c-dd', 'I21.4');
const otherPatientsCondition: JsonObject = {
  resourceType: 'Condition',
  id: 'c-p2',
  subject: { reference: 'Patient/p2' },
};
const coverage: JsonObject = {
  resourceType: 'Coverage',
  id: 'cov',
  beneficiary: { reference: 'Patient/p1' },
};

function participant(code: string, ref: string): JsonObject {
  return { type: [{ coding: [{ system: PARTICIPATION, code }] }], individual: { reference: ref } };
}

function diagnosis(ref: string, use: string): JsonObject {
  return { condition: { reference: ref }, use: { coding: [{ system: DIAGNOSIS_ROLE, code: use }] } };
}

function encounter(extra: JsonObject = {}): JsonObject {
  return {
    resourceType: 'Encounter',
    id: 'e1',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: 'Patient/p1' },
    participant: [participant('ATND', 'Practitioner/dr-att'), participant('ADM', 'Practitioner/dr-adm')],
    diagnosis: [diagnosis('Condition/c-ad', 'AD')],
    location: [{ location: { reference: 'Location/icu' }, status: 'active' }],
    serviceProvider: { reference: 'Organization/hosp' },
    ...extra,
  };
}

const store: readonly JsonObject[] = [
  patient,
  otherPatient,
  replacedRecord,
  hospital,
  lab,
  pcpClinic,
  icu,
  ward,
  home,
  practitioner('dr-att'),
  practitioner('dr-adm'),
  practitioner('dr-dis'),
  practitioner('pcp'),
  admitDx,
  dischargeDx,
  otherPatientsCondition,
  coverage,
];

function notice(kind: EventKind, focus: JsonObject, extra: Partial<NoticeContext> = {}): NoticeContext {
  return {
    noticeId: NOTICE,
    kind,
    correction: false,
    timestamp: '2026-03-01T10:15:00Z',
    baseUrl: BASE,
    destination: {
      endpoint: 'https://pcp.example.net/fhir/$process-message',
      receiver: 'Organization/pcp-clinic',
    },
    focus,
    resources: store,
    ...extra,
  };
}

function entries(bundle: JsonObject): { fullUrl: string; resource: JsonObject }[] {
  return bundle['entry'] as { fullUrl: string; resource: JsonObject }[];
}

function keys(bundle: JsonObject): string[] {
  return entries(bundle).map((e) => `${String(e.resource['resourceType'])}/${String(e.resource['id'])}`);
}

function header(bundle: JsonObject): JsonObject {
  const first = entries(bundle)[0]!.resource;
  expect(first['resourceType']).toBe('MessageHeader');
  return first;
}

/** Every `reference` anywhere in the bundle's resources. */
function referencesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesIn(v, out);
    }
  }
  return out;
}

/**
 * References resolve against the base of the entry's fullUrl (FHIR Bundle reference rules). The
 * one exception is Patient.link: it names another patient's record, which is never sent, and it is
 * a modifier element, so the Patient travels with it unchanged.
 */
function expectAllReferencesResolve(bundle: JsonObject): void {
  const fullUrls = new Set(entries(bundle).map((e) => e.fullUrl));
  const unresolved = entries(bundle).flatMap((e) =>
    referencesIn({
      ...e.resource,
      ...(e.resource['resourceType'] === 'Patient' ? { link: undefined } : {}),
    }).filter((ref) => !fullUrls.has(ref.startsWith('http') ? ref : `${FHIR}/${ref}`)),
  );
  expect(unresolved).toEqual([]);
}

function expectNoForeignRecords(bundle: JsonObject): void {
  const k = keys(bundle);
  for (const forbidden of ['Patient/p2', 'Patient/p1-old', 'Condition/c-p2', 'Coverage/cov']) {
    expect(k).not.toContain(forbidden);
  }
}

describe('notificationCodes', () => {
  it.each<[EventKind, boolean, string, string, string | undefined]>([
    [EventKind.Admit, false, DAVINCI_NOTIFICATION_EVENT_SYSTEM, 'notification-admit', undefined],
    [EventKind.EdArrival, false, DAVINCI_NOTIFICATION_EVENT_SYSTEM, 'notification-admit', 'ed-arrival'],
    [EventKind.Transfer, false, DAVINCI_NOTIFICATION_EVENT_SYSTEM, 'notification-transfer', undefined],
    [EventKind.Discharge, false, DAVINCI_NOTIFICATION_EVENT_SYSTEM, 'notification-discharge', undefined],
    [EventKind.Cancellation, false, ENGINE_NOTIFICATION_EVENT_SYSTEM, 'cancellation', undefined],
    [EventKind.Death, false, DAVINCI_NOTIFICATION_EVENT_SYSTEM, 'notification-vitals', 'death'],
    [
      EventKind.CriticalResult,
      false,
      DAVINCI_NOTIFICATION_EVENT_SYSTEM,
      'notification-lab-report',
      'critical-result',
    ],
    [
      EventKind.CriticalResult,
      true,
      DAVINCI_NOTIFICATION_EVENT_SYSTEM,
      'notification-lab-report',
      'result-correction',
    ],
  ])('%s (correction %s) → %s#%s', (kind, correction, system, code, reason) => {
    const codes = notificationCodes(kind, correction);
    expect(codes.eventCoding).toMatchObject({ system, code });
    expect(codes.eventCoding.display).not.toBe('');
    expect(codes.reason?.code).toBe(reason);
    if (codes.reason !== undefined) expect(codes.reason.system).toBe(ENGINE_NOTIFICATION_EVENT_SYSTEM);
  });

  it('defines every engine code it sends, once', () => {
    const defined = ENGINE_NOTIFICATION_CONCEPTS.map((c) => c.code);
    expect(new Set(defined).size).toBe(defined.length);
    const used = Object.values(EventKind).flatMap((k) =>
      [notificationCodes(k, false), notificationCodes(k, true)].flatMap((c) =>
        [c.eventCoding, c.reason].filter((x) => x?.system === ENGINE_NOTIFICATION_EVENT_SYSTEM),
      ),
    );
    for (const c of used) expect(defined).toContain(c?.code);
    for (const c of ENGINE_NOTIFICATION_CONCEPTS) expect(c.definition.length).toBeGreaterThan(20);
  });
});

describe('buildNotificationBundle', () => {
  it('admit: a message bundle with the header first and the Encounter as focus', () => {
    const bundle = buildNotificationBundle(notice(EventKind.Admit, encounter()));
    expect(bundle).toMatchObject({
      resourceType: 'Bundle',
      id: NOTICE,
      type: 'message',
      timestamp: '2026-03-01T10:15:00Z',
      identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${NOTICE}` },
    });
    const h = header(bundle);
    expect(h).toMatchObject({
      id: NOTICE,
      eventCoding: { system: DAVINCI_NOTIFICATION_EVENT_SYSTEM, code: 'notification-admit' },
      source: { endpoint: FHIR },
      destination: [
        {
          endpoint: 'https://pcp.example.net/fhir/$process-message',
          receiver: { reference: 'Organization/pcp-clinic' },
        },
      ],
      sender: { reference: 'Organization/hosp' },
      responsible: { reference: 'Organization/hosp' },
      author: { reference: 'Practitioner/dr-adm' },
      focus: [{ reference: 'Encounter/e1' }],
    });
    expect(h['reason']).toBeUndefined();
    expect(keys(bundle)[1]).toBe('Encounter/e1');
    expect(keys(bundle)).toEqual(
      expect.arrayContaining([
        'Patient/p1',
        'Practitioner/dr-att',
        'Practitioner/dr-adm',
        'Condition/c-ad',
        'Location/icu',
        'Organization/hosp',
        'Organization/pcp-clinic',
        'Practitioner/pcp',
      ]),
    );
    expectAllReferencesResolve(bundle);
    expectNoForeignRecords(bundle);
  });

  it('sends nothing the focus does not reference: no other patient, no unreferenced resource', () => {
    const bundle = buildNotificationBundle(notice(EventKind.Admit, encounter()));
    const k = keys(bundle);
    expect(k).not.toContain('Location/ward');
    expect(k).not.toContain('Practitioner/dr-dis');
    expect(k).not.toContain('Condition/c-dd');
    expect(k).not.toContain('Organization/lab');
    expectNoForeignRecords(bundle);
  });

  it('has unique fullUrls of the form base/fhir/Type/id, and each resource once', () => {
    const bundle = buildNotificationBundle(
      notice(EventKind.Admit, encounter(), { resources: [...store, ...store, encounter()] }),
    );
    const urls = entries(bundle).map((e) => e.fullUrl);
    expect(new Set(urls).size).toBe(urls.length);
    for (const e of entries(bundle)) {
      expect(e.fullUrl).toBe(`${FHIR}/${String(e.resource['resourceType'])}/${String(e.resource['id'])}`);
    }
  });

  it('discharge: carries the discharge diagnosis and the disposition, authored by the discharger', () => {
    const disposition = {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/discharge-disposition', code: 'rehab' }],
    };
    const discharged = encounter({
      status: 'finished',
      participant: [participant('ATND', 'Practitioner/dr-att'), participant('DIS', 'Practitioner/dr-dis')],
      diagnosis: [diagnosis('Condition/c-ad', 'AD'), diagnosis('Condition/c-dd', 'DD')],
      hospitalization: { dischargeDisposition: disposition, destination: { reference: 'Location/rehab' } },
    });
    const bundle = buildNotificationBundle(notice(EventKind.Discharge, discharged));
    expect(header(bundle)).toMatchObject({
      eventCoding: { code: 'notification-discharge' },
      author: { reference: 'Practitioner/dr-dis' },
    });
    expect(keys(bundle)).toEqual(expect.arrayContaining(['Condition/c-dd', 'Location/rehab']));
    const sent = entries(bundle)[1]!.resource;
    expect(sent).toMatchObject({ hospitalization: { dischargeDisposition: disposition } });
    expectAllReferencesResolve(bundle);
    expectNoForeignRecords(bundle);
  });

  it('transfer: includes both the old and the new location', () => {
    const moved = encounter({
      location: [
        { location: { reference: 'Location/ward' }, status: 'completed' },
        { location: { reference: 'Location/icu' }, status: 'active' },
      ],
    });
    const bundle = buildNotificationBundle(notice(EventKind.Transfer, moved));
    expect(header(bundle)).toMatchObject({
      eventCoding: { code: 'notification-transfer' },
      focus: [{ reference: 'Encounter/e1' }],
      author: { reference: 'Practitioner/dr-att' },
    });
    expect(keys(bundle)).toEqual(expect.arrayContaining(['Location/ward', 'Location/icu']));
    expectAllReferencesResolve(bundle);
  });

  it('ED arrival: the Da Vinci admit code, the engine code as reason, the EMER encounter as focus', () => {
    const ed = encounter({
      status: 'planned',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
    });
    const bundle = buildNotificationBundle(notice(EventKind.EdArrival, ed));
    expect(header(bundle)).toMatchObject({
      eventCoding: { system: DAVINCI_NOTIFICATION_EVENT_SYSTEM, code: 'notification-admit' },
      reason: { coding: [{ system: ENGINE_NOTIFICATION_EVENT_SYSTEM, code: 'ed-arrival' }] },
      focus: [{ reference: 'Encounter/e1' }],
    });
    expect(entries(bundle)[1]!.resource).toMatchObject({ class: { code: 'EMER' } });
    expectAllReferencesResolve(bundle);
  });

  it('critical result: the Observation is the focus; its encounter and performers travel with it', () => {
    const observation: JsonObject = {
      resourceType: 'Observation',
      id: 'o1',
      status: 'final',
      subject: { reference: 'Patient/p1' },
      encounter: { reference: 'Encounter/e1/_history/2' },
      performer: [{ reference: 'Organization/lab' }, { reference: 'Practitioner/dr-att' }],
      hasMember: [{ reference: 'Observation/o-p2' }],
      interpretation: [{ coding: [{ code: 'HH' }] }],
    };
    const mislinked: JsonObject = {
      resourceType: 'Observation',
      id: 'o-p2',
      subject: { reference: 'Patient/p2' },
    };
    const bundle = buildNotificationBundle(
      notice(EventKind.CriticalResult, observation, { resources: [...store, encounter(), mislinked] }),
    );
    expect(header(bundle)).toMatchObject({
      eventCoding: { code: 'notification-lab-report' },
      reason: { coding: [{ code: 'critical-result' }] },
      focus: [{ reference: 'Observation/o1' }],
      sender: { reference: 'Organization/lab' },
      author: { reference: 'Practitioner/dr-att' },
    });
    expect(keys(bundle)).toEqual(
      expect.arrayContaining(['Observation/o1', 'Patient/p1', 'Encounter/e1', 'Organization/lab']),
    );
    expect(keys(bundle)).not.toContain('Observation/o-p2');
    expectNoForeignRecords(bundle);
  });

  it('corrected result: the correction code as reason', () => {
    const observation: JsonObject = {
      resourceType: 'Observation',
      id: 'o1',
      status: 'corrected',
      subject: { reference: 'Patient/p1' },
    };
    const bundle = buildNotificationBundle(
      notice(EventKind.CriticalResult, observation, { correction: true }),
    );
    expect(header(bundle)).toMatchObject({ reason: { coding: [{ code: 'result-correction' }] } });
  });

  it('death without an encounter: the Patient is the focus and its organisation the sender', () => {
    const deceased = { ...patient, deceasedDateTime: '2026-03-01T09:00:00Z' };
    const bundle = buildNotificationBundle(notice(EventKind.Death, deceased));
    expect(header(bundle)).toMatchObject({
      eventCoding: { code: 'notification-vitals' },
      focus: [{ reference: 'Patient/p1' }],
      sender: { reference: 'Organization/hosp' },
    });
    expect(keys(bundle).filter((k) => k === 'Patient/p1')).toHaveLength(1);
    expectNoForeignRecords(bundle);
  });

  it('leaves sender out when the organisation was not read (the profile wants it bundled)', () => {
    const bundle = buildNotificationBundle(
      notice(EventKind.Admit, encounter(), { resources: store.filter((r) => r['id'] !== 'hosp') }),
    );
    expect(header(bundle)['sender']).toBeUndefined();
    expect(header(bundle)['responsible']).toBeUndefined();
  });

  it('is the same bundle, with the same identifier, on every retry of the same notice', () => {
    const a = buildNotificationBundle(notice(EventKind.Admit, encounter()));
    const b = buildNotificationBundle(notice(EventKind.Admit, encounter()));
    expect(b).toEqual(a);
    const other = buildNotificationBundle(
      notice(EventKind.Admit, encounter(), { noticeId: '0b7e6d1c-2f3a-4b5c-8d9e-a0b1c2d3e4f5' }),
    );
    expect(other['identifier']).not.toEqual(a['identifier']);
    expect(header(other)['id']).toBe('0b7e6d1c-2f3a-4b5c-8d9e-a0b1c2d3e4f5');
  });

  it('refuses a focus without an id', () => {
    expect(() => buildNotificationBundle(notice(EventKind.Admit, { resourceType: 'Encounter' }))).toThrow(
      /id/,
    );
  });
});

// ---- subscriptions ----

const TOPIC = SUBSCRIPTION_TOPICS.find((t) => t.url.endsWith('/encounter-start'))!.url;

function subscription(extra: JsonObject = {}, channel: JsonObject = {}): JsonObject {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'PCP admission alerts',
    end: '2027-01-01T00:00:00Z',
    criteria: TOPIC,
    _criteria: {
      extension: [{ url: FILTER_CRITERIA_EXTENSION, valueString: 'Encounter?patient=Patient/123' }],
    },
    channel: {
      type: 'rest-hook',
      endpoint: 'https://pcp.example.net/hooks/admissions',
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: 'full-resource' }] },
      header: ['Authorization: Bearer abc.def', 'X-Tenant: north'],
      extension: [
        { url: HEARTBEAT_PERIOD_EXTENSION, valueUnsignedInt: 3600 },
        { url: TIMEOUT_EXTENSION, valueUnsignedInt: 30 },
        { url: MAX_COUNT_EXTENSION, valuePositiveInt: 10 },
      ],
      ...channel,
    },
    ...extra,
  };
}

function filters(...values: string[]): JsonObject {
  return {
    _criteria: { extension: values.map((valueString) => ({ url: FILTER_CRITERIA_EXTENSION, valueString })) },
  };
}

describe('parseSubscription', () => {
  it('reads a good subscription', () => {
    const result = parseSubscription(subscription());
    expect(result).toEqual({
      ok: true,
      value: {
        status: 'requested',
        topic: TOPIC,
        filters: [{ resourceType: 'Encounter', parameter: 'patient', values: ['Patient/123'] }],
        endpoint: 'https://pcp.example.net/hooks/admissions',
        headers: [
          { name: 'Authorization', value: 'Bearer abc.def' },
          { name: 'X-Tenant', value: 'north' },
        ],
        payloadContent: 'full-resource',
        heartbeatSeconds: 3600,
        timeoutSeconds: 30,
        maxCount: 10,
        end: '2027-01-01T00:00:00Z',
      },
    });
  });

  it('defaults a missing payload to application/fhir+json with id-only content', () => {
    const result = parseSubscription(
      subscription(
        { end: undefined, _criteria: undefined },
        { payload: undefined, _payload: undefined, extension: [] },
      ),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.payloadContent).toBe('id-only');
    expect(result.value.filters).toEqual([]);
    expect(result.value).not.toHaveProperty('heartbeatSeconds');
    expect(result.value).not.toHaveProperty('end');
  });

  it('reads several values, several parameters and several filters', () => {
    const result = parseSubscription(
      subscription(
        filters(
          'Encounter?patient=Patient/1,Patient/2&organization=Organization/4',
          'Encounter?practitioner=Practitioner%2F9',
        ),
      ),
    );
    expect(result.ok && result.value.filters).toEqual([
      { resourceType: 'Encounter', parameter: 'patient', values: ['Patient/1', 'Patient/2'] },
      { resourceType: 'Encounter', parameter: 'organization', values: ['Organization/4'] },
      { resourceType: 'Encounter', parameter: 'practitioner', values: ['Practitioner/9'] },
    ]);
  });

  const https = { endpoint: 'https://pcp.example.net/hook' };
  it.each<[string, JsonObject, string]>([
    ['not a Subscription', { resourceType: 'Patient' }, 'Subscription'],
    ['status off on create', subscription({ status: 'off' }), 'Subscription.status'],
    ['status missing', subscription({ status: undefined }), 'Subscription.status'],
    ['criteria missing', subscription({ criteria: undefined }), 'Subscription.criteria'],
    [
      'classic R4 criteria',
      subscription({ criteria: 'Encounter?patient=Patient/1' }),
      'Subscription.criteria',
    ],
    [
      'unknown topic',
      subscription({ criteria: 'https://care-coordination.org/fhir/SubscriptionTopic/nope' }),
      'Subscription.criteria',
    ],
    [
      'filter on a resource type the topic does not have',
      subscription(filters('Observation?patient=Patient/1')),
      'Subscription.criteria.extension[0].value',
    ],
    [
      'filter parameter not allowed',
      subscription(filters('Encounter?status=finished')),
      'Subscription.criteria.extension[0].value',
    ],
    [
      'filter value not Type/id',
      subscription(filters('Encounter?patient=123')),
      'Subscription.criteria.extension[0].value',
    ],
    [
      'filter value of the wrong type',
      subscription(filters('Encounter?practitioner=Patient/1')),
      'Subscription.criteria.extension[0].value',
    ],
    [
      'filter without a query',
      subscription(filters('Encounter')),
      'Subscription.criteria.extension[0].value',
    ],
    [
      'filter badly escaped',
      subscription(filters('Encounter?patient=Patient%2')),
      'Subscription.criteria.extension[0].value',
    ],
    [
      'unknown extension on criteria',
      subscription({ _criteria: { extension: [{ url: 'http://example.org/x', valueString: 'a' }] } }),
      'Subscription.criteria.extension[0]',
    ],
    ['channel missing', subscription({ channel: undefined }), 'Subscription.channel'],
    ['websocket channel', subscription({}, { type: 'websocket' }), 'Subscription.channel.type'],
    ['relative endpoint', subscription({}, { endpoint: '/hooks/a' }), 'Subscription.channel.endpoint'],
    [
      'ftp endpoint',
      subscription({}, { endpoint: 'ftp://pcp.example.net/a' }),
      'Subscription.channel.endpoint',
    ],
    [
      'credentials in the endpoint',
      subscription({}, { endpoint: 'https://u:p@pcp.example.net/a' }),
      'Subscription.channel.endpoint',
    ],
    ['XML payload', subscription({}, { payload: 'application/fhir+xml' }), 'Subscription.channel.payload'],
    [
      'unknown payload content',
      subscription(
        {},
        { _payload: { extension: [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: 'everything' }] } },
      ),
      'Subscription.channel.payload.extension[0].value',
    ],
    [
      'full resources over plain http',
      subscription({}, { endpoint: 'http://pcp.example.net/hook' }),
      'Subscription.channel.payload.extension[0].value',
    ],
    [
      'heartbeat of zero',
      subscription({}, { ...https, extension: [{ url: HEARTBEAT_PERIOD_EXTENSION, valueUnsignedInt: 0 }] }),
      'Subscription.channel.extension[0].valueUnsignedInt',
    ],
    [
      'timeout not a number',
      subscription({}, { extension: [{ url: TIMEOUT_EXTENSION, valueUnsignedInt: '30' }] }),
      'Subscription.channel.extension[0].valueUnsignedInt',
    ],
    [
      'fractional max count',
      subscription({}, { extension: [{ url: MAX_COUNT_EXTENSION, valuePositiveInt: 1.5 }] }),
      'Subscription.channel.extension[0].valuePositiveInt',
    ],
    [
      'header without a colon',
      subscription({}, { header: ['Authorization'] }),
      'Subscription.channel.header[0]',
    ],
    [
      'header splitting the request',
      subscription({}, { header: ['X-Ok: yes', 'X-Bad: a\r\nHost: evil'] }),
      'Subscription.channel.header[1]',
    ],
    [
      'header the server sets',
      subscription({}, { header: ['Content-Type: text/plain'] }),
      'Subscription.channel.header[0]',
    ],
    ['header not a list', subscription({}, { header: 'X-A: b' }), 'Subscription.channel.header'],
    ['end without a zone', subscription({ end: '2027-01-01T00:00:00' }), 'Subscription.end'],
    ['end not a date', subscription({ end: 'tomorrow' }), 'Subscription.end'],
  ])('%s → an issue at %s', (_name, resource, expression) => {
    const result = parseSubscription(resource);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.expression)).toContain(expression);
    for (const issue of result.issues) expect(issue.message).not.toBe('');
  });

  it('reports every problem at once', () => {
    const result = parseSubscription(
      subscription({ status: 'off', criteria: 'nope' }, { type: 'email', endpoint: 'mailto:a@b.c' }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.expression)).toEqual(
      expect.arrayContaining([
        'Subscription.status',
        'Subscription.criteria',
        'Subscription.channel.type',
        'Subscription.channel.endpoint',
      ]),
    );
  });

  it('allows full resources over http to a loopback receiver (tests, a local relay)', () => {
    expect(parseSubscription(subscription({}, { endpoint: 'http://127.0.0.1:9000/hook' })).ok).toBe(true);
  });
});

describe('subscriptionMatches', () => {
  function parsed(topicName: string, ...criteria: string[]): ParsedSubscription {
    const url = SUBSCRIPTION_TOPICS.find((t) => t.url.endsWith(`/${topicName}`))!.url;
    const result = parseSubscription(subscription({ criteria: url, ...filters(...criteria) }));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return result.value;
  }
  const event = {
    kind: EventKind.Admit,
    patients: ['Patient/1'],
    practitioners: ['Practitioner/9'],
    organizations: ['Organization/4'],
  };

  it('matches only the kinds of its topic', () => {
    expect(subscriptionMatches(parsed('encounter-start'), event)).toBe(true);
    expect(subscriptionMatches(parsed('encounter-start'), { ...event, kind: EventKind.EdArrival })).toBe(
      true,
    );
    expect(subscriptionMatches(parsed('encounter-start'), { ...event, kind: EventKind.Discharge })).toBe(
      false,
    );
    expect(subscriptionMatches(parsed('encounter-end'), { ...event, kind: EventKind.Discharge })).toBe(true);
    for (const kind of Object.values(EventKind)) {
      expect(subscriptionMatches(parsed('all-notifications'), { ...event, kind })).toBe(true);
    }
  });

  it('requires a patient filter to name one of the event patients', () => {
    expect(subscriptionMatches(parsed('encounter-start', 'Encounter?patient=Patient/1'), event)).toBe(true);
    expect(subscriptionMatches(parsed('encounter-start', 'Encounter?patient=Patient/2'), event)).toBe(false);
  });

  it('treats several values of one parameter as alternatives', () => {
    expect(
      subscriptionMatches(parsed('encounter-start', 'Encounter?patient=Patient/2,Patient/1'), event),
    ).toBe(true);
    expect(
      subscriptionMatches(
        parsed('encounter-start', 'Encounter?patient=Patient/2', 'Encounter?patient=Patient/1'),
        event,
      ),
    ).toBe(true);
  });

  it('requires every parameter to hold', () => {
    const both = parsed(
      'encounter-start',
      'Encounter?patient=Patient/1',
      'Encounter?practitioner=Practitioner/9',
    );
    expect(subscriptionMatches(both, event)).toBe(true);
    expect(subscriptionMatches(both, { ...event, practitioners: ['Practitioner/8'] })).toBe(false);
    const org = parsed('encounter-start', 'Encounter?organization=Organization/5');
    expect(subscriptionMatches(org, event)).toBe(false);
  });
});

describe('capabilityTopicExtensions', () => {
  it('advertises every topic canonical once with the backport extension', () => {
    const extensions = capabilityTopicExtensions();
    expect(extensions).toHaveLength(SUBSCRIPTION_TOPICS.length);
    expect(TOPIC_CANONICAL_EXTENSION).toBe(
      'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical',
    );
    for (const e of extensions) expect(e['url']).toBe(TOPIC_CANONICAL_EXTENSION);
    const canonicals = extensions.map((e) => e['valueCanonical']);
    expect(new Set(canonicals).size).toBe(canonicals.length);
    expect(canonicals).toContain('https://care-coordination.org/fhir/SubscriptionTopic/all-notifications');
    for (const c of canonicals) {
      expect(String(c)).toMatch(/^https:\/\/care-coordination\.org\/fhir\/SubscriptionTopic\//);
    }
  });

  it('covers every event kind by some topic other than all-notifications', () => {
    const covered = SUBSCRIPTION_TOPICS.filter((t) => !t.url.endsWith('/all-notifications')).flatMap(
      (t) => t.eventKinds,
    );
    expect(new Set(covered)).toEqual(new Set(Object.values(EventKind)));
  });
});

// ---- notification bundles ----

const SUB = 'sub-1';
const BUNDLE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

function input(extra: Partial<SubscriptionBundleInput> = {}): SubscriptionBundleInput {
  return {
    subscriptionId: SUB,
    topic: TOPIC,
    status: 'active',
    type: 'event-notification',
    eventsSinceStart: 3,
    events: [
      {
        eventNumber: 3,
        timestamp: '2026-03-01T10:15:00Z',
        focus: 'Encounter/e1',
        additionalContext: ['Patient/p1'],
        resources: [encounter(), patient],
      },
    ],
    payloadContent: 'id-only',
    baseUrl: BASE,
    bundleId: BUNDLE,
    timestamp: '2026-03-01T10:15:02Z',
    ...extra,
  };
}

interface Parameter {
  name: string;
  valueString?: string;
  valueCode?: string;
  valueCanonical?: string;
  valueInstant?: string;
  valueReference?: { reference: string };
  valueCodeableConcept?: JsonObject;
  part?: Parameter[];
}

function statusOf(bundle: JsonObject): Parameter[] {
  const first = entries(bundle)[0]!;
  expect(first.resource['resourceType']).toBe('Parameters');
  expect(first.resource['meta']).toEqual({
    profile: [
      'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4',
    ],
  });
  return first.resource['parameter'] as Parameter[];
}

function param(params: Parameter[], name: string): Parameter | undefined {
  return params.find((p) => p.name === name);
}

describe('buildSubscriptionBundle', () => {
  it('handshake: a history bundle holding only the status, no events', () => {
    const bundle = buildSubscriptionBundle(
      input({ type: 'handshake', status: 'requested', eventsSinceStart: 0, events: [] }),
    );
    expect(bundle).toMatchObject({
      resourceType: 'Bundle',
      id: BUNDLE,
      type: 'history',
      timestamp: '2026-03-01T10:15:02Z',
      meta: {
        profile: [
          'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification-r4',
        ],
      },
    });
    expect(entries(bundle)).toHaveLength(1);
    expect(entries(bundle)[0]).toMatchObject({
      fullUrl: `urn:uuid:${BUNDLE}`,
      request: { method: 'GET', url: `${FHIR}/Subscription/${SUB}/$status` },
      response: { status: '200' },
    });
    const params = statusOf(bundle);
    expect(param(params, 'subscription')?.valueReference).toEqual({
      reference: `${FHIR}/Subscription/${SUB}`,
    });
    expect(param(params, 'status')?.valueCode).toBe('requested');
    expect(param(params, 'type')?.valueCode).toBe('handshake');
    expect(param(params, 'events-since-subscription-start')?.valueString).toBe('0');
    expect(param(params, 'notification-event')).toBeUndefined();
  });

  it('heartbeat: status and count, no events', () => {
    const bundle = buildSubscriptionBundle(input({ type: 'heartbeat', events: [], eventsSinceStart: 7 }));
    const params = statusOf(bundle);
    expect(param(params, 'type')?.valueCode).toBe('heartbeat');
    expect(param(params, 'events-since-subscription-start')?.valueString).toBe('7');
    expect(param(params, 'notification-event')).toBeUndefined();
    expect(entries(bundle)).toHaveLength(1);
  });

  it('refuses events on a notification type that carries none', () => {
    expect(() => buildSubscriptionBundle(input({ type: 'handshake' }))).toThrow(/handshake/);
    expect(() => buildSubscriptionBundle(input({ type: 'heartbeat' }))).toThrow(/heartbeat/);
  });

  it('id-only: event number, timestamp, focus and context references; entries without resources', () => {
    const bundle = buildSubscriptionBundle(input());
    const params = statusOf(bundle);
    expect(param(params, 'topic')?.valueCanonical).toBe(TOPIC);
    expect(param(params, 'type')?.valueCode).toBe('event-notification');
    expect(param(params, 'notification-event')?.part).toEqual([
      { name: 'event-number', valueString: '3' },
      { name: 'timestamp', valueInstant: '2026-03-01T10:15:00Z' },
      { name: 'focus', valueReference: { reference: `${FHIR}/Encounter/e1` } },
      { name: 'additional-context', valueReference: { reference: `${FHIR}/Patient/p1` } },
    ]);
    expect(entries(bundle).slice(1)).toEqual([
      { fullUrl: `${FHIR}/Encounter/e1`, request: { method: 'GET', url: 'Encounter/e1' } },
      { fullUrl: `${FHIR}/Patient/p1`, request: { method: 'GET', url: 'Patient/p1' } },
    ]);
  });

  it('empty: no resource references, no topic, no entries beyond the status', () => {
    const bundle = buildSubscriptionBundle(input({ payloadContent: 'empty' }));
    const params = statusOf(bundle);
    expect(param(params, 'topic')).toBeUndefined();
    const event = param(params, 'notification-event');
    expect(event?.part?.map((p) => p.name)).toEqual(['event-number', 'timestamp']);
    expect(entries(bundle)).toHaveLength(1);
  });

  it('full-resource: the focus and context resources travel in the bundle', () => {
    const bundle = buildSubscriptionBundle(input({ payloadContent: 'full-resource' }));
    const rest = entries(bundle).slice(1) as JsonObject[];
    expect(rest.map((e) => e['fullUrl'])).toEqual([`${FHIR}/Encounter/e1`, `${FHIR}/Patient/p1`]);
    expect(rest[0]).toMatchObject({
      resource: { resourceType: 'Encounter', id: 'e1' },
      response: { status: '200' },
    });
    expect(rest[1]).toMatchObject({ resource: { resourceType: 'Patient', id: 'p1' } });
    for (const e of rest) expect(e['request']).toBeDefined();
    expect(param(statusOf(bundle), 'notification-event')?.part).toContainEqual({
      name: 'focus',
      valueReference: { reference: `${FHIR}/Encounter/e1` },
    });
  });

  it('full-resource: an entry whose resource could not be read says so in its response', () => {
    const bundle = buildSubscriptionBundle(
      input({
        payloadContent: 'full-resource',
        events: [
          { eventNumber: 4, timestamp: '2026-03-01T10:16:00Z', focus: 'Encounter/gone', resources: [] },
        ],
      }),
    );
    expect(entries(bundle)[1]).toEqual({
      fullUrl: `${FHIR}/Encounter/gone`,
      request: { method: 'GET', url: 'Encounter/gone' },
      response: { status: '404' },
    });
  });

  it('several events: one notification-event each, shared resources once', () => {
    const bundle = buildSubscriptionBundle(
      input({
        eventsSinceStart: 5,
        events: [
          {
            eventNumber: 4,
            timestamp: '2026-03-01T10:15:00Z',
            focus: 'Encounter/e1',
            additionalContext: ['Patient/p1'],
          },
          {
            eventNumber: 5,
            timestamp: '2026-03-01T11:00:00Z',
            focus: 'Encounter/e2',
            additionalContext: ['Patient/p1'],
          },
        ],
      }),
    );
    const events = statusOf(bundle).filter((p) => p.name === 'notification-event');
    expect(events.map((e) => e.part?.[0]?.valueString)).toEqual(['4', '5']);
    expect(entries(bundle).map((e) => e.fullUrl)).toEqual([
      `urn:uuid:${BUNDLE}`,
      `${FHIR}/Encounter/e1`,
      `${FHIR}/Patient/p1`,
      `${FHIR}/Encounter/e2`,
    ]);
  });

  it('query-event ($events) carries events like an event notification', () => {
    const bundle = buildSubscriptionBundle(input({ type: 'query-event' }));
    expect(param(statusOf(bundle), 'type')?.valueCode).toBe('query-event');
    expect(param(statusOf(bundle), 'notification-event')).toBeDefined();
  });

  it('reports a subscription error as a coded concept when the code is known', () => {
    const coded = buildSubscriptionBundle(
      input({ type: 'heartbeat', events: [], status: 'error', error: 'no-response' }),
    );
    expect(param(statusOf(coded), 'error')?.valueCodeableConcept).toEqual({
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscription-error', code: 'no-response' }],
      text: 'no-response',
    });
    const text = buildSubscriptionBundle(
      input({ type: 'heartbeat', events: [], error: 'HTTP 503 from endpoint' }),
    );
    expect(param(statusOf(text), 'error')?.valueCodeableConcept).toEqual({ text: 'HTTP 503 from endpoint' });
  });
});

describe('$status', () => {
  it('one Parameters per subscription, type query-status, in a searchset', () => {
    const status = buildSubscriptionStatus({
      subscriptionId: SUB,
      topic: TOPIC,
      status: 'error',
      eventsSinceStart: 12,
      baseUrl: BASE,
      statusId: BUNDLE,
      error: 'error-response',
    });
    const params = status['parameter'] as Parameter[];
    expect(status).toMatchObject({ resourceType: 'Parameters', id: BUNDLE });
    expect(param(params, 'type')?.valueCode).toBe('query-status');
    expect(param(params, 'status')?.valueCode).toBe('error');
    expect(param(params, 'topic')?.valueCanonical).toBe(TOPIC);
    expect(param(params, 'events-since-subscription-start')?.valueString).toBe('12');
    expect(param(params, 'notification-event')).toBeUndefined();
    expect(param(params, 'error')?.valueCodeableConcept).toMatchObject({
      coding: [{ code: 'error-response' }],
    });

    const searchset = buildStatusSearchset([status], { bundleId: 'b-1', timestamp: '2026-03-01T12:00:00Z' });
    expect(searchset).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(entries(searchset)[0]).toMatchObject({
      fullUrl: `urn:uuid:${BUNDLE}`,
      resource: status,
      search: { mode: 'match' },
    });
  });
});
