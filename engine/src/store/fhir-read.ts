/**
 * Reads of one resource: its current version, one past version, or all of its history. Deleted
 * versions are returned flagged, so the API can answer 410 Gone rather than 404.
 */
import type { Queryable } from './db';
import type { FhirResource, StoredResource } from './fhir-types';

/** A version row as `VERSION_COLUMNS` selects it. */
export interface VersionRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  resource: FhirResource;
}

const COLUMNS = 'resource_type, id, version_id, last_updated, deleted, resource';

/** The columns of a `VersionRow`, qualified by a table alias, for queries of other modules. */
export function versionColumns(alias: string): string {
  return COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
}

/** A row of `fhir_resources` or `fhir_resource_history` as a StoredResource. */
export function toStoredResource(row: VersionRow): StoredResource {
  const lastUpdated = row.last_updated instanceof Date ? row.last_updated.toISOString() : row.last_updated;
  return {
    resourceType: row.resource_type,
    id: row.id,
    versionId: String(row.version_id),
    lastUpdated,
    deleted: row.deleted,
    resource: row.resource,
  };
}

/** The current version of `type/id`, or undefined when it was never stored. */
export async function readResource(
  db: Queryable,
  type: string,
  id: string,
): Promise<StoredResource | undefined> {
  const [row] = await db.query<VersionRow>(
    `SELECT ${COLUMNS} FROM fhir_resources WHERE resource_type = $1 AND id = $2`,
    [type, id],
  );
  return row === undefined ? undefined : toStoredResource(row);
}

/** Version `versionId` of `type/id`, or undefined when there is no such version. */
export async function readVersion(
  db: Queryable,
  type: string,
  id: string,
  versionId: number,
): Promise<StoredResource | undefined> {
  const [row] = await db.query<VersionRow>(
    `SELECT ${COLUMNS} FROM fhir_resource_history WHERE resource_type = $1 AND id = $2 AND version_id = $3`,
    [type, id, versionId],
  );
  return row === undefined ? undefined : toStoredResource(row);
}

/** Every version of `type/id`, newest first; empty when it was never stored. */
export async function readHistory(db: Queryable, type: string, id: string): Promise<StoredResource[]> {
  const rows = await db.query<VersionRow>(
    `SELECT ${COLUMNS} FROM fhir_resource_history WHERE resource_type = $1 AND id = $2 ORDER BY version_id DESC`,
    [type, id],
  );
  return rows.map(toStoredResource);
}

/** Current, non-deleted resources by `Type/id` reference, in no particular order. */
export async function readReferences(
  db: Queryable,
  references: readonly string[],
): Promise<StoredResource[]> {
  if (references.length === 0) return [];
  const params: string[] = [];
  const tuples = references.map((ref) => {
    const slash = ref.indexOf('/');
    params.push(ref.slice(0, slash), ref.slice(slash + 1));
    return `($${params.length - 1}, $${params.length})`;
  });
  const rows = await db.query<VersionRow>(
    `SELECT ${COLUMNS} FROM fhir_resources WHERE NOT deleted AND (resource_type, id) IN (${tuples.join(', ')})`,
    params,
  );
  return rows.map(toStoredResource);
}
