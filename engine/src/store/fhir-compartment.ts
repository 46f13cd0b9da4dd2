/**
 * The patient compartment: which stored resources belong to a set of patients. A token bound to
 * patients (EHR launch with patient/ scopes) may see only these, on reads, searches and includes.
 */
import type { JsonObject } from './fhir-json';
import { SEARCH_PARAMS } from './fhir-search-params';

/**
 * Types without a `patient` parameter that hold no patient data. Any other such type (a Group
 * roster names its member patients, a Subscription's filter may name one) is hidden from a caller
 * restricted to patients: a type is assumed to hold patient data unless listed here.
 */
const WITHOUT_PATIENT_DATA: ReadonlySet<string> = new Set([
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'Endpoint',
]);

/** Patient references of a roster Group's members (for the audit trail). */
function groupMembers(resource: JsonObject): string[] {
  const members = Array.isArray(resource['member']) ? resource['member'] : [];
  return members.flatMap((m) => {
    const ref = ((m as JsonObject)['entity'] as JsonObject | undefined)?.['reference'];
    return typeof ref === 'string' && ref.startsWith('Patient/') ? [ref.slice('Patient/'.length)] : [];
  });
}

/** True when `type` holds patient data reached through a `patient` search parameter. */
export function hasPatientParam(type: string): boolean {
  return SEARCH_PARAMS[type]?.some((p) => p.name === 'patient') === true;
}

/**
 * True when `resource` may be shown to a caller restricted to `patientIds`: one of those
 * Patients, a resource whose patient is one of them, or a type that holds no patient data
 * (Practitioner, Organization, Location, Endpoint). An empty set admits no patient data at all.
 */
export function isInPatientCompartment(
  type: string,
  resource: JsonObject,
  patientIds: ReadonlySet<string>,
): boolean {
  if (type === 'Patient') return typeof resource['id'] === 'string' && patientIds.has(resource['id']);
  const def = SEARCH_PARAMS[type]?.find((p) => p.name === 'patient');
  if (def?.type !== 'reference') return WITHOUT_PATIENT_DATA.has(type);
  return def
    .extract(resource)
    .some((ref) => ref.startsWith('Patient/') && patientIds.has(ref.slice('Patient/'.length)));
}

/** IDs of the patients whose data `resource` is (for the audit trail); empty for other types. */
export function patientIdsOf(type: string, resource: JsonObject): string[] {
  if (type === 'Patient') return typeof resource['id'] === 'string' ? [resource['id']] : [];
  if (type === 'Group') return groupMembers(resource);
  const def = SEARCH_PARAMS[type]?.find((p) => p.name === 'patient');
  if (def?.type !== 'reference') return [];
  return def.extract(resource).map((ref) => ref.slice('Patient/'.length));
}
