/**
 * What a topic-based subscriber receives (FHIR Subscriptions R4 Backport STU 1.1, R4 form): a
 * `history` Bundle whose first entry is the subscription status as a Parameters resource, and the
 * `$status` answer. The payload content decides how much of the event travels, per the IG's
 * Payload Types rules.
 */
import type { JsonObject } from '../store/fhir-json';
import type { PayloadContent } from './subscription-topics';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const SUBSCRIPTION_STATUS_PROFILE = `${BACKPORT}/backport-subscription-status-r4`;
export const SUBSCRIPTION_NOTIFICATION_PROFILE = `${BACKPORT}/backport-subscription-notification-r4`;
export const SUBSCRIPTION_ERROR_SYSTEM = 'http://terminology.hl7.org/CodeSystem/subscription-error';
const SUBSCRIPTION_ERRORS = new Set(['dns-resolution-error', 'no-response', 'error-response']);

export type SubscriptionStatusCode = 'requested' | 'active' | 'error' | 'off';
export type NotificationType =
  'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

export interface NotificationEvent {
  /** This event's number in the subscription (events-since-subscription-start when it happened). */
  readonly eventNumber: number;
  /** ISO instant of the event. */
  readonly timestamp: string;
  /** `Type/id` of the resource the event is about. */
  readonly focus: string;
  /** `Type/id` of other resources relevant to the event (e.g. the Encounter's Patient). */
  readonly additionalContext?: readonly string[];
  /** The focus and context resources, sent only with `full-resource`. */
  readonly resources?: readonly JsonObject[];
}

export interface SubscriptionBundleInput {
  readonly subscriptionId: string;
  /** Canonical URL of the subscription's topic. */
  readonly topic: string;
  readonly status: SubscriptionStatusCode;
  readonly type: NotificationType;
  readonly eventsSinceStart: number;
  /** Only `event-notification` and `query-event` carry events. */
  readonly events: readonly NotificationEvent[];
  readonly payloadContent: PayloadContent;
  /** Engine base URL; references are `${baseUrl}/fhir/<Type>/<id>`. */
  readonly baseUrl: string;
  /** A UUID: Bundle.id, and the status Parameters' id and `urn:uuid:` fullUrl. */
  readonly bundleId: string;
  /** ISO instant the notification is built. */
  readonly timestamp: string;
  /** A subscription-error code (dns-resolution-error, no-response, error-response) or free text. */
  readonly error?: string;
}

function fhirBaseOf(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/fhir`;
}

/** A version-less `Type/id` (fullUrl must not name a version). */
function unversioned(ref: string): string {
  const at = ref.indexOf('/_history/');
  return at < 0 ? ref : ref.slice(0, at);
}

function errorConcept(error: string): JsonObject {
  return SUBSCRIPTION_ERRORS.has(error)
    ? { coding: [{ system: SUBSCRIPTION_ERROR_SYSTEM, code: error }], text: error }
    : { text: error };
}

function carriesEvents(type: NotificationType): boolean {
  return type === 'event-notification' || type === 'query-event';
}

interface StatusParts {
  readonly subscriptionId: string;
  readonly topic: string;
  readonly status: SubscriptionStatusCode;
  readonly type: NotificationType;
  readonly eventsSinceStart: number;
  readonly events: readonly NotificationEvent[];
  readonly payloadContent: PayloadContent;
  readonly fhirBase: string;
  readonly id: string;
  readonly withTopic: boolean;
  readonly error?: string;
}

function notificationEventParameter(
  e: NotificationEvent,
  content: PayloadContent,
  fhirBase: string,
): JsonObject {
  // Empty payloads SHALL NOT reference resources; id-only and full-resource SHALL give the focus.
  const refs = content !== 'empty';
  return {
    name: 'notification-event',
    part: [
      { name: 'event-number', valueString: String(e.eventNumber) },
      { name: 'timestamp', valueInstant: e.timestamp },
      ...(refs ? [{ name: 'focus', valueReference: { reference: `${fhirBase}/${e.focus}` } }] : []),
      ...(refs
        ? (e.additionalContext ?? []).map((c) => ({
            name: 'additional-context',
            valueReference: { reference: `${fhirBase}/${c}` },
          }))
        : []),
    ],
  };
}

function statusParameters(p: StatusParts): JsonObject {
  return {
    resourceType: 'Parameters',
    id: p.id,
    meta: { profile: [SUBSCRIPTION_STATUS_PROFILE] },
    parameter: [
      {
        name: 'subscription',
        valueReference: { reference: `${p.fhirBase}/Subscription/${p.subscriptionId}` },
      },
      ...(p.withTopic ? [{ name: 'topic', valueCanonical: p.topic }] : []),
      { name: 'status', valueCode: p.status },
      { name: 'type', valueCode: p.type },
      // A string in R4: the count is an int64 in R5.
      { name: 'events-since-subscription-start', valueString: String(p.eventsSinceStart) },
      ...(carriesEvents(p.type)
        ? p.events.map((e) => notificationEventParameter(e, p.payloadContent, p.fhirBase))
        : []),
      ...(p.error !== undefined ? [{ name: 'error', valueCodeableConcept: errorConcept(p.error) }] : []),
    ],
  };
}

/**
 * Entries after the status: none for `empty`; for `id-only` one per focus and context reference
 * with fullUrl and request only; for `full-resource` the resources as well. A history Bundle needs
 * `request` on every entry (bdl-3); the IG allows a GET of the resource there.
 */
function eventEntries(
  events: readonly NotificationEvent[],
  content: PayloadContent,
  fhirBase: string,
): JsonObject[] {
  if (content === 'empty') return [];
  const seen = new Set<string>();
  const out: JsonObject[] = [];
  for (const e of events) {
    const byKey = new Map<string, JsonObject>();
    for (const r of e.resources ?? []) byKey.set(`${String(r['resourceType'])}/${String(r['id'])}`, r);
    for (const ref of [e.focus, ...(e.additionalContext ?? [])]) {
      const key = unversioned(ref);
      const fullUrl = `${fhirBase}/${key}`;
      if (seen.has(fullUrl)) continue;
      seen.add(fullUrl);
      const resource = content === 'full-resource' ? byKey.get(key) : undefined;
      out.push({
        fullUrl,
        ...(resource !== undefined ? { resource } : {}),
        request: { method: 'GET', url: key },
        // A full-resource entry that lacks its resource says why: the server could not read it.
        ...(content === 'full-resource'
          ? { response: { status: resource !== undefined ? '200' : '404' } }
          : {}),
      });
    }
  }
  return out;
}

/**
 * A notification Bundle for a rest-hook POST (handshake, heartbeat, event-notification), or the
 * answer to `$events` (query-event).
 *
 * @param input - subscription state, the events and how much of them to send
 * @throws Error when a handshake, heartbeat or query-status is given events: those types never
 *   carry any, and dropping them silently would lose events
 */
export function buildSubscriptionBundle(input: SubscriptionBundleInput): JsonObject {
  if (!carriesEvents(input.type) && input.events.length > 0) {
    throw new Error(`a ${input.type} notification carries no events`);
  }
  const fhirBase = fhirBaseOf(input.baseUrl);
  // The profile: topic SHOULD NOT be present with empty payloads, SHOULD with full-resource.
  const withTopic = input.payloadContent !== 'empty';
  const status = statusParameters({ ...input, fhirBase, id: input.bundleId, withTopic });
  return {
    resourceType: 'Bundle',
    id: input.bundleId,
    meta: { profile: [SUBSCRIPTION_NOTIFICATION_PROFILE] },
    type: 'history',
    timestamp: input.timestamp,
    entry: [
      {
        fullUrl: `urn:uuid:${input.bundleId}`,
        resource: status,
        // As the IG's examples: the status entry reads as the $status request it answers.
        request: { method: 'GET', url: `${fhirBase}/Subscription/${input.subscriptionId}/$status` },
        response: { status: '200' },
      },
      ...(carriesEvents(input.type) ? eventEntries(input.events, input.payloadContent, fhirBase) : []),
    ],
  };
}

export interface SubscriptionStatusInput {
  readonly subscriptionId: string;
  readonly topic: string;
  readonly status: SubscriptionStatusCode;
  readonly eventsSinceStart: number;
  readonly baseUrl: string;
  /** A UUID for the Parameters resource. */
  readonly statusId: string;
  readonly error?: string;
}

/** The status of one subscription as `$status` reports it (type `query-status`). */
export function buildSubscriptionStatus(input: SubscriptionStatusInput): JsonObject {
  return statusParameters({
    subscriptionId: input.subscriptionId,
    topic: input.topic,
    status: input.status,
    type: 'query-status',
    eventsSinceStart: input.eventsSinceStart,
    events: [],
    payloadContent: 'empty',
    fhirBase: fhirBaseOf(input.baseUrl),
    id: input.statusId,
    // A $status answer goes to the subscriber's own authenticated read, not over the channel.
    withTopic: true,
    ...(input.error !== undefined ? { error: input.error } : {}),
  });
}

/**
 * The `$status` result: the operation returns a `searchset` Bundle with one status per
 * Subscription queried (OperationDefinition backport-subscription-status).
 */
export function buildStatusSearchset(
  statuses: readonly JsonObject[],
  options: { readonly bundleId: string; readonly timestamp: string },
): JsonObject {
  return {
    resourceType: 'Bundle',
    id: options.bundleId,
    type: 'searchset',
    timestamp: options.timestamp,
    total: statuses.length,
    entry: statuses.map((resource) => ({
      fullUrl: `urn:uuid:${String(resource['id'])}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}
