/**
 * The patient compartment: which stored resources belong to one patient. A token bound to a
 * patient (EHR launch with patient/ scopes) may see only these, on reads, searches and includes.
 */
import type { JsonObject } from './fhir-json';
import { SEARCH_PARAMS } from './fhir-search-params';

/** True when `type` holds patient data reached through a `patient` search parameter. */
export function hasPatientParam(type: string): boolean {
  return SEARCH_PARAMS[type]?.some((p) => p.name === 'patient') === true;
}

/**
 * True when `resource` may be shown to a caller restricted to `patientId`: the Patient itself,
 * a resource whose patient is that Patient, or a type that holds no patient data
 * (Practitioner, Organization, Location ...).
 */
export function isInPatientCompartment(type: string, resource: JsonObject, patientId: string): boolean {
  if (type === 'Patient') return resource['id'] === patientId;
  const def = SEARCH_PARAMS[type]?.find((p) => p.name === 'patient');
  if (def?.type !== 'reference') return true;
  return def.extract(resource).includes(`Patient/${patientId}`);
}
