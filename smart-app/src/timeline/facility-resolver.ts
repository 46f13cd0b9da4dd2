/**
 * Which hospital an item is from. The engine keeps what each feed sent: an Encounter names its
 * `serviceProvider`, a lab report its `performer`, and everything has a subject Patient whose
 * `managingOrganization` is the facility that registered it. The first of these that resolves to a
 * named Organization wins; items that name none share one "unknown facility".
 */
import type { Reference } from '../fhir/fhir-resources';
import { referencedId, type ResourceIndex } from './resource-index';

/** The key of items whose facility the feed did not say. */
export const UNKNOWN_FACILITY_KEY = '(unknown)';
export const UNKNOWN_FACILITY_NAME = 'Unknown facility';

export interface FacilityResolver {
  /**
   * The facility of an item: the first of `organizations` that names an Organization, else the
   * managing organization of its `subject` Patient, else the unknown facility.
   */
  keyOf(organizations: readonly (Reference | undefined)[], subject: Reference | undefined): string;
  /** Every key handed out, with the display name first seen for it. */
  readonly names: ReadonlyMap<string, string>;
}

/** Facility key of a name: upper-cased and trimmed, so two Organization ids of one hospital merge. */
export function facilityKeyOf(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toUpperCase();
}

export function createFacilityResolver(index: ResourceIndex): FacilityResolver {
  const names = new Map<string, string>();
  const register = (name: string): string => {
    const key = facilityKeyOf(name);
    if (!names.has(key)) names.set(key, name.trim());
    return key;
  };
  const orgName = (ref: Reference | undefined): string | undefined => {
    const id = referencedId(ref, 'Organization');
    const name = id === undefined ? undefined : index.organizations.get(id)?.name;
    if (name !== undefined && name.trim() !== '') return name;
    // A reference the Bundle does not resolve may still carry the name.
    const display = ref?.display;
    return id !== undefined && display !== undefined && display.trim() !== '' ? display : undefined;
  };
  return {
    names,
    keyOf(organizations, subject) {
      for (const ref of organizations) {
        const name = orgName(ref);
        if (name !== undefined) return register(name);
      }
      const patientId = referencedId(subject, 'Patient');
      const patient = patientId === undefined ? undefined : index.patientsById.get(patientId);
      const name = orgName(patient?.managingOrganization);
      if (name !== undefined) return register(name);
      names.set(UNKNOWN_FACILITY_KEY, UNKNOWN_FACILITY_NAME);
      return UNKNOWN_FACILITY_KEY;
    },
  };
}
