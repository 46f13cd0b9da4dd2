/**
 * Which elements of a resource name the Patient it belongs to. The index, the patient search
 * parameter and patient merges read this one table, so a merge moves exactly what a search by
 * patient finds (and the other elements naming the same person).
 */
import { referencesTo } from './fhir-index-values';
import type { JsonObject } from './fhir-json';

/** An element of a resource that may name a Patient, and the search parameter indexing it. */
export interface PatientLink {
  readonly element: string;
  readonly param: string;
}

const SUBJECT_OR_PATIENT: readonly PatientLink[] = [
  { element: 'subject', param: 'patient' },
  { element: 'patient', param: 'patient' },
];

/**
 * Types that name their patient elsewhere than `subject`/`patient`, or not at all. Coverage follows the FHIR
 * patient CompartmentDefinition (policy-holder, subscriber, beneficiary, payor): each of those
 * may be the merged Patient (a self-insured subscriber is the beneficiary), so a merge moves
 * them all. Only `beneficiary` is its `patient` (whose record it is, and what a patient-bound
 * token is checked against): a parent's token does not see a child's Coverage it subscribes.
 */
const PATIENT_LINKS: Readonly<Record<string, readonly PatientLink[]>> = {
  Coverage: [
    { element: 'beneficiary', param: 'patient' },
    { element: 'subscriber', param: 'subscriber' },
    { element: 'policyHolder', param: 'policy-holder' },
    { element: 'payor', param: 'payor' },
  ],
  // A Provenance says what a message wrote (its patient is among its targets): a merge moves the
  // records, not their history, so it keeps naming the Patient that was written.
  Provenance: [],
};

/** Where resources of `type` name a Patient a merge re-points. */
export function patientLinksOf(type: string): readonly PatientLink[] {
  return PATIENT_LINKS[type] ?? SUBJECT_OR_PATIENT;
}

/** Every search parameter some type indexes a re-pointable Patient reference under. */
export const PATIENT_LINK_PARAMS: readonly string[] = [
  ...new Set([...SUBJECT_OR_PATIENT, ...Object.values(PATIENT_LINKS).flat()].map((l) => l.param)),
];

/** The Patient a resource belongs to: its type's `patient` links (`subject`/`patient` by default). */
export function patientReferencesOf(r: JsonObject): string[] {
  const type = typeof r['resourceType'] === 'string' ? r['resourceType'] : '';
  return patientLinksOf(type)
    .filter((l) => l.param === 'patient')
    .flatMap((l) => referencesTo('Patient', r[l.element]));
}
