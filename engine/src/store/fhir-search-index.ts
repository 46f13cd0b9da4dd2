/**
 * Keeps `fhir_search_index` in step with the current version of each resource: values are
 * extracted once at write time, so a search is an indexed lookup, never a JSON scan.
 */
import type { JsonObject } from './fhir-json';
import { patientReferencesOf } from './fhir-patient-links';
import { SEARCH_PARAMS, type SearchParamDefinition } from './fhir-search-params';

/** One row of `fhir_search_index` for one resource. */
export interface IndexRow {
  readonly param: string;
  readonly system: string | null;
  readonly value: string | null;
  readonly dateStart: string | null;
  readonly dateEnd: string | null;
  readonly reference: string | null;
}

const EMPTY = { system: null, value: null, dateStart: null, dateEnd: null, reference: null } as const;

function rowsOf(def: SearchParamDefinition, resource: JsonObject): IndexRow[] {
  const param = def.name;
  switch (def.type) {
    case 'token':
      return def.extract(resource).map((t) => ({ ...EMPTY, param, system: t.system ?? null, value: t.code }));
    case 'string':
      return def.extract(resource).map((value) => ({ ...EMPTY, param, value }));
    case 'date':
      return def.extract(resource).map((d) => ({ ...EMPTY, param, dateStart: d.start, dateEnd: d.end }));
    case 'reference':
      return def.extract(resource).map((reference) => ({ ...EMPTY, param, reference }));
  }
}

/**
 * The index rows of a resource. Every type gets `patient` rows from `subject`/`patient`, even
 * types the API does not search, so a merge finds everything that names the merged patient.
 * Throws FhirStoreError (`invalid`) when an indexed date is malformed.
 */
export function extractIndexRows(type: string, resource: JsonObject): IndexRow[] {
  const defs = SEARCH_PARAMS[type] ?? [];
  const rows = defs.flatMap((def) => rowsOf(def, resource));
  if (!defs.some((d) => d.name === 'patient')) {
    rows.push(
      ...patientReferencesOf(resource).map((reference) => ({ ...EMPTY, param: 'patient', reference })),
    );
  }
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = JSON.stringify(row);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
