/**
 * The reference data a timeline names but `$everything` may not carry: the engine's `$everything`
 * returns the patient compartment, and the hospital (Organization), the attending (Practitioner)
 * and the bed with its ward (Location) live outside it. Pure: lists what is referenced and absent,
 * so the source can fetch exactly that (and nothing, when the engine already sent it).
 */
import type { Bundle, Reference } from '../fhir/fhir-resources';

/** Types fetched to complete a timeline, and the fields that point at them. */
export const REFERENCE_TYPES = ['Organization', 'Practitioner', 'Location'] as const;
export type ReferenceType = (typeof REFERENCE_TYPES)[number];

type Json = Record<string, unknown>;

function refsIn(value: unknown): Reference[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  return typeof value === 'object' && value !== null && typeof (value as Json)['reference'] === 'string'
    ? [value]
    : [];
}

/** The references of one resource that can name reference data. */
function referencesOf(r: Json): Reference[] {
  switch (r['resourceType']) {
    case 'Encounter':
      return [
        ...refsIn(r['serviceProvider']),
        ...refsIn(((r['participant'] as Json[] | undefined) ?? []).map((p) => p['individual'])),
        ...refsIn(((r['location'] as Json[] | undefined) ?? []).map((l) => l['location'])),
      ];
    case 'DiagnosticReport':
    case 'Observation':
      return refsIn(r['performer']);
    case 'Patient':
      return refsIn(r['managingOrganization']);
    case 'Location':
      return [...refsIn(r['partOf']), ...refsIn(r['managingOrganization'])];
    default:
      return [];
  }
}

/** Ids of each reference type the Bundle's resources name but the Bundle does not hold. */
export function missingReferences(bundle: Bundle): Map<ReferenceType, string[]> {
  const present = new Set<string>();
  for (const e of bundle.entry ?? []) {
    if (e.resource?.id !== undefined) present.add(`${e.resource.resourceType}/${e.resource.id}`);
  }
  const missing = new Map<ReferenceType, Set<string>>();
  for (const e of bundle.entry ?? []) {
    if (e.resource === undefined) continue;
    for (const ref of referencesOf(e.resource as unknown as Json)) {
      const [type, id] = (ref.reference ?? '').split('/').slice(-2);
      if (type === undefined || id === undefined || id === '') continue;
      if (!(REFERENCE_TYPES as readonly string[]).includes(type) || present.has(`${type}/${id}`)) continue;
      const set = missing.get(type as ReferenceType) ?? new Set<string>();
      set.add(id);
      missing.set(type as ReferenceType, set);
    }
  }
  return new Map([...missing].map(([type, ids]) => [type, [...ids].sort()]));
}
