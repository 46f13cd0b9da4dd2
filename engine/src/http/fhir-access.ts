/**
 * What a caller's scopes let it do on one resource type of the /fhir API, including the
 * patient restriction of `patient/` scopes, decided once per request and enforced by the store.
 */
import { allowsResource, scopeGrants, type AccessContext, type Interaction } from '../auth/access-context';
import { isInPatientCompartment } from '../store/fhir-compartment';
import type { StoredResource } from '../store/fhir-types';

/** The outcome of a scope check: refused, or allowed (possibly only within some patients' data). */
export type FhirAccess =
  | { readonly allowed: false; readonly reason: string }
  | {
      readonly allowed: true;
      /** Set when only these patients' data may be returned; undefined means any patient's. */
      readonly compartmentPatients: ReadonlySet<string> | undefined;
    };

/**
 * Decides `interaction` on `resourceType`. A `system/` or `user/` scope allows it outright; a
 * `patient/` scope allows it only within the token's patients, and not at all for a token bound
 * to no patient. A token bound to an empty set (an EHR token exchange that matched nobody) is
 * allowed within no patient: its searches find no patient data, rather than failing.
 * Scopes with `?` filters grant nothing here (see `scopeGrants`), so they are never widened.
 */
export function decideAccess(ctx: AccessContext, resourceType: string, interaction: Interaction): FhirAccess {
  if (!allowsResource(ctx, resourceType, interaction)) {
    return { allowed: false, reason: `the token's scopes do not allow '${interaction}' on ${resourceType}` };
  }
  const broad = ctx.scopes.some(
    (s) => !s.startsWith('patient/') && scopeGrants(s, resourceType, interaction),
  );
  if (broad) return { allowed: true, compartmentPatients: undefined };
  if (ctx.patients === undefined) {
    return { allowed: false, reason: 'patient/ scopes need a patient in the launch context' };
  }
  return { allowed: true, compartmentPatients: ctx.patients };
}

/**
 * True when a request names a Patient outside the caller's patients (`Patient/<id>`, its
 * history, `$everything`): refused 403 whether or not that Patient exists, so the answer says
 * nothing about other patients. Other types are only known to be another patient's once read,
 * so those stay 404, and searches stay filtered.
 */
export function namesOtherPatient(
  patients: ReadonlySet<string> | undefined,
  resourceType: string,
  id: string | undefined,
): boolean {
  return patients !== undefined && resourceType === 'Patient' && id !== undefined && !patients.has(id);
}

/** True when `r` lies within `patients` (undefined: no patient restriction). */
export function withinPatients(patients: ReadonlySet<string> | undefined, r: StoredResource): boolean {
  return patients === undefined || isInPatientCompartment(r.resourceType, r.resource, patients);
}

/** True when `access` is allowed and admits `r`: no patient restriction, or `r` is in its patients' compartment. */
export function admits(access: FhirAccess, r: StoredResource): boolean {
  return access.allowed && withinPatients(access.compartmentPatients, r);
}
