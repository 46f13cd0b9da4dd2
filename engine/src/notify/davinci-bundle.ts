/**
 * The Da Vinci Unsolicited Notifications message a PCP receives: a MessageHeader, the resource the
 * event is about, and what that resource points at, so the receiver needs no second request to
 * know who, where and why. Pure: the caller reads the resources; this only chooses among them.
 */
import type { EventKind } from './derive-events';
import type { JsonObject } from '../store/fhir-json';
import { notificationCodes } from './notification-codes';

export const NOTIFICATIONS_BUNDLE_PROFILE =
  'http://hl7.org/fhir/us/davinci-alerts/StructureDefinition/notifications-bundle';
export const NOTIFICATIONS_MESSAGEHEADER_PROFILE =
  'http://hl7.org/fhir/us/davinci-alerts/StructureDefinition/notifications-messageheader';

/** How far from the focus a referenced resource may be and still travel with the message. */
const MAX_DEPTH = 2;

export interface NoticeContext {
  /**
   * Stable UUID: Bundle.id, Bundle.identifier (`urn:uuid:<id>`) and MessageHeader.id. The same on
   * every retry, so a receiver can drop a repeat.
   */
  readonly noticeId: string;
  readonly kind: EventKind;
  /** The focus is a corrected result. */
  readonly correction: boolean;
  /** ISO instant of the event, stable across retries. */
  readonly timestamp: string;
  /** Engine base URL; fullUrl is `${baseUrl}/fhir/<Type>/<id>`. */
  readonly baseUrl: string;
  readonly destination: { readonly endpoint: string; readonly receiver?: string };
  /** Encounter for ADT events, Observation or DiagnosticReport for results, Patient for a death without encounter. */
  readonly focus: JsonObject;
  /** Resources read from the store around the focus; only those it references are sent. */
  readonly resources: readonly JsonObject[];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function obj(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function keyOf(resource: JsonObject): string | undefined {
  const type = str(resource['resourceType']);
  const id = str(resource['id']);
  return type !== undefined && id !== undefined ? `${type}/${id}` : undefined;
}

/**
 * `Type/id` for a reference to this server: relative, absolute under our base, or versioned. A
 * contained (`#x`) or URN reference names nothing the store holds.
 */
function targetOf(reference: unknown, fhirBase: string): string | undefined {
  let ref = str(reference);
  if (ref === undefined) return undefined;
  if (ref.startsWith(`${fhirBase}/`)) ref = ref.slice(fhirBase.length + 1);
  const match = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return match === null ? undefined : `${match[1] ?? ''}/${match[2] ?? ''}`;
}

/**
 * Every reference inside a resource, in document order. Some lead to other patients (Patient.link
 * to the other record of a merge); closure() drops those targets, whatever element led there.
 */
function referencesIn(resource: JsonObject, fhirBase: string): string[] {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    const o = obj(value);
    if (o === undefined) return;
    const target = targetOf(o['reference'], fhirBase);
    if (target !== undefined) out.push(target);
    for (const [k, v] of Object.entries(o)) if (k !== 'reference') walk(v);
  };
  for (const [k, v] of Object.entries(resource)) {
    // Contained resources carry their own references; they travel inside their container anyway.
    if (k === 'contained') continue;
    walk(v);
  }
  return out;
}

/** The patient a resource is about, if it says. */
function patientOf(resource: JsonObject, fhirBase: string): string | undefined {
  if (resource['resourceType'] === 'Patient') return keyOf(resource);
  return (
    targetOf(obj(resource['subject'])?.['reference'], fhirBase) ??
    targetOf(obj(resource['patient'])?.['reference'], fhirBase) ??
    targetOf(obj(resource['beneficiary'])?.['reference'], fhirBase)
  );
}

/**
 * The focus and what it references, breadth first up to MAX_DEPTH, limited to resources that are
 * present and that belong to the focus's patient (or to no patient).
 */
function closure(ctx: NoticeContext, fhirBase: string, extraRoots: readonly string[]): JsonObject[] {
  const available = new Map<string, JsonObject>();
  for (const r of ctx.resources) {
    const key = keyOf(r);
    if (key !== undefined && !available.has(key)) available.set(key, r);
  }
  const focusPatient = patientOf(ctx.focus, fhirBase);
  const allowed = (r: JsonObject): boolean => {
    const patient = patientOf(r, fhirBase);
    return patient === undefined || patient === focusPatient;
  };

  const focusKey = keyOf(ctx.focus) ?? '';
  const seen = new Set<string>([focusKey]);
  const out: JsonObject[] = [ctx.focus];
  let frontier: JsonObject[] = [ctx.focus];
  const visit = (key: string, next: JsonObject[]): void => {
    if (seen.has(key)) return;
    const r = available.get(key);
    if (r === undefined || !allowed(r)) return;
    seen.add(key);
    out.push(r);
    next.push(r);
  };
  for (let depth = 1; depth <= MAX_DEPTH && frontier.length > 0; depth++) {
    const next: JsonObject[] = [];
    for (const r of frontier) for (const key of referencesIn(r, fhirBase)) visit(key, next);
    // The header's own references (receiver) sit at the first level, like the focus's.
    if (depth === 1) for (const key of extraRoots) visit(key, next);
    frontier = next;
  }
  return out;
}

function typeOf(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

function participantCode(participant: unknown): string[] {
  return list(obj(participant)?.['type']).flatMap((t) =>
    list(obj(t)?.['coding']).map((c) => str(obj(c)?.['code']) ?? ''),
  );
}

/** The person who decided the event: admitting, discharging, else attending practitioner. */
function encounterAuthor(encounter: JsonObject, kind: EventKind, fhirBase: string): string[] {
  const preferred = kind === 'admit' ? 'ADM' : kind === 'discharge' ? 'DIS' : 'ATND';
  const participants = list(encounter['participant']);
  const ordered = [
    ...participants.filter((p) => participantCode(p).includes(preferred)),
    ...participants.filter((p) => participantCode(p).includes('ATND')),
    ...participants,
  ];
  return ordered.flatMap((p) => targetOf(obj(obj(p)?.['individual'])?.['reference'], fhirBase) ?? []);
}

interface HeaderParties {
  readonly sender?: string;
  readonly author?: string;
}

/**
 * Sender (and responsible): the organisation whose record this is. Author: the practitioner
 * behind the event. Both only when bundled, as the Da Vinci profile requires (aggregation bundled).
 */
function headerParties(ctx: NoticeContext, fhirBase: string, bundled: ReadonlySet<string>): HeaderParties {
  const focus = ctx.focus;
  const refs = (v: unknown): string[] =>
    list(v).flatMap((r) => targetOf(obj(r)?.['reference'], fhirBase) ?? []);
  let organisations: string[];
  let people: string[];
  switch (focus['resourceType']) {
    case 'Encounter':
      organisations = refs([focus['serviceProvider']]);
      people = encounterAuthor(focus, ctx.kind, fhirBase);
      break;
    case 'Patient':
      organisations = refs([focus['managingOrganization']]);
      people = [];
      break;
    default:
      // Observation and DiagnosticReport name their lab and their clinician as performers.
      organisations = refs(focus['performer']);
      people = [...refs(focus['resultsInterpreter']), ...refs(focus['performer'])];
  }
  const sender = organisations.find((k) => typeOf(k) === 'Organization' && bundled.has(k));
  const author = people.find(
    (k) => ['Practitioner', 'PractitionerRole'].includes(typeOf(k)) && bundled.has(k),
  );
  return { ...(sender !== undefined ? { sender } : {}), ...(author !== undefined ? { author } : {}) };
}

function messageHeader(
  ctx: NoticeContext,
  fhirBase: string,
  focusKey: string,
  bundled: ReadonlySet<string>,
): JsonObject {
  const { eventCoding, reason } = notificationCodes(ctx.kind, ctx.correction);
  const parties = headerParties(ctx, fhirBase, bundled);
  const receiver = ctx.destination.receiver;
  return {
    resourceType: 'MessageHeader',
    id: ctx.noticeId,
    meta: { profile: [NOTIFICATIONS_MESSAGEHEADER_PROFILE] },
    eventCoding,
    destination: [
      {
        endpoint: ctx.destination.endpoint,
        ...(receiver !== undefined ? { receiver: { reference: receiver } } : {}),
      },
    ],
    ...(parties.sender !== undefined ? { sender: { reference: parties.sender } } : {}),
    ...(parties.author !== undefined ? { author: { reference: parties.author } } : {}),
    source: { name: 'care-coordination engine', endpoint: fhirBase },
    ...(parties.sender !== undefined ? { responsible: { reference: parties.sender } } : {}),
    ...(reason !== undefined ? { reason: { coding: [reason] } } : {}),
    focus: [{ reference: focusKey }],
  };
}

/**
 * The notification message for one event and one destination.
 *
 * @param ctx - the event, its focus and the resources read around it
 * @returns a Bundle of type `message`: MessageHeader first, then the focus, then every resource
 *   in `ctx.resources` that the focus references within two steps (an Encounter's Patient,
 *   Locations, Practitioners, Organizations and diagnosis Conditions, and the Patient's managing
 *   Organization), never a resource of another patient
 */
export function buildNotificationBundle(ctx: NoticeContext): JsonObject {
  const fhirBase = `${ctx.baseUrl.replace(/\/+$/, '')}/fhir`;
  const focusKey = keyOf(ctx.focus);
  if (focusKey === undefined) throw new Error('notification focus needs a resourceType and an id');
  const receiver = targetOf(ctx.destination.receiver, fhirBase);
  const members = closure(ctx, fhirBase, receiver !== undefined ? [receiver] : []);
  const bundled = new Set(members.flatMap((r) => keyOf(r) ?? []));
  const header = messageHeader(ctx, fhirBase, focusKey, bundled);
  return {
    resourceType: 'Bundle',
    id: ctx.noticeId,
    meta: { profile: [NOTIFICATIONS_BUNDLE_PROFILE] },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${ctx.noticeId}` },
    type: 'message',
    timestamp: ctx.timestamp,
    entry: [header, ...members].map((resource) => ({
      fullUrl: `${fhirBase}/${keyOf(resource) ?? ''}`,
      resource,
    })),
  };
}
