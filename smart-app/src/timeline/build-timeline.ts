/**
 * The whole timeline from one `$everything` Bundle: every facility's encounters and lab reports,
 * newest first, with the facilities (and their colours) and the tests that can be trended. Pure and
 * linear in the Bundle's size, so it runs on every render of a 500-event patient without a worker.
 */
import type { Bundle } from '../fhir/fhir-resources';
import { buildEncounterEvent, conditionsByEncounter } from './encounter-span';
import { assignFacilityColours } from './facility-colours';
import { createFacilityResolver } from './facility-resolver';
import { hasCode, humanNameText } from './fhir-text';
import { buildLabEvents } from './lab-reports';
import { indexBundle } from './resource-index';
import type { PatientRecord, TestSummary, TimelineEvent, TimelineModel } from './timeline-types';

/** Newest first; on equal times encounters before labs, then by id, so the order is stable. */
export function compareNewestFirst(a: TimelineEvent, b: TimelineEvent): number {
  if (a.time !== b.time) return b.time - a.time;
  if (a.type !== b.type) return a.type === 'encounter' ? -1 : 1;
  return a.id.localeCompare(b.id);
}

function testSummaries(events: readonly TimelineEvent[]): TestSummary[] {
  const byKey = new Map<string, { name: string; count: number }>();
  for (const e of events) {
    if (e.type !== 'lab') continue;
    for (const r of e.results) {
      if (r.testKey === undefined || r.numericValue === undefined) continue;
      const s = byKey.get(r.testKey);
      if (s === undefined) byKey.set(r.testKey, { name: r.name, count: 1 });
      else s.count += 1;
    }
  }
  return [...byKey]
    .map(([key, s]) => ({ key, name: s.name, count: s.count }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

/** Builds the timeline model; unknown resource types in the Bundle are ignored. */
export function buildTimeline(bundle: Bundle): TimelineModel {
  const index = indexBundle(bundle);
  const facilities = createFacilityResolver(index);
  const byEncounter = conditionsByEncounter(index);
  const events: TimelineEvent[] = [
    ...index.encounters.map((e) => buildEncounterEvent(e, index, facilities, byEncounter)),
    ...buildLabEvents(index, facilities),
  ].sort(compareNewestFirst);
  const patients: PatientRecord[] = index.patients.map((p) => {
    const name = humanNameText(p.name);
    return {
      id: p.id ?? '',
      ...(name !== undefined ? { name } : {}),
      ...(p.birthDate !== undefined ? { birthDate: p.birthDate } : {}),
      ...(p.gender !== undefined ? { gender: p.gender } : {}),
      facilityKey: facilities.keyOf([p.managingOrganization], undefined),
      // Medical record numbers only: a banner must never show an SSN or a payer id.
      identifiers: (p.identifier ?? []).flatMap((i) =>
        i.value !== undefined && hasCode(i.type === undefined ? [] : [i.type], 'MR') ? [i.value] : [],
      ),
    };
  });
  const colours = assignFacilityColours(facilities.names.keys());
  const facilityList = [...facilities.names]
    .map(([key, name]) => ({ key, name, colour: colours.get(key) ?? '#4d5b6a' }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { events, facilities: facilityList, patients, tests: testSummaries(events) };
}
