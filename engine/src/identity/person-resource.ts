/**
 * The FHIR R4 `Person` of an identity person. Persons are not stored as FHIR: each read builds
 * one from `identity_persons` and `identity_records`, so what the API shows is always what the
 * linker decided, never a copy that could lag behind it.
 */
import type { Queryable } from '../store/db';
import type { FhirResource, StoredResource } from '../store/fhir-types';

/** A person as served: its FHIR form and the Patients it links (in link order). */
export interface PersonView {
  readonly stored: StoredResource;
  readonly patientIds: readonly string[];
}

/** What reading one person id finds. */
export type PersonLookup =
  | { readonly kind: 'found'; readonly person: PersonView }
  /** Retired when its last record left; `mergedInto` names the person they joined, if any. */
  | { readonly kind: 'retired'; readonly mergedInto: string | undefined }
  | { readonly kind: 'missing' };

interface PersonRow {
  id: string;
  version_id: number;
  active: boolean;
  merged_into: string | null;
  updated_at: Date | string;
}

interface LinkRow {
  patient_id: string;
  assurance: 'level3' | 'level4';
}

/** The demographics a Person repeats from its Patients (FHIR Person has no MRN of its own). */
const COPIED = ['name', 'gender', 'birthDate'] as const;

function isoOf(t: Date | string): string {
  return t instanceof Date ? t.toISOString() : new Date(t).toISOString();
}

/**
 * The demographics of the most recently updated active Patient among `patientIds`: the record a
 * facility touched last is the likeliest to be current (a new address, a corrected name).
 */
async function latestDemographics(
  db: Queryable,
  patientIds: readonly string[],
): Promise<FhirResource | undefined> {
  if (patientIds.length === 0) return undefined;
  const [row] = await db.query<{ resource: FhirResource }>(
    `SELECT resource FROM fhir_resources
      WHERE resource_type = 'Patient' AND id = ANY($1::text[]) AND NOT deleted
        AND COALESCE(resource->>'active', 'true') <> 'false'
      ORDER BY last_updated DESC, id LIMIT 1`,
    [patientIds],
  );
  return row?.resource;
}

/** Reads person `id` as FHIR. */
export async function readPerson(db: Queryable, id: string): Promise<PersonLookup> {
  const [row] = await db.query<PersonRow>(
    `SELECT id, version_id, active, merged_into, updated_at FROM identity_persons WHERE id = $1`,
    [id],
  );
  if (row === undefined) return { kind: 'missing' };
  if (!row.active) return { kind: 'retired', mergedInto: row.merged_into ?? undefined };
  const links = await db.query<LinkRow>(
    `SELECT patient_id, assurance FROM identity_records WHERE person_id = $1 ORDER BY patient_id`,
    [id],
  );
  const patientIds = links.map((l) => l.patient_id);
  const source = await latestDemographics(db, patientIds);
  const copied = Object.fromEntries(
    COPIED.filter((k) => source?.[k] !== undefined).map((k) => [k, source?.[k]]),
  );
  const lastUpdated = isoOf(row.updated_at);
  const resource: FhirResource = {
    resourceType: 'Person',
    id: row.id,
    meta: { versionId: String(row.version_id), lastUpdated },
    active: true,
    ...copied,
    link: links.map((l) => ({ target: { reference: `Patient/${l.patient_id}` }, assurance: l.assurance })),
  };
  return {
    kind: 'found',
    person: {
      stored: {
        resourceType: 'Person',
        id: row.id,
        versionId: String(row.version_id),
        lastUpdated,
        deleted: false,
        resource,
      },
      patientIds,
    },
  };
}

/** The person id `patientId` is linked to, or undefined for a Patient not (yet) linked. */
export async function personIdOf(db: Queryable, patientId: string): Promise<string | undefined> {
  const [row] = await db.query<{ person_id: string }>(
    `SELECT person_id FROM identity_records WHERE patient_id = $1`,
    [patientId],
  );
  return row?.person_id;
}

/**
 * The Persons linking `patientId` (for `Person?link=`): at most one, since a record belongs to
 * exactly one person, but a list so the search reads as one.
 */
export async function personsLinking(db: Queryable, patientId: string): Promise<PersonView[]> {
  const personId = await personIdOf(db, patientId);
  if (personId === undefined) return [];
  const found = await readPerson(db, personId);
  return found.kind === 'found' ? [found.person] : [];
}
