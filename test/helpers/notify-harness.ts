/**
 * What the notification tests share: a real engine with a system client that may register
 * practices and read the delivery log, HL7 v2 messages carrying demographics and a PCP, practice
 * registration over /fhir, and loopback receivers; engines and receivers end after each test.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, expect } from 'vitest';
import { MllpTestClient } from './mllp-test-client';
import {
  startNoticeReceiver,
  type NoticeReceiver,
  type ReceivedNotice,
  type Script,
} from './notice-receiver';
import { createSystemClient, type SystemClient } from './system-client';
import {
  dropEngineData,
  startTestEngine,
  waitFor,
  type TestEngine,
  type TestEngineOptions,
} from './test-engine';

export const NOTIFY_SCOPES =
  'system/*.rs system/Organization.cud system/Endpoint.cud system/PractitionerRole.cud system/Practitioner.cud ' +
  'system/Subscription.cud system/Group.cud system/Delivery.rs system/Delivery.u system/Communication.u system/Message.u';

export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
/** The PCP of mappings/tests/adt-a01.hl7 (PD1-4 and ROL PP). */
export const PCP_NPI = '1234567893';
export const OTHER_NPI = '1497758544';
export const DAVINCI_EVENT_SYSTEM = 'http://hl7.org/fhir/us/davinci-alerts/CodeSystem/notification-event';
export const ENGINE_EVENT_SYSTEM = 'https://care-coordination.org/fhir/CodeSystem/notification-event';
export const WEBHOOK_SECRET_EXTENSION =
  'https://care-coordination.org/fhir/StructureDefinition/webhook-secret';

/** A mappings/tests example with its MSH-10 replaced. */
export const example = (name: string, controlId: string): string =>
  readFileSync(`mappings/tests/${name}.hl7`, 'utf8').replace(
    /^(MSH(?:\|[^|\r\n]*){8}\|)[^|\r\n]*/,
    `$1${controlId}`,
  );

export interface Demo {
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

export const demo = (o: Partial<Demo> & Pick<Demo, 'mrn' | 'family' | 'phone'>): Demo => ({
  facility: 'MERCY',
  given: 'William',
  dob: '19800214',
  sex: 'M',
  street: '12 Oak Lane',
  zip: '62701',
  ...o,
});

let controlSeq = 0;
let minute = 0;

/** Event times that only go forward, so every message is newer than what the store holds. */
export function nextTime(): string {
  minute++;
  const d = new Date(Date.UTC(2024, 4, 6, 8, 0) + minute * 60_000);
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 12)}00+0000`;
}

/** A unique MSH-10 (process-wide, so files running in one worker never collide). */
export const nextControlId = (prefix = 'NT'): string => `${prefix}${process.pid}-${++controlSeq}`;

function segment(name: string, fields: Readonly<Record<number, string>>): string {
  const last = Math.max(0, ...Object.keys(fields).map(Number));
  const out = [name];
  for (let i = 1; i <= last; i++) out.push(fields[i] ?? '');
  return out.join('|');
}

const STRUCTURE: Readonly<Record<string, string>> = {
  A02: 'ADT_A02',
  A03: 'ADT_A03',
  A11: 'ADT_A09',
  A12: 'ADT_A12',
};

export interface AdtOptions {
  /** @defaultValue A01 */
  readonly event?: string;
  readonly controlId?: string;
  readonly time?: string;
  /** PD1-4: the PCP's NPI. */
  readonly pcpNpi?: string;
  /** PV1-2. @defaultValue I (E for A04) */
  readonly patientClass?: string;
  /** PV1-3 as point of care^room^bed. @defaultValue 4W^401^B */
  readonly location?: string;
  /** PV1-6. */
  readonly priorLocation?: string;
  /** PV1-19 without its authority. @defaultValue V<mrn> */
  readonly visit?: string;
  /** PV1-36 (HL7 0112, e.g. 01 home). */
  readonly disposition?: string;
  /** PV1-44 (HL7 time). */
  readonly admitTime?: string;
  /** PV1-45 (HL7 time). */
  readonly dischargeTime?: string;
  /** PID-29 (HL7 time), with PID-30 Y. */
  readonly deceasedAt?: string;
}

/** An ADT message for `p` at `p.facility`. */
export function adt(p: Demo, o: AdtOptions = {}): string {
  const event = o.event ?? 'A01';
  const time = o.time ?? nextTime();
  const f = p.facility;
  const pv1: Record<number, string> = {
    1: '1',
    2: o.patientClass ?? (event === 'A04' ? 'E' : 'I'),
    3: `${o.location ?? '4W^401^B'}^${f}`,
    7: '1111111111^House^Gregory^^^Dr^^^^^^^NPI',
    10: 'MED',
    19: `${o.visit ?? `V${p.mrn}`}^^^${f}^VN`,
  };
  if (o.priorLocation !== undefined) pv1[6] = `${o.priorLocation}^${f}`;
  if (o.disposition !== undefined) pv1[36] = o.disposition;
  if (o.admitTime !== undefined) pv1[44] = o.admitTime;
  if (o.dischargeTime !== undefined) pv1[45] = o.dischargeTime;
  return [
    `MSH|^~\\&|EPIC|${f}|CARE|CARE|${time}||ADT^${event}^${STRUCTURE[event] ?? 'ADT_A01'}|${o.controlId ?? nextControlId()}|P|2.5.1`,
    `EVN|${event}|${time}`,
    segment('PID', {
      1: '1',
      3: `${p.mrn}^^^${f}^MR`,
      5: `${p.family}^${p.given}^Q`,
      7: p.dob,
      8: p.sex,
      11: `${p.street}^^Springfield^IL^${p.zip}`,
      13: `^PRN^PH^^1^217^${p.phone}`,
      ...(o.deceasedAt !== undefined ? { 29: o.deceasedAt, 30: 'Y' } : {}),
    }),
    ...(o.pcpNpi !== undefined ? [`PD1|||Mercy Clinic|${o.pcpNpi}^Welby^Marcus^^^Dr^MD^^^^^^NPI`] : []),
    segment('PV1', pv1),
  ].join('\r');
}

export interface ResultLine {
  /** LOINC code^text. @defaultValue 2823-3^Potassium */
  readonly code?: string;
  readonly value: string;
  /** OBX-8, e.g. HH. */
  readonly flag?: string;
  /** OBX-11: F final, C corrected. @defaultValue F */
  readonly status?: string;
}

/** An ORU^R01 for `p` with one order (`order` is its placer number) and the given results. */
export function oru(
  p: Demo,
  order: string,
  results: readonly ResultLine[],
  o: { controlId?: string } = {},
): string {
  const time = nextTime();
  const f = p.facility;
  return [
    `MSH|^~\\&|LAB|${f}|CARE|CARE|${time}||ORU^R01^ORU_R01|${o.controlId ?? nextControlId('NR')}|P|2.5.1`,
    `PID|1||${p.mrn}^^^${f}^MR||${p.family}^${p.given}^Q||${p.dob}|${p.sex}`,
    segment('PV1', { 1: '1', 2: 'I', 3: `4W^401^B^${f}`, 19: `V${p.mrn}^^^${f}^VN` }),
    `ORC|RE|${order}|F${order}`,
    `OBR|1|${order}^${f}|F${order}^${f}LAB|24323-8^Comprehensive metabolic panel^LN|||${time}|||||||||1111111111^House^Gregory^^^Dr^^^^^^^NPI||||||${time}||CH|F`,
    ...results.map((r, i) =>
      segment('OBX', {
        1: String(i + 1),
        2: 'NM',
        3: `${r.code ?? '2823-3^Potassium'}^LN`,
        5: r.value,
        6: 'mmol/L',
        7: '3.5-5.1',
        8: r.flag ?? '',
        11: r.status ?? 'F',
        14: time,
      }),
    ),
  ].join('\r');
}

export interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface AttemptView {
  readonly attempt: number;
  readonly startedAt: string;
  readonly latencyMs: number | null;
  readonly statusCode: number | null;
  readonly outcome: 'delivered' | 'retry' | 'failed';
  readonly error: string | null;
}

export interface DeliveryView {
  readonly id: string;
  readonly noticeId: string;
  readonly event: { key: string; kind: string; focus: string; correction: boolean };
  readonly patient: string | null;
  readonly channel: 'davinci' | 'webhook' | 'subscription' | 'inbox';
  readonly target: string;
  readonly reasons: { source: string; practitioner?: string; via: string }[];
  readonly eventNumber?: number;
  readonly status: 'pending' | 'delivered' | 'retrying' | 'failed';
  readonly attempts: number;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly log: AttemptView[];
}

export interface OutboxView {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly patient: string | null;
  readonly payload: Record<string, unknown>;
  readonly detail: Record<string, unknown> | null;
}

export interface NotifyEngine {
  readonly engine: TestEngine;
  readonly client: SystemClient;
  readonly token: string;
  readonly base: string;
  fhir(method: string, path: string, body?: unknown): Promise<Reply>;
  /** An /api call; a string body is sent as text/csv. */
  api(method: string, path: string, body?: unknown): Promise<Reply>;
  /** Sends over MLLP, one connection; returns the ACK codes. */
  send(...texts: string[]): Promise<string[]>;
  /** Sends one message and waits until it is processed; returns its archive id. */
  sendProcessed(text: string): Promise<string>;
  /** The Patient id of a facility's MRN. */
  patientId(p: Pick<Demo, 'facility' | 'mrn'>): Promise<string>;
  personOf(patientId: string): Promise<string | undefined>;
  /** The delivery log, newest first, through /api/deliveries. */
  deliveries(query?: Record<string, string>): Promise<DeliveryView[]>;
  delivery(id: string): Promise<DeliveryView>;
  /** Outbox rows of a message (or all), oldest first. */
  outbox(messageId?: string): Promise<OutboxView[]>;
  /** Waits until no outbox row of the message is pending; returns them. */
  settledOutbox(messageId: string): Promise<OutboxView[]>;
}

export interface SetupOptions extends Omit<TestEngineOptions, 'env'> {
  readonly env?: Record<string, string>;
}

export interface NotifyHarness {
  setup(o?: SetupOptions): Promise<NotifyEngine>;
  receiver(script?: Script, port?: number): Promise<NoticeReceiver>;
  /** Stops an engine now; its data is dropped after the test (a restart reuses it). */
  stopKeepingData(s: NotifyEngine): Promise<void>;
}

/**
 * Registers the cleanup in the calling file and returns the factories.
 * @param scope - `each`: engines and receivers end after each test; `all`: after the file's
 *   tests (for tests that share one engine made in `beforeAll`).
 */
export function useNotifyHarness(scope: 'each' | 'all' = 'each'): NotifyHarness {
  const engines: TestEngine[] = [];
  const receivers: NoticeReceiver[] = [];
  (scope === 'each' ? afterEach : afterAll)(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    // Engines of one restart share a schema: all stop before any data is dropped.
    const stopped = engines.splice(0);
    await Promise.all(stopped.map((e) => e.stop()));
    const data = new Map(stopped.map((e) => [e.schema, e.prefix]));
    for (const [schema, prefix] of data) await dropEngineData(schema, prefix);
  });
  return {
    async setup(o = {}) {
      const client = await createSystemClient(NOTIFY_SCOPES);
      const engine = await startTestEngine({
        ...o,
        env: {
          SMART_CLIENTS_FILE: client.clientsFile,
          ENDPOINT_ALLOWED_HOSTS: '127.0.0.1',
          NOTIFY_RETRY_BASE_MS: '100',
          NOTIFY_RETRY_MAX_MS: '1000',
          ...o.env,
        },
      });
      engines.push(engine);
      const base = engine.config.http.publicUrl;
      const token = engine.httpPort === 0 ? '' : await client.token(base, NOTIFY_SCOPES);
      return harnessFor(engine, client, token);
    },
    async receiver(script, port) {
      const r = await startNoticeReceiver(script, port);
      receivers.push(r);
      return r;
    },
    async stopKeepingData(s) {
      // Stopping twice is harmless: the engine's undo steps run once.
      await s.engine.stop();
    },
  };
}

async function call(url: string, token: string, method: string, body: unknown, type: string): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function harnessFor(engine: TestEngine, client: SystemClient, token: string): NotifyEngine {
  const base = engine.config.http.publicUrl;
  const db = engine.db;
  const outbox = async (messageId?: string): Promise<OutboxView[]> =>
    db.query<OutboxView>(
      `SELECT id::text AS id, kind, status, patient_key AS patient, payload, detail FROM outbox
        WHERE $1::bigint IS NULL OR message_id = $1 ORDER BY id`,
      [messageId ?? null],
    );
  const s: NotifyEngine = {
    engine,
    client,
    token,
    base,
    fhir: (method, path, body) => call(`${base}${path}`, token, method, body, 'application/fhir+json'),
    api: (method, path, body) =>
      call(`${base}${path}`, token, method, body, typeof body === 'string' ? 'text/csv' : 'application/json'),
    async send(...texts) {
      const mllp = await MllpTestClient.connect(engine.mllpPort);
      const codes: string[] = [];
      for (const t of texts) codes.push((await mllp.send(t)).code ?? '?');
      mllp.close();
      return codes;
    },
    async sendProcessed(text) {
      const mllp = await MllpTestClient.connect(engine.mllpPort);
      const ack = await mllp.send(text);
      mllp.close();
      expect(ack.code).toBe('AA');
      let row: { id: string; status: string } | undefined;
      await waitFor(
        async () => {
          [row] = await db.query<{ id: string; status: string }>(
            `SELECT id::text AS id, status FROM messages WHERE control_id = $1 AND status <> 'received'
              ORDER BY id DESC LIMIT 1`,
            [ack.controlId],
          );
          return row !== undefined;
        },
        20_000,
        `message ${ack.controlId ?? '?'} processed`,
      );
      expect(row?.status).toBe('processed');
      return row?.id ?? '';
    },
    async patientId(p) {
      const rows = await db.query<{ id: string }>(
        `SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND resource->'identifier' @> $1::jsonb`,
        [JSON.stringify([{ system: `urn:care:id:${p.facility}`, value: p.mrn }])],
      );
      expect(rows, `Patient ${p.facility}|${p.mrn}`).toHaveLength(1);
      return rows[0]?.id ?? '';
    },
    async personOf(patientId) {
      const [row] = await db.query<{ person_id: string }>(
        `SELECT person_id::text AS person_id FROM identity_records WHERE patient_id = $1`,
        [patientId],
      );
      return row?.person_id;
    },
    async deliveries(query = {}) {
      const q = new URLSearchParams({ _count: '500', ...query }).toString();
      const reply = await s.api('GET', `/api/deliveries?${q}`);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body['deliveries'] as DeliveryView[];
    },
    async delivery(id) {
      const reply = await s.api('GET', `/api/deliveries/${id}`);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body as unknown as DeliveryView;
    },
    outbox,
    async settledOutbox(messageId) {
      let rows: OutboxView[] = [];
      await waitFor(
        async () => {
          rows = await outbox(messageId);
          return rows.every((r) => r.status !== 'pending');
        },
        20_000,
        `outbox of message ${messageId} settled`,
      );
      return rows;
    },
  };
  return s;
}

export interface Practice {
  readonly endpoint: string;
  readonly role: string;
  readonly organization: string;
}

export interface PracticeOptions {
  /** @defaultValue PCP_NPI */
  readonly npi?: string;
  /** @defaultValue davinci */
  readonly channel?: 'davinci' | 'webhook';
  /** The webhook signing secret (webhook channel). */
  readonly secret?: string;
  /** The Endpoint on the role rather than on the Organization. */
  readonly onRole?: boolean;
}

/** The Endpoint resource a practice registers. */
export function endpointResource(address: string, o: PracticeOptions = {}): Record<string, unknown> {
  const webhook = o.channel === 'webhook';
  return {
    resourceType: 'Endpoint',
    status: 'active',
    connectionType: webhook
      ? { system: 'https://care-coordination.org/fhir/CodeSystem/endpoint-connection-type', code: 'webhook' }
      : { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-msg' },
    payloadType: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' }] },
    ],
    address,
    ...(o.secret !== undefined
      ? { extension: [{ url: WEBHOOK_SECRET_EXTENSION, valueString: o.secret }] }
      : {}),
  };
}

/** Registers a practice: Organization, an Endpoint at `address`, and a role for the NPI. */
export async function registerPractice(
  s: NotifyEngine,
  address: string,
  o: PracticeOptions = {},
): Promise<Practice> {
  const endpoint = await s.fhir('POST', '/fhir/Endpoint', endpointResource(address, o));
  expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
  const endpointRef = { reference: `Endpoint/${String(endpoint.body['id'])}` };
  const org = await s.fhir('POST', '/fhir/Organization', {
    resourceType: 'Organization',
    name: 'Mercy Clinic',
    ...(o.onRole === true ? {} : { endpoint: [endpointRef] }),
  });
  expect(org.status, JSON.stringify(org.body)).toBe(201);
  const role = await s.fhir('POST', '/fhir/PractitionerRole', {
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { identifier: { system: NPI_SYSTEM, value: o.npi ?? PCP_NPI } },
    organization: { reference: `Organization/${String(org.body['id'])}` },
    ...(o.onRole === true ? { endpoint: [endpointRef] } : {}),
  });
  expect(role.status, JSON.stringify(role.body)).toBe(201);
  return {
    endpoint: endpointRef.reference,
    role: `PractitionerRole/${String(role.body['id'])}`,
    organization: `Organization/${String(org.body['id'])}`,
  };
}

export interface MessageBundle {
  readonly bundle: Record<string, unknown>;
  readonly header: Record<string, unknown>;
  readonly resources: Record<string, unknown>[];
  /** The first entry of a type after the header. */
  readonly find: (type: string) => Record<string, unknown> | undefined;
}

/** A Da Vinci notification as the receiver got it. */
export function messageBundle(notice: ReceivedNotice | undefined): MessageBundle {
  const bundle = notice?.json() ?? {};
  const resources = ((bundle['entry'] as { resource: Record<string, unknown> }[] | undefined) ?? []).map(
    (e) => e.resource,
  );
  return {
    bundle,
    header: resources[0] ?? {},
    resources,
    find: (type) => resources.slice(1).find((r) => r['resourceType'] === type),
  };
}

/** Waits until the log has a delivery matching `where` (a filter over the list); returns it. */
export async function waitForDelivery(
  s: NotifyEngine,
  query: Record<string, string>,
  where: (d: DeliveryView) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<DeliveryView> {
  let found: DeliveryView | undefined;
  await waitFor(
    async () => {
      found = (await s.deliveries(query)).find(where);
      return found !== undefined;
    },
    timeoutMs,
    what,
  );
  return found as DeliveryView;
}

/** Polls a condition the test can read without I/O (what a receiver got). */
export const waitUntil = (check: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> =>
  waitFor(() => Promise.resolve(check()), timeoutMs, what);

/** Lets the engine run on, so that what should not happen has had its chance to. */
export const settle = (ms = 1_000): Promise<void> => new Promise((r) => setTimeout(r, ms));
