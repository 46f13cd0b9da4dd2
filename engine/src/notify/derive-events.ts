/**
 * Clinical events from stored changes, not from message types: an A08 that carries a discharge
 * time is a discharge, and a replay that changes nothing is no event at all. Pure: it sees the
 * version before and after each change, which the store returns in the processing transaction,
 * and the places of the Locations involved, which the caller reads there too.
 */
import type { ResourceChange } from '../store/bundle-hooks';
import type { JsonObject } from '../store/fhir-json';

export const EventKind = {
  Admit: 'admit',
  EdArrival: 'ed-arrival',
  Transfer: 'transfer',
  Discharge: 'discharge',
  Cancellation: 'cancellation',
  Death: 'death',
  CriticalResult: 'critical-result',
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** One derived event, as the outbox keeps it (references only: no names, no values). */
export interface ClinicalEvent {
  readonly kind: EventKind;
  /** `Patient/<id>` the event is about. */
  readonly patient: string | undefined;
  /** `Type/id/_history/n` of the version that shows the event. */
  readonly focus: string;
  /** The version before, when there was one. */
  readonly previous?: string;
  /** A corrected result (Observation status `corrected` or `amended`): notified as a correction. */
  readonly correction?: boolean;
  /**
   * Same change, same key: a redo after a crash or a replay yields the key again, so the outbox
   * (unique on it) and a receiver can tell a repeat from a new event.
   */
  readonly key: string;
}

const ED_CLASSES = new Set(['EMER']);

/** Which result interpretations are news for a PCP (mappings/notify/result-flags.csv). */
export interface ResultFlags {
  /** `critical` or `abnormal` for an interpretation that notifies; undefined otherwise. */
  flag(system: string | undefined, code: string): 'critical' | 'abnormal' | undefined;
}

const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

/** OBX-8 `HH`, `LL` and `AA`: what notifies when no table is configured. */
export const DEFAULT_RESULT_FLAGS: ResultFlags = {
  flag: (system, code) =>
    (system === undefined || system === V3_INTERPRETATION) && ['HH', 'LL', 'AA'].includes(code)
      ? 'critical'
      : undefined,
};
/**
 * Where a Location is, from its `partOf` chain: a PCP hears of a move between units or
 * facilities, not of a bed or room move within one unit.
 */
export interface LocationPlace {
  /** `Location/id` of the first of the Location and its parents that is not a bed or a room. */
  readonly unit: string;
  /** `Location/id` of the site (physicalType `si`) the chain reaches, if any. */
  readonly facility?: string;
}

/** The place of a `Location/id` reference; undefined when the store knows none (no hierarchy). */
export type LocationPlaces = (reference: string) => LocationPlace | undefined;

export interface DeriveOptions {
  /** Without it, every change of an encounter's current Location is a transfer. */
  readonly places?: LocationPlaces;
}

const PHYSICAL_TYPE = 'http://terminology.hl7.org/CodeSystem/location-physical-type';
const WITHIN_UNIT = new Set(['bd', 'ro']);
/** How far up `partOf` to look: the mapping's chain is six deep (bed to site); a cycle ends here. */
export const MAX_LOCATION_DEPTH = 8;

const CORRECTED = new Set(['corrected', 'amended']);
const OPEN = new Set(['planned', 'arrived', 'triaged', 'in-progress']);

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function obj(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function patientOf(r: JsonObject): string | undefined {
  if (r['resourceType'] === 'Patient') return `Patient/${String(r['id'])}`;
  return str(obj(r['subject'])?.['reference']) ?? str(obj(r['patient'])?.['reference']);
}

/** The location an encounter is in now: the `active` entry, else the last one listed. */
function currentLocation(r: JsonObject | undefined): string | undefined {
  const locations = list(r?.['location']).map(obj);
  const active = locations.find((l) => l?.['status'] === 'active') ?? locations.at(-1);
  return str(obj(active?.['location'])?.['reference']);
}

function physicalTypeOf(r: JsonObject): string | undefined {
  const codings = list(obj(r['physicalType'])?.['coding']).map(obj);
  const coding = codings.find((c) => c?.['system'] === PHYSICAL_TYPE) ?? codings[0];
  return str(coding?.['code']);
}

/**
 * The places of Locations, given them (by `Location/id`) with as many of their parents as the
 * caller read. A Location whose chain, as far as it is known, holds only beds and rooms has none.
 */
export function locationPlaces(locations: ReadonlyMap<string, JsonObject>): LocationPlaces {
  return (reference) => {
    let unit: string | undefined;
    let facility: string | undefined;
    let at: string | undefined = reference;
    for (let depth = 0; at !== undefined && depth < MAX_LOCATION_DEPTH; depth++) {
      const location = locations.get(at);
      if (location === undefined) break;
      const type = physicalTypeOf(location);
      if (unit === undefined && !WITHIN_UNIT.has(type ?? '')) unit = at;
      if (type === 'si') {
        facility = at;
        break;
      }
      at = str(obj(location['partOf'])?.['reference']);
    }
    if (unit === undefined) return undefined;
    return facility !== undefined ? { unit, facility } : { unit };
  };
}

/**
 * A move is a transfer when it leaves the unit or the facility. When either end's place is
 * unknown (Locations stored without a hierarchy) every move counts, as each Location may be a unit.
 */
function isTransfer(from: string, to: string, places: LocationPlaces | undefined): boolean {
  if (from === to) return false;
  const a = places?.(from);
  const b = places?.(to);
  if (a === undefined || b === undefined) return true;
  return a.unit !== b.unit || a.facility !== b.facility;
}

function classOf(r: JsonObject | undefined): string {
  return str(obj(r?.['class'])?.['code']) ?? '';
}

function encounterEvents(
  before: JsonObject | undefined,
  after: JsonObject,
  places: LocationPlaces | undefined,
): EventKind[] {
  const was = str(before?.['status']);
  const now = str(after['status']);
  const wasEd = ED_CLASSES.has(classOf(before)) && was !== undefined && OPEN.has(was);
  const isEd = ED_CLASSES.has(classOf(after)) && now !== undefined && OPEN.has(now);
  const out: EventKind[] = [];
  if (isEd && !wasEd) {
    // An ED registration (A04, PV1-2 E) maps to `planned` by the guide, yet the patient is there;
    // the same visit going in-progress later is not a second arrival.
    out.push(EventKind.EdArrival);
  } else if (now === 'in-progress' && !isEd && was === 'finished') {
    // A13: the discharge is cancelled; the patient never left, so this is no admission.
    out.push(EventKind.Cancellation);
  } else if (now === 'in-progress' && !isEd && (was !== 'in-progress' || wasEd)) {
    // Admitted, directly or from the ED on the same visit (A06: EMER to inpatient).
    out.push(EventKind.Admit);
  } else if (now === 'in-progress' && was === 'in-progress') {
    const from = currentLocation(before);
    const to = currentLocation(after);
    // A first location is news of where, not a move.
    if (from !== undefined && to !== undefined && isTransfer(from, to, places)) out.push(EventKind.Transfer);
  }
  if (now === 'finished' && was !== 'finished') out.push(EventKind.Discharge);
  if (now === 'cancelled' && was !== 'cancelled' && was !== undefined) out.push(EventKind.Cancellation);
  return out;
}

function isDeceased(r: JsonObject | undefined): boolean {
  return r?.['deceasedBoolean'] === true || r?.['deceasedDateTime'] !== undefined;
}

function isFlagged(r: JsonObject | undefined, flags: ResultFlags): boolean {
  return list(r?.['interpretation']).some((i) =>
    list(obj(i)?.['coding']).some((c) => {
      const code = str(obj(c)?.['code']);
      return code !== undefined && flags.flag(str(obj(c)?.['system']), code) !== undefined;
    }),
  );
}

/**
 * A flagged result that was not flagged before is news; so is a correction of a result that was
 * or is flagged (the PCP may have acted on the first value).
 */
function resultEvents(
  before: JsonObject | undefined,
  after: JsonObject,
  flags: ResultFlags,
): { correction: boolean }[] {
  const now = isFlagged(after, flags);
  const was = isFlagged(before, flags);
  const corrected =
    before !== undefined &&
    CORRECTED.has(str(after['status']) ?? '') &&
    str(before['status']) !== str(after['status']);
  if (corrected && (now || was)) return [{ correction: true }];
  return now && !was ? [{ correction: false }] : [];
}

/** The versions before and after a change that counts (a new version, not a merge's bookkeeping). */
function versionsOf(change: ResourceChange): { before?: JsonObject; after: JsonObject } | undefined {
  if (change.cause !== undefined || change.current === undefined) return undefined;
  if (change.previous?.versionId === change.current.versionId) return undefined;
  if (change.current.deleted) return undefined;
  const after = change.current.resource;
  return change.previous?.deleted === false ? { before: change.previous.resource, after } : { after };
}

function kindsOf(
  change: ResourceChange,
  flags: ResultFlags,
  options: DeriveOptions,
): { kind: EventKind; correction?: boolean }[] {
  const versions = versionsOf(change);
  if (versions === undefined) return [];
  const { before, after } = versions;
  switch (change.type) {
    case 'Encounter':
      return encounterEvents(before, after, options.places).map((kind) => ({ kind }));
    case 'Patient':
      return isDeceased(after) && !isDeceased(before) ? [{ kind: EventKind.Death }] : [];
    case 'Observation':
      return resultEvents(before, after, flags).map((r) => ({ kind: EventKind.CriticalResult, ...r }));
    default:
      return [];
  }
}

/**
 * The events a message's changes amount to. Only changes that made a new version count; a
 * merge's re-pointing of old records (`cause` set) is bookkeeping, not news for a PCP.
 */
export function deriveEvents(
  changes: readonly ResourceChange[],
  flags: ResultFlags = DEFAULT_RESULT_FLAGS,
  options: DeriveOptions = {},
): ClinicalEvent[] {
  const out: ClinicalEvent[] = [];
  for (const change of changes) {
    if (change.current === undefined) continue;
    for (const { kind, correction } of kindsOf(change, flags, options)) {
      const focus = `${change.type}/${change.id}/_history/${change.current.versionId}`;
      out.push({
        kind,
        patient: patientOf(change.current.resource),
        focus,
        ...(change.previous !== undefined
          ? { previous: `${change.type}/${change.id}/_history/${change.previous.versionId}` }
          : {}),
        ...(correction === true ? { correction: true } : {}),
        key: `${kind}:${focus}`,
      });
    }
  }
  return out;
}

/**
 * The Locations whose places can decide a transfer: both ends of every counted change of an
 * encounter's current Location. Empty for most messages, so their caller reads nothing.
 */
export function movedLocations(changes: readonly ResourceChange[]): string[] {
  const refs = new Set<string>();
  for (const change of changes) {
    const versions = change.type === 'Encounter' ? versionsOf(change) : undefined;
    if (versions === undefined) continue;
    const from = currentLocation(versions.before);
    const to = currentLocation(versions.after);
    if (from === undefined || to === undefined || from === to) continue;
    refs.add(from);
    refs.add(to);
  }
  return [...refs];
}
