/**
 * Which US Core 5.0.1 profile a mapped resource should meet: one per type, Condition by its
 * category, Observation by its category and, for a vital sign, its LOINC code. US Core 5.0.1
 * has no profile for an Observation that is neither a lab result nor a vital sign of ours
 * (observation-clinical-result came in 6.0.0): such a one is held to base R4 only.
 */
import type { StructureDefinition } from './us-core-profiles';

/** A resource as the chooser reads it. */
export interface ProfiledResource {
  readonly resourceType: string;
  readonly category?: readonly { readonly coding?: readonly { system?: string; code?: string }[] }[];
  readonly code?: { readonly coding?: readonly { system?: string; code?: string }[] };
  readonly [key: string]: unknown;
}

/** The profile chosen: its short name and definition. */
export interface ProfileChoice {
  readonly name: string;
  readonly definition: StructureDefinition;
}

const US_CORE = 'http://hl7.org/fhir/us/core/StructureDefinition/';
const FHIR_VITALS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';

const BY_TYPE: Readonly<Record<string, string>> = {
  Patient: `${US_CORE}us-core-patient`,
  Encounter: `${US_CORE}us-core-encounter`,
  AllergyIntolerance: `${US_CORE}us-core-allergyintolerance`,
};

function hasCategory(r: ProfiledResource, system: string, code: string): boolean {
  return (r.category ?? []).some((c) => (c.coding ?? []).some((k) => k.system === system && k.code === code));
}

const vitalProfileCache = new WeakMap<Map<string, StructureDefinition>, Map<string, string>>();

/**
 * LOINC code to vital-sign profile, read from the profiles themselves: the FHIR R4 ones fix
 * `code.coding:XCode.code`, US Core's blood pressure a `code` pattern (and wins for 85354-9).
 */
function vitalProfiles(profiles: Map<string, StructureDefinition>): Map<string, string> {
  const cached = vitalProfileCache.get(profiles);
  if (cached !== undefined) return cached;
  const byCode = new Map<string, string>();
  const sds = [...profiles.values()].sort(
    (a, b) => Number(a.url.startsWith(US_CORE)) - Number(b.url.startsWith(US_CORE)),
  );
  for (const sd of sds) {
    if (sd.type !== 'Observation') continue;
    for (const e of sd.snapshot.element) {
      const fixed = /^Observation\.code\.coding:\w+\.code$/.test(e.id) ? e['fixedCode'] : undefined;
      const pattern =
        e.id === 'Observation.code'
          ? (e['patternCodeableConcept'] as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code
          : undefined;
      const code = fixed ?? pattern;
      if (typeof code === 'string') byCode.set(code, sd.url);
    }
  }
  vitalProfileCache.set(profiles, byCode);
  return byCode;
}

function observationProfile(
  r: ProfiledResource,
  profiles: Map<string, StructureDefinition>,
): string | undefined {
  const category = 'http://terminology.hl7.org/CodeSystem/observation-category';
  if (hasCategory(r, category, 'laboratory')) return `${US_CORE}us-core-observation-lab`;
  if (!hasCategory(r, category, 'vital-signs')) return undefined;
  const loinc = (r.code?.coding ?? []).filter((c) => c.system === 'http://loinc.org');
  const byCode = vitalProfiles(profiles);
  for (const c of loinc) {
    const url = c.code !== undefined ? byCode.get(c.code) : undefined;
    if (url !== undefined) return url;
  }
  return FHIR_VITALS;
}

/** The profile a resource should meet, or undefined when US Core 5.0.1 has none for it. */
export function profileForResource(
  r: ProfiledResource,
  profiles: Map<string, StructureDefinition>,
): ProfileChoice | undefined {
  let url: string | undefined = BY_TYPE[r.resourceType];
  if (r.resourceType === 'Condition') {
    const diagnosis = hasCategory(
      r,
      'http://terminology.hl7.org/CodeSystem/condition-category',
      'encounter-diagnosis',
    );
    url = `${US_CORE}us-core-condition-${diagnosis ? 'encounter-diagnosis' : 'problems-health-concerns'}`;
  }
  if (r.resourceType === 'Observation') url = observationProfile(r, profiles);
  if (url === undefined) return undefined;
  const definition = profiles.get(url);
  if (definition === undefined) throw new Error(`profile ${url} is not loaded`);
  return { name: url.slice(url.lastIndexOf('/') + 1), definition };
}
