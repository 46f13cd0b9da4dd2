/**
 * Abnormal and critical flags from `Observation.interpretation` (v3-ObservationInterpretation, from
 * OBX-8). The critical codes are the ones the engine notifies on as shipped (HH, LL, AA in
 * mappings/notify/result-flags.csv), so what the app marks critical is what the PCP was paged for.
 */
import type { CodeableConcept } from '../fhir/fhir-resources';
import type { FlagSeverity, ResultFlag } from './timeline-types';

const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

const FLAGS: Readonly<Record<string, Omit<ResultFlag, 'code'>>> = {
  HH: { severity: 'critical', label: 'Critical high' },
  LL: { severity: 'critical', label: 'Critical low' },
  AA: { severity: 'critical', label: 'Critical abnormal' },
  H: { severity: 'abnormal', label: 'High' },
  L: { severity: 'abnormal', label: 'Low' },
  A: { severity: 'abnormal', label: 'Abnormal' },
  HU: { severity: 'abnormal', label: 'Significantly high' },
  LU: { severity: 'abnormal', label: 'Significantly low' },
  '>': { severity: 'abnormal', label: 'Above scale' },
  '<': { severity: 'abnormal', label: 'Below scale' },
  N: { severity: 'normal', label: 'Normal' },
};

const RANK: Readonly<Record<FlagSeverity, number>> = { critical: 3, abnormal: 2, normal: 1, none: 0 };

export const NO_FLAG: ResultFlag = { severity: 'none', label: '' };

/**
 * The most severe flag among an Observation's interpretations. Codes of other systems are read
 * only when they carry no system (local feeds sometimes drop it); an unknown code keeps its
 * display as the label but flags nothing.
 */
export function flagOf(interpretation: readonly CodeableConcept[] | undefined): ResultFlag {
  let worst: ResultFlag = NO_FLAG;
  for (const concept of interpretation ?? []) {
    for (const coding of concept.coding ?? []) {
      if (coding.code === undefined) continue;
      if (coding.system !== undefined && coding.system !== INTERPRETATION_SYSTEM) continue;
      const known = FLAGS[coding.code];
      const flag: ResultFlag =
        known !== undefined
          ? { ...known, code: coding.code }
          : { severity: 'none', code: coding.code, label: coding.display ?? concept.text ?? coding.code };
      worst = worseFlag(worst, flag);
    }
  }
  return worst;
}

/** The more severe of two flags (the first on a tie). */
export function worseFlag(a: ResultFlag, b: ResultFlag): ResultFlag {
  return RANK[b.severity] > RANK[a.severity] ? b : a;
}

/** Orders severities for sorting: critical first. */
export function severityRank(severity: FlagSeverity): number {
  return RANK[severity];
}

/** `corrected` and `amended` both mean an earlier value was replaced. */
export function isCorrectedStatus(status: string | undefined): boolean {
  return status === 'corrected' || status === 'amended';
}
