/**
 * A location the patient stayed at, named as a clinician would: the engine stores the guide's
 * hierarchy (bed partOf room partOf ward partOf level, building, site), so the bed's own name says
 * where, and the ward above it says which unit.
 */
import type { EncounterLocation, Location } from '../fhir/fhir-resources';
import { fhirTime } from './fhir-time';
import { referencedId } from './resource-index';
import type { LocationStay } from './timeline-types';

/** Bounds a `partOf` walk: a loop in a feed's data must not hang the app. */
const MAX_DEPTH = 12;

const WARD_TYPES = new Set(['wa', 'wi']);

function physicalTypeOf(l: Location): string | undefined {
  return l.physicalType?.coding?.find((c) => c.code !== undefined)?.code;
}

/** The stay at one `Encounter.location[]` entry, or undefined when it names no known location. */
export function resolveLocationStay(
  entry: EncounterLocation,
  locations: ReadonlyMap<string, Location>,
): LocationStay | undefined {
  const id = referencedId(entry.location, 'Location');
  const own = id === undefined ? undefined : locations.get(id);
  const name = own?.name ?? entry.location?.display;
  if (name === undefined || name === '') return undefined;
  const within: string[] = [];
  let unit = own !== undefined && WARD_TYPES.has(physicalTypeOf(own) ?? '') ? own.name : undefined;
  const seen = new Set<string>(id === undefined ? [] : [id]);
  let parentId = referencedId(own?.partOf, 'Location');
  while (parentId !== undefined && !seen.has(parentId) && seen.size < MAX_DEPTH) {
    seen.add(parentId);
    const parent = locations.get(parentId);
    if (parent === undefined) break;
    if (parent.name !== undefined) within.unshift(parent.name);
    if (unit === undefined && WARD_TYPES.has(physicalTypeOf(parent) ?? '')) unit = parent.name;
    parentId = referencedId(parent.partOf, 'Location');
  }
  return {
    name,
    within,
    ...(unit !== undefined ? { unit } : {}),
    ...(entry.status !== undefined ? { status: entry.status } : {}),
    ...(entry.period?.start !== undefined ? { start: entry.period.start } : {}),
    ...(entry.period?.end !== undefined ? { end: entry.period.end } : {}),
  };
}

const STATUS_ORDER: Readonly<Record<string, number>> = { completed: 0, planned: 2, active: 1 };

/**
 * The encounter's location history, oldest first. Entries with a period sort by it; entries the
 * feed sent without one keep the engine's rule that `completed` (PV1-6, prior) came before `active`
 * (PV1-3, current). A location listed twice with the same status is shown once.
 */
export function locationHistory(
  entries: readonly EncounterLocation[] | undefined,
  locations: ReadonlyMap<string, Location>,
): LocationStay[] {
  const seen = new Set<string>();
  const stays: { stay: LocationStay; index: number }[] = [];
  (entries ?? []).forEach((entry, index) => {
    const key = `${entry.location?.reference ?? entry.location?.display ?? ''}|${entry.status ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    const stay = resolveLocationStay(entry, locations);
    if (stay !== undefined) stays.push({ stay, index });
  });
  return stays
    .sort((a, b) => {
      const ta = fhirTime(a.stay.start);
      const tb = fhirTime(b.stay.start);
      if (ta !== undefined && tb !== undefined && ta !== tb) return ta - tb;
      const sa = STATUS_ORDER[a.stay.status ?? ''] ?? 1;
      const sb = STATUS_ORDER[b.stay.status ?? ''] ?? 1;
      return sa !== sb ? sa - sb : a.index - b.index;
    })
    .map((s) => s.stay);
}
