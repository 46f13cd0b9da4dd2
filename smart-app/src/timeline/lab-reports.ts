/**
 * Lab results grouped as the lab reported them: one event per DiagnosticReport with its
 * `result[]`, flagged by its most severe result and marked when anything in it was corrected.
 * A result no report lists (one whose report the engine never received) is an event of its own, so
 * nothing a hospital sent is missing from the timeline.
 */
import type { DiagnosticReport, Observation } from '../fhir/fhir-resources';
import { conceptText } from './fhir-text';
import { firstTime } from './fhir-time';
import type { FacilityResolver } from './facility-resolver';
import { observationValue, referenceRangeText } from './observation-value';
import { provenanceOf } from './provenance';
import { referencedId, type ResourceIndex } from './resource-index';
import { flagOf, isCorrectedStatus, NO_FLAG, worseFlag } from './result-flags';
import { testKeyOf } from './test-key';
import type { LabReportEvent, LabResult } from './timeline-types';

/** One result, attributed to `facilityKey` (its report's, so a report never mixes facilities). */
export function buildLabResult(o: Observation, facilityKey: string): LabResult {
  const id = `Observation/${o.id ?? ''}`;
  const value = observationValue(o);
  const range = referenceRangeText(o.referenceRange);
  const testKey = testKeyOf(o.code);
  const time = o.effectiveDateTime ?? o.issued;
  return {
    id,
    name: conceptText(o.code) ?? 'Unnamed test',
    ...(testKey !== undefined ? { testKey } : {}),
    value: value.text,
    ...(value.numeric !== undefined ? { numericValue: value.numeric } : {}),
    ...(value.unit !== undefined ? { unit: value.unit } : {}),
    flag: flagOf(o.interpretation),
    ...(range.text !== undefined ? { referenceRange: range.text } : {}),
    ...(range.low !== undefined ? { referenceLow: range.low } : {}),
    ...(range.high !== undefined ? { referenceHigh: range.high } : {}),
    corrected: isCorrectedStatus(o.status),
    ...(o.status !== undefined ? { status: o.status } : {}),
    ...(time !== undefined ? { time } : {}),
    notes: (o.note ?? []).flatMap((n) => (n.text !== undefined && n.text !== '' ? [n.text] : [])),
    provenance: provenanceOf(id, o.meta, facilityKey),
  };
}

function reportEvent(
  report: DiagnosticReport,
  observations: readonly Observation[],
  facilities: FacilityResolver,
  index: ResourceIndex,
): LabReportEvent {
  const encounterId = referencedId(report.encounter, 'Encounter');
  const encounter = encounterId === undefined ? undefined : index.encountersById.get(encounterId);
  const facilityKey = facilities.keyOf(
    [...(report.performer ?? []), encounter?.serviceProvider],
    report.subject ?? observations[0]?.subject,
  );
  const results = observations.map((o) => buildLabResult(o, facilityKey));
  const flag = results.reduce((worst, r) => worseFlag(worst, r.flag), NO_FLAG);
  const id = `DiagnosticReport/${report.id ?? ''}`;
  return {
    type: 'lab',
    kind: 'lab',
    id,
    title: conceptText(report.code) ?? results[0]?.name ?? 'Lab report',
    ...(report.status !== undefined ? { status: report.status } : {}),
    time:
      firstTime(
        report.effectiveDateTime,
        report.issued,
        observations[0]?.effectiveDateTime,
        report.meta?.lastUpdated,
      ) ?? 0,
    ...(report.effectiveDateTime !== undefined ? { effective: report.effectiveDateTime } : {}),
    ...(report.issued !== undefined ? { issued: report.issued } : {}),
    facilityKey,
    results,
    flag,
    corrected: isCorrectedStatus(report.status) || results.some((r) => r.corrected),
    provenance: provenanceOf(id, report.meta, facilityKey),
  };
}

/** A result no report lists, as a report of one, so it still shows (and flags) on the timeline. */
function looseResultEvent(
  o: Observation,
  facilities: FacilityResolver,
  index: ResourceIndex,
): LabReportEvent {
  const encounterId = referencedId(o.encounter, 'Encounter');
  const encounter = encounterId === undefined ? undefined : index.encountersById.get(encounterId);
  const facilityKey = facilities.keyOf([...(o.performer ?? []), encounter?.serviceProvider], o.subject);
  const result = buildLabResult(o, facilityKey);
  return {
    type: 'lab',
    kind: 'lab',
    id: result.id,
    title: result.name,
    ...(o.status !== undefined ? { status: o.status } : {}),
    time: firstTime(o.effectiveDateTime, o.issued, o.meta?.lastUpdated) ?? 0,
    ...(o.effectiveDateTime !== undefined ? { effective: o.effectiveDateTime } : {}),
    ...(o.issued !== undefined ? { issued: o.issued } : {}),
    facilityKey,
    results: [result],
    flag: result.flag,
    corrected: result.corrected,
    provenance: result.provenance,
  };
}

/** Every lab event of the Bundle: its reports, then results no report lists. */
export function buildLabEvents(index: ResourceIndex, facilities: FacilityResolver): LabReportEvent[] {
  const grouped = new Set<string>();
  const events: LabReportEvent[] = [];
  for (const report of index.reports) {
    const observations: Observation[] = [];
    for (const ref of report.result ?? []) {
      const id = referencedId(ref, 'Observation');
      const o = id === undefined ? undefined : index.observationsById.get(id);
      if (o === undefined || id === undefined) continue;
      grouped.add(id);
      observations.push(o);
    }
    events.push(reportEvent(report, observations, facilities, index));
  }
  for (const o of index.observations) {
    if (o.id !== undefined && !grouped.has(o.id)) events.push(looseResultEvent(o, facilities, index));
  }
  return events;
}
