/**
 * A Bundle's resources by type and by `Type/id`, so building the timeline resolves references in
 * constant time: a patient with 500 events has thousands of references to follow.
 */
import type {
  Bundle,
  Communication,
  Condition,
  DiagnosticReport,
  Encounter,
  Location,
  Observation,
  Organization,
  Patient,
  Practitioner,
  Reference,
} from '../fhir/fhir-resources';

export interface ResourceIndex {
  readonly patients: readonly Patient[];
  readonly encounters: readonly Encounter[];
  readonly observations: readonly Observation[];
  readonly reports: readonly DiagnosticReport[];
  readonly conditions: readonly Condition[];
  readonly communications: readonly Communication[];
  readonly organizations: ReadonlyMap<string, Organization>;
  readonly practitioners: ReadonlyMap<string, Practitioner>;
  readonly locations: ReadonlyMap<string, Location>;
  readonly patientsById: ReadonlyMap<string, Patient>;
  readonly encountersById: ReadonlyMap<string, Encounter>;
  readonly observationsById: ReadonlyMap<string, Observation>;
  readonly conditionsById: ReadonlyMap<string, Condition>;
}

/** The `id` of a relative reference to `type` (`Organization/abc` → `abc`), else undefined. */
export function referencedId(ref: Reference | undefined, type: string): string | undefined {
  const value = ref?.reference;
  if (value === undefined) return undefined;
  // `$everything` entries may carry absolute URLs; only the last two segments name the resource.
  const parts = value.split('/');
  const id = parts.at(-1);
  return parts.at(-2) === type && id !== undefined && id !== '' ? id : undefined;
}

/** Indexes every entry of `bundle`; entries without a resource or an id are skipped. */
export function indexBundle(bundle: Bundle): ResourceIndex {
  const patients: Patient[] = [];
  const encounters: Encounter[] = [];
  const observations: Observation[] = [];
  const reports: DiagnosticReport[] = [];
  const conditions: Condition[] = [];
  const communications: Communication[] = [];
  const organizations = new Map<string, Organization>();
  const practitioners = new Map<string, Practitioner>();
  const locations = new Map<string, Location>();
  const patientsById = new Map<string, Patient>();
  const encountersById = new Map<string, Encounter>();
  const observationsById = new Map<string, Observation>();
  const conditionsById = new Map<string, Condition>();
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    if (r?.id === undefined) continue;
    // The Bundle is the JSON boundary: `resourceType` is what tells the shapes apart.
    switch (r.resourceType) {
      case 'Patient':
        patients.push(r as Patient);
        patientsById.set(r.id, r as Patient);
        break;
      case 'Encounter':
        encounters.push(r as Encounter);
        encountersById.set(r.id, r as Encounter);
        break;
      case 'Observation':
        observations.push(r as Observation);
        observationsById.set(r.id, r as Observation);
        break;
      case 'DiagnosticReport':
        reports.push(r as DiagnosticReport);
        break;
      case 'Condition':
        conditions.push(r as Condition);
        conditionsById.set(r.id, r as Condition);
        break;
      case 'Communication':
        communications.push(r as Communication);
        break;
      case 'Organization':
        organizations.set(r.id, r as Organization);
        break;
      case 'Practitioner':
        practitioners.set(r.id, r as Practitioner);
        break;
      case 'Location':
        locations.set(r.id, r as Location);
        break;
      default:
        break;
    }
  }
  return {
    patients,
    encounters,
    observations,
    reports,
    conditions,
    communications,
    organizations,
    practitioners,
    locations,
    patientsById,
    encountersById,
    observationsById,
    conditionsById,
  };
}
