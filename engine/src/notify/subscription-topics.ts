/**
 * The topic-based subscriptions (FHIR Subscriptions R4 Backport STU 1.1) a PCP system may create:
 * the topics the engine offers, how a POSTed Subscription is checked against them, and whether an
 * event matches one. R4 has no SubscriptionTopic resource, so the topics live here and are
 * advertised in the CapabilityStatement.
 */
import { EventKind } from './derive-events';
import type { JsonObject } from '../store/fhir-json';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const BACKPORT_SUBSCRIPTION_PROFILE = `${BACKPORT}/backport-subscription`;
export const FILTER_CRITERIA_EXTENSION = `${BACKPORT}/backport-filter-criteria`;
export const PAYLOAD_CONTENT_EXTENSION = `${BACKPORT}/backport-payload-content`;
export const HEARTBEAT_PERIOD_EXTENSION = `${BACKPORT}/backport-heartbeat-period`;
export const TIMEOUT_EXTENSION = `${BACKPORT}/backport-timeout`;
export const MAX_COUNT_EXTENSION = `${BACKPORT}/backport-max-count`;
/** Its context is CapabilityStatement.rest.resource: it goes on the Subscription resource entry. */
export const TOPIC_CANONICAL_EXTENSION = `${BACKPORT}/capabilitystatement-subscriptiontopic-canonical`;

const TOPIC_BASE = 'https://care-coordination.org/fhir/SubscriptionTopic';
const FHIR_JSON = 'application/fhir+json';

export const FILTER_PARAMETERS = ['patient', 'practitioner', 'organization'] as const;
export type FilterParameter = (typeof FILTER_PARAMETERS)[number];
const FILTER_TARGET: Readonly<Record<FilterParameter, string>> = {
  patient: 'Patient',
  practitioner: 'Practitioner',
  organization: 'Organization',
};

export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
const PAYLOAD_CONTENTS: readonly PayloadContent[] = ['empty', 'id-only', 'full-resource'];

export interface SubscriptionTopicDefinition {
  readonly url: string;
  readonly title: string;
  readonly eventKinds: readonly EventKind[];
  /** Resource types a notification focus may have; a filter (`Type?param=value`) names one of them. */
  readonly resourceTypes: readonly string[];
  readonly filterParameters: readonly FilterParameter[];
}

const ENCOUNTER = ['Encounter'];
const RESULT = ['Observation', 'DiagnosticReport'];

function topic(
  name: string,
  title: string,
  eventKinds: readonly EventKind[],
  resourceTypes: readonly string[],
): SubscriptionTopicDefinition {
  return {
    url: `${TOPIC_BASE}/${name}`,
    title,
    eventKinds,
    resourceTypes,
    filterParameters: FILTER_PARAMETERS,
  };
}

/** The topics the engine offers, one per event family plus one for everything. */
export const SUBSCRIPTION_TOPICS: readonly SubscriptionTopicDefinition[] = [
  topic(
    'encounter-start',
    'Admission or emergency arrival',
    [EventKind.Admit, EventKind.EdArrival],
    ENCOUNTER,
  ),
  topic('encounter-transfer', 'Transfer to another location', [EventKind.Transfer], ENCOUNTER),
  topic('encounter-end', 'Discharge', [EventKind.Discharge], ENCOUNTER),
  topic(
    'encounter-cancel',
    'Admission, transfer or discharge cancelled',
    [EventKind.Cancellation],
    ENCOUNTER,
  ),
  // A death during a stay is about its Encounter; one reported alone, about the Patient.
  topic('patient-death', 'Patient death', [EventKind.Death], ['Patient', 'Encounter']),
  topic('critical-result', 'Critical result or its correction', [EventKind.CriticalResult], RESULT),
  topic('all-notifications', 'Every notification', Object.values(EventKind), [
    'Encounter',
    'Patient',
    ...RESULT,
  ]),
];

/** The topic with this canonical URL (a `|version` suffix is ignored). */
export function findTopic(canonical: string): SubscriptionTopicDefinition | undefined {
  const url = canonical.split('|')[0];
  return SUBSCRIPTION_TOPICS.find((t) => t.url === url);
}

/** Extensions for the Subscription entry of CapabilityStatement.rest[0].resource, one per topic. */
export function capabilityTopicExtensions(): JsonObject[] {
  return SUBSCRIPTION_TOPICS.map((t) => ({ url: TOPIC_CANONICAL_EXTENSION, valueCanonical: t.url }));
}

export interface SubscriptionFilter {
  readonly resourceType: string;
  readonly parameter: FilterParameter;
  /** `Type/id` references; any one matching satisfies the filter. */
  readonly values: readonly string[];
}

export interface SubscriptionHeader {
  readonly name: string;
  readonly value: string;
}

export interface ParsedSubscription {
  readonly status: 'requested' | 'active';
  readonly topic: string;
  readonly filters: readonly SubscriptionFilter[];
  readonly endpoint: string;
  readonly headers: readonly SubscriptionHeader[];
  readonly payloadContent: PayloadContent;
  readonly heartbeatSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly maxCount?: number;
  /** ISO instant after which the subscription ends. */
  readonly end?: string;
}

export interface SubscriptionIssue {
  /** FHIRPath of the offending element, e.g. `Subscription.channel.endpoint`. */
  readonly expression: string;
  readonly message: string;
}

export type SubscriptionParseResult =
  | { readonly ok: true; readonly value: ParsedSubscription }
  | { readonly ok: false; readonly issues: SubscriptionIssue[] };

function obj(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers the delivery sets itself; a subscriber overriding them would break the request. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
]);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Collects issues so a client learns every problem in one response. */
class Issues {
  readonly list: SubscriptionIssue[] = [];
  add(expression: string, message: string): void {
    this.list.push({ expression, message });
  }
}

function parseFilter(
  raw: unknown,
  expression: string,
  topic: SubscriptionTopicDefinition | undefined,
  issues: Issues,
): SubscriptionFilter[] {
  if (typeof raw !== 'string' || raw === '') {
    issues.add(expression, 'filter criteria must be a string like Encounter?patient=Patient/123');
    return [];
  }
  const [resourceType = '', query, ...rest] = raw.split('?');
  if (query === undefined || query === '' || rest.length > 0) {
    issues.add(expression, `"${raw}" is not of the form Type?param=value`);
    return [];
  }
  if (topic !== undefined && !topic.resourceTypes.includes(resourceType)) {
    issues.add(
      expression,
      `topic ${topic.url} filters on ${topic.resourceTypes.join(', ')}, not "${resourceType}"`,
    );
  }
  const out: SubscriptionFilter[] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const parameter = FILTER_PARAMETERS.find((p) => p === name);
    if (parameter === undefined) {
      issues.add(expression, `"${name}" is not a filter parameter; use ${FILTER_PARAMETERS.join(', ')}`);
      continue;
    }
    const values = eq < 0 ? [] : decodeValues(pair.slice(eq + 1));
    const target = FILTER_TARGET[parameter];
    const bad = values?.filter((v) => !(v.startsWith(`${target}/`) && ID.test(v.slice(target.length + 1))));
    if (values === undefined || values.length === 0 || bad === undefined || bad.length > 0) {
      issues.add(expression, `${parameter} needs ${target}/<id> references, got "${pair}"`);
      continue;
    }
    out.push({ resourceType, parameter, values });
  }
  return out;
}

/** The alternatives of a search value (FHIR search: a comma means OR); undefined if badly escaped. */
function decodeValues(encoded: string): string[] | undefined {
  try {
    return encoded.split(',').map((v) => decodeURIComponent(v));
  } catch {
    return undefined;
  }
}

function parseCriteria(
  resource: JsonObject,
  issues: Issues,
): { topic: string; filters: SubscriptionFilter[] } {
  const criteria = resource['criteria'];
  let found: SubscriptionTopicDefinition | undefined;
  if (typeof criteria !== 'string' || criteria === '') {
    issues.add('Subscription.criteria', 'criteria must be the canonical URL of a subscription topic');
  } else {
    found = findTopic(criteria);
    if (found === undefined) {
      issues.add(
        'Subscription.criteria',
        `"${criteria}" is not a topic of this server; see CapabilityStatement (${SUBSCRIPTION_TOPICS.map((t) => t.url).join(', ')})`,
      );
    }
  }
  const filters: SubscriptionFilter[] = [];
  list(obj(resource['_criteria'])?.['extension']).forEach((ext, i) => {
    const expression = `Subscription.criteria.extension[${i}]`;
    if (obj(ext)?.['url'] !== FILTER_CRITERIA_EXTENSION) {
      // An ignored narrowing extension would widen the stream silently.
      issues.add(expression, `unsupported extension on criteria; only ${FILTER_CRITERIA_EXTENSION}`);
      return;
    }
    filters.push(...parseFilter(obj(ext)?.['valueString'], `${expression}.value`, found, issues));
  });
  return { topic: found?.url ?? '', filters };
}

/** The one value of a channel extension, or undefined when absent. */
function channelNumber(
  channel: JsonObject | undefined,
  url: string,
  valueKey: string,
  name: string,
  issues: Issues,
): number | undefined {
  const matches = list(channel?.['extension']).flatMap((e, i) => (obj(e)?.['url'] === url ? [{ e, i }] : []));
  const first = matches[0];
  if (first === undefined) return undefined;
  const expression = `Subscription.channel.extension[${first.i}]`;
  if (matches.length > 1) issues.add(expression, `${name} is given more than once`);
  const value = obj(first.e)?.[valueKey];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    issues.add(`${expression}.${valueKey}`, `${name} must be a whole number of at least 1`);
    return undefined;
  }
  return value;
}

function parseEndpoint(channel: JsonObject | undefined, issues: Issues): URL | undefined {
  const endpoint = channel?.['endpoint'];
  let url: URL | undefined;
  try {
    url = typeof endpoint === 'string' ? new URL(endpoint) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    issues.add('Subscription.channel.endpoint', 'endpoint must be an absolute http or https URL');
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    issues.add('Subscription.channel.endpoint', 'put credentials in channel.header, not in the endpoint URL');
    return undefined;
  }
  return url;
}

function parsePayload(
  channel: JsonObject | undefined,
  endpoint: URL | undefined,
  issues: Issues,
): PayloadContent {
  const mime = channel?.['payload'];
  if (mime !== undefined && (typeof mime !== 'string' || mime.split(';')[0]?.trim() !== FHIR_JSON)) {
    issues.add('Subscription.channel.payload', `payload must be ${FHIR_JSON}`);
  }
  const contents = list(obj(channel?.['_payload'])?.['extension']).flatMap((e, i) =>
    obj(e)?.['url'] === PAYLOAD_CONTENT_EXTENSION ? [{ e, i }] : [],
  );
  const first = contents[0];
  if (first === undefined) return 'id-only';
  const expression = `Subscription.channel.payload.extension[${first.i}]`;
  if (contents.length > 1) issues.add(expression, 'payload content is given more than once');
  const code = PAYLOAD_CONTENTS.find((c) => c === obj(first.e)?.['valueCode']);
  if (code === undefined) {
    issues.add(`${expression}.value`, `payload content must be one of ${PAYLOAD_CONTENTS.join(', ')}`);
    return 'id-only';
  }
  // Full resources are PHI: the guide lets a server refuse them over plain HTTP.
  if (code === 'full-resource' && endpoint?.protocol === 'http:' && !LOOPBACK_HOSTS.has(endpoint.hostname)) {
    issues.add(`${expression}.value`, 'full-resource payloads need an https endpoint');
  }
  return code;
}

function parseHeaders(channel: JsonObject | undefined, issues: Issues): SubscriptionHeader[] {
  const raw = channel?.['header'];
  if (raw !== undefined && !Array.isArray(raw)) {
    issues.add('Subscription.channel.header', 'header must be a list of "Name: value" strings');
    return [];
  }
  const out: SubscriptionHeader[] = [];
  list(raw).forEach((h, i) => {
    const expression = `Subscription.channel.header[${i}]`;
    const colon = typeof h === 'string' ? h.indexOf(':') : -1;
    const name = typeof h === 'string' ? h.slice(0, Math.max(colon, 0)).trim() : '';
    const value = typeof h === 'string' ? h.slice(colon + 1).trim() : '';
    // CR or LF would let a subscriber inject headers or split the request.
    if (typeof h !== 'string' || colon <= 0 || !TOKEN.test(name) || /[\r\n\0]/.test(value)) {
      issues.add(expression, 'header must be "Name: value" with a token name and a single-line value');
    } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
      issues.add(expression, `header ${name} is set by the server`);
    } else {
      out.push({ name, value });
    }
  });
  return out;
}

function parseStatus(resource: JsonObject, issues: Issues): 'requested' | 'active' {
  const status = resource['status'];
  if (status === 'requested' || status === 'active') return status;
  issues.add('Subscription.status', 'status must be requested or active; the server manages it from there');
  return 'requested';
}

function parseEnd(resource: JsonObject, issues: Issues): string | undefined {
  const end = resource['end'];
  if (end === undefined) return undefined;
  if (typeof end !== 'string' || !INSTANT.test(end) || Number.isNaN(Date.parse(end))) {
    issues.add('Subscription.end', 'end must be an instant with a time zone, e.g. 2026-12-31T00:00:00Z');
    return undefined;
  }
  return end;
}

/**
 * Checks a Subscription a client POSTs or PUTs and reads what delivery needs from it. Every
 * problem is reported, each with the FHIRPath of its element.
 *
 * @param resource - the request body
 * @returns the parsed subscription, or the issues found; `channel.payload` absent is read as
 *   application/fhir+json and payload content absent as `id-only`
 */
export function parseSubscription(resource: JsonObject): SubscriptionParseResult {
  const issues = new Issues();
  if (resource['resourceType'] !== 'Subscription') {
    return {
      ok: false,
      issues: [{ expression: 'Subscription', message: 'resourceType must be Subscription' }],
    };
  }
  const status = parseStatus(resource, issues);
  const { topic, filters } = parseCriteria(resource, issues);
  const channel = obj(resource['channel']);
  if (channel === undefined) issues.add('Subscription.channel', 'channel is required');
  else if (channel['type'] !== 'rest-hook') {
    issues.add('Subscription.channel.type', 'only rest-hook channels are supported');
  }
  const url = parseEndpoint(channel, issues);
  const payloadContent = parsePayload(channel, url, issues);
  const heartbeatSeconds = channelNumber(
    channel,
    HEARTBEAT_PERIOD_EXTENSION,
    'valueUnsignedInt',
    'heartbeat period',
    issues,
  );
  const timeoutSeconds = channelNumber(channel, TIMEOUT_EXTENSION, 'valueUnsignedInt', 'timeout', issues);
  const maxCount = channelNumber(channel, MAX_COUNT_EXTENSION, 'valuePositiveInt', 'max count', issues);
  const headers = parseHeaders(channel, issues);
  const end = parseEnd(resource, issues);
  if (issues.list.length > 0 || url === undefined) return { ok: false, issues: issues.list };
  return {
    ok: true,
    value: {
      status,
      topic,
      filters,
      endpoint: url.href,
      headers,
      payloadContent,
      ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      ...(maxCount !== undefined ? { maxCount } : {}),
      ...(end !== undefined ? { end } : {}),
    },
  };
}

/** What an event is about, as `Type/id` references, for filter matching. */
export interface SubscriptionEvent {
  readonly kind: EventKind;
  readonly patients: readonly string[];
  readonly practitioners: readonly string[];
  readonly organizations: readonly string[];
}

const EVENT_FIELD: Readonly<Record<FilterParameter, keyof Omit<SubscriptionEvent, 'kind'>>> = {
  patient: 'patients',
  practitioner: 'practitioners',
  organization: 'organizations',
};

/**
 * Whether an event goes to a subscription: its topic covers the event kind and every filter
 * parameter is met. The values of one parameter, across all its filters, are alternatives (OR);
 * different parameters must all hold (AND).
 */
export function subscriptionMatches(parsed: ParsedSubscription, event: SubscriptionEvent): boolean {
  const found = findTopic(parsed.topic);
  if (found === undefined || !found.eventKinds.includes(event.kind)) return false;
  return FILTER_PARAMETERS.every((parameter) => {
    const wanted = parsed.filters.filter((f) => f.parameter === parameter).flatMap((f) => f.values);
    if (wanted.length === 0) return true;
    const have = event[EVENT_FIELD[parameter]];
    return wanted.some((v) => have.includes(v));
  });
}
