/**
 * Clinical events from stored changes, not from message types: an A08 that carries a discharge
 * time is a discharge, and a replay that changes nothing is no event at all. Pure: it sees the
 * version before and after each change, which the store returns in the processing transaction.
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

function classOf(r: JsonObject | undefined): string {
  return str(obj(r?.['class'])?.['code']) ?? '';
}

function encounterEvents(before: JsonObject | undefined, after: JsonObject): EventKind[] {
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
    if (from !== undefined && to !== undefined && from !== to) out.push(EventKind.Transfer);
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

function kindsOf(change: ResourceChange, flags: ResultFlags): { kind: EventKind; correction?: boolean }[] {
  const after = change.current?.deleted === false ? change.current.resource : undefined;
  const before = change.previous?.deleted === false ? change.previous.resource : undefined;
  if (after === undefined) return [];
  switch (change.type) {
    case 'Encounter':
      return encounterEvents(before, after).map((kind) => ({ kind }));
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
): ClinicalEvent[] {
  const out: ClinicalEvent[] = [];
  for (const change of changes) {
    if (change.cause !== undefined || change.current === undefined) continue;
    if (change.previous?.versionId === change.current.versionId) continue;
    for (const { kind, correction } of kindsOf(change, flags)) {
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
