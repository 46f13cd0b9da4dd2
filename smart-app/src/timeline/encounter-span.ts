/**
 * An Encounter as a span on the timeline: admission to discharge, ED arrival to departure, with
 * where the patient stayed, who attended, how they left and what was diagnosed. The class
 * (v3-ActCode, from PV1-2) decides the kind; the words for the ends follow it.
 */
import type { Encounter } from '../fhir/fhir-resources';
import { conceptText, hasCode, humanNameText } from './fhir-text';
import { fhirTime, firstTime } from './fhir-time';
import type { FacilityResolver } from './facility-resolver';
import { locationHistory } from './location-path';
import { provenanceOf } from './provenance';
import { referencedId, type ResourceIndex } from './resource-index';
import type { EncounterEvent, EncounterKind } from './timeline-types';

const KIND_BY_CLASS: Readonly<Record<string, EncounterKind>> = {
  IMP: 'inpatient',
  ACUTE: 'inpatient',
  NONAC: 'inpatient',
  EMER: 'emergency',
  OBSENC: 'observation',
  AMB: 'outpatient',
  FLD: 'outpatient',
  HH: 'outpatient',
  VR: 'outpatient',
  PRENC: 'preadmission',
};

export const ENCOUNTER_TITLES: Readonly<Record<EncounterKind, string>> = {
  inpatient: 'Inpatient stay',
  emergency: 'Emergency visit',
  observation: 'Observation stay',
  outpatient: 'Outpatient visit',
  preadmission: 'Pre-admission',
  other: 'Encounter',
};

/** What the two ends of a span are called for each kind. */
export const SPAN_WORDS: Readonly<Record<EncounterKind, { readonly start: string; readonly end: string }>> = {
  inpatient: { start: 'Admitted', end: 'Discharged' },
  observation: { start: 'Admitted', end: 'Discharged' },
  emergency: { start: 'Arrived', end: 'Left' },
  outpatient: { start: 'Started', end: 'Ended' },
  preadmission: { start: 'Expected', end: 'Ended' },
  other: { start: 'Started', end: 'Ended' },
};

const CLOSED_STATUSES = new Set(['finished', 'cancelled', 'entered-in-error']);

/** The kind of an encounter from its class code. */
export function encounterKindOf(e: Encounter): EncounterKind {
  const code = e.class?.code;
  return (code !== undefined ? KIND_BY_CLASS[code] : undefined) ?? 'other';
}

/** The attending practitioner's name (participant type ATND). */
function attendingOf(e: Encounter, index: ResourceIndex): string | undefined {
  const p = (e.participant ?? []).find((x) => hasCode(x.type, 'ATND'));
  if (p === undefined) return undefined;
  const id = referencedId(p.individual, 'Practitioner');
  const practitioner = id === undefined ? undefined : index.practitioners.get(id);
  return humanNameText(practitioner?.name) ?? p.individual?.display;
}

/** Diagnoses by rank: the Conditions `diagnosis[]` names, then others recorded for the encounter. */
function diagnosesOf(
  e: Encounter,
  index: ResourceIndex,
  byEncounter: ReadonlyMap<string, string[]>,
): string[] {
  const ranked = [...(e.diagnosis ?? [])].sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99));
  const texts: string[] = [];
  for (const d of ranked) {
    const id = referencedId(d.condition, 'Condition');
    const text =
      conceptText((id === undefined ? undefined : index.conditionsById.get(id))?.code) ??
      d.condition?.display;
    if (text !== undefined && !texts.includes(text)) texts.push(text);
  }
  for (const text of byEncounter.get(e.id ?? '') ?? []) if (!texts.includes(text)) texts.push(text);
  return texts;
}

/** Condition texts by the Encounter id they were recorded for. */
export function conditionsByEncounter(index: ResourceIndex): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const c of index.conditions) {
    const id = referencedId(c.encounter, 'Encounter');
    const text = conceptText(c.code);
    if (id === undefined || text === undefined) continue;
    const list = map.get(id) ?? [];
    list.push(text);
    map.set(id, list);
  }
  return map;
}

/**
 * The timeline event of an encounter.
 * @param byEncounter - from `conditionsByEncounter`, built once per Bundle.
 */
export function buildEncounterEvent(
  e: Encounter,
  index: ResourceIndex,
  facilities: FacilityResolver,
  byEncounter: ReadonlyMap<string, string[]>,
): EncounterEvent {
  const kind = encounterKindOf(e);
  const facilityKey = facilities.keyOf([e.serviceProvider], e.subject);
  const start = e.period?.start;
  const end = e.period?.end;
  const endTime = fhirTime(end);
  const attending = attendingOf(e, index);
  const disposition = conceptText(e.hospitalization?.dischargeDisposition);
  const id = `Encounter/${e.id ?? ''}`;
  return {
    type: 'encounter',
    id,
    kind,
    title: ENCOUNTER_TITLES[kind],
    ...(e.status !== undefined ? { status: e.status } : {}),
    cancelled: e.status === 'cancelled',
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ongoing: end === undefined && !CLOSED_STATUSES.has(e.status ?? ''),
    time: firstTime(start, end, e.meta?.lastUpdated) ?? 0,
    ...(endTime !== undefined ? { endTime } : {}),
    facilityKey,
    locations: locationHistory(e.location, index.locations),
    ...(attending !== undefined ? { attending } : {}),
    ...(disposition !== undefined ? { dischargeDisposition: disposition } : {}),
    diagnoses: diagnosesOf(e, index, byEncounter),
    provenance: provenanceOf(id, e.meta, facilityKey),
  };
}
