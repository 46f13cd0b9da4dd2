/**
 * The audit record the /fhir API emits for every read and search, whatever it returned or
 * refused. The router does not know how audits are stored; the app passes an `audit` function.
 */
import { patientIdsOf } from '../store/fhir-compartment';
import type { StoredResource } from '../store/fhir-types';

/** One access to patient data through /fhir. */
export interface FhirAuditEvent {
  readonly action: 'read' | 'vread' | 'history' | 'search' | 'create' | 'update' | 'delete';
  /** `denied` when scopes or the patient restriction refused it. */
  readonly outcome: 'success' | 'denied';
  readonly resourceType: string;
  /** For read, vread and history. */
  readonly resourceId?: string;
  /** For search: the query string as received (the audit log redacts demographics). */
  readonly query?: string;
  /** `Type/id` of every resource returned, matches and includes. */
  readonly returned: readonly string[];
  /** Patients whose data was returned (or, when denied, asked for by id). */
  readonly patientIds: readonly string[];
  readonly clientId: string;
  readonly subject?: string;
}

/** `returned` and `patientIds` of an event, from the resources a response carries. */
export function describeReturned(
  resources: readonly StoredResource[],
): Pick<FhirAuditEvent, 'returned' | 'patientIds'> {
  const patients = new Set(resources.flatMap((r) => patientIdsOf(r.resourceType, r.resource)));
  return { returned: resources.map((r) => `${r.resourceType}/${r.id}`), patientIds: [...patients] };
}
