/**
 * Runs a FHIR search: one count, one page of matches, and the resources `_include` asks for,
 * each a single indexed query whatever the page size.
 */
import type { Queryable } from './db';
import { isInPatientCompartment } from './fhir-compartment';
import { readReferences, toStoredResource } from './fhir-read';
import type { SearchQuery } from './fhir-search-query';
import { createSqlParams, orderSql, whereSql } from './fhir-search-sql';
import type { FhirResource, StoredResource } from './fhir-types';

/** Restrictions the caller's access puts on a search. */
export interface SearchOptions {
  /** Only these patients' data (a patient-bound token); undefined means no restriction. */
  readonly compartmentPatients?: ReadonlySet<string> | undefined;
}

/** One page of a search. */
export interface SearchResult {
  /** Matches over all pages. */
  readonly total: number;
  readonly matches: readonly StoredResource[];
  /** Resources `_include` added, not among the matches. */
  readonly included: readonly StoredResource[];
}

interface Row {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  resource: FhirResource;
}

async function findIncluded(
  db: Queryable,
  query: SearchQuery,
  matches: readonly StoredResource[],
  compartmentPatients: ReadonlySet<string> | undefined,
): Promise<StoredResource[]> {
  if (query.include.length === 0 || matches.length === 0) return [];
  const p = createSqlParams();
  const ids = matches.map((m) => p.add(m.id)).join(', ');
  const includes = query.include.map((inc) => {
    const targets = inc.targets.map((t) => `i.reference LIKE ${p.add(`${t}/%`)}`).join(' OR ');
    return `(i.param = ${p.add(inc.param)} AND (${targets}))`;
  });
  const rows = await db.query<{ reference: string }>(
    `SELECT DISTINCT i.reference FROM fhir_search_index i
     WHERE i.resource_type = ${p.add(query.type)} AND i.id IN (${ids}) AND (${includes.join(' OR ')})`,
    p.values,
  );
  const matched = new Set(matches.map((m) => `${m.resourceType}/${m.id}`));
  const wanted = rows.map((r) => r.reference).filter((ref) => !matched.has(ref));
  const found = await readReferences(db, wanted);
  const visible =
    compartmentPatients === undefined
      ? found
      : found.filter((f) => isInPatientCompartment(f.resourceType, f.resource, compartmentPatients));
  return visible.sort((a, b) => `${a.resourceType}/${a.id}`.localeCompare(`${b.resourceType}/${b.id}`));
}

/**
 * Runs `query` (from `parseSearchQuery`) and returns the total, the requested page and its
 * includes. `_count=0` returns the total only.
 */
export async function searchResources(
  db: Queryable,
  query: SearchQuery,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const p = createSqlParams();
  const where = whereSql(p, query, options.compartmentPatients);
  const [countRow] = await db.query<{ total: number }>(
    `SELECT count(*)::int AS total FROM fhir_resources r WHERE ${where}`,
    [...p.values],
  );
  const total = countRow?.total ?? 0;
  if (query.count === 0 || query.offset >= total) return { total, matches: [], included: [] };
  const order = orderSql(p, query.sort);
  const rows = await db.query<Row>(
    `SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.deleted, r.resource
     FROM fhir_resources r WHERE ${where}
     ORDER BY ${order} LIMIT ${p.add(query.count)} OFFSET ${p.add(query.offset)}`,
    p.values,
  );
  const matches = rows.map(toStoredResource);
  return { total, matches, included: await findIncluded(db, query, matches, options.compartmentPatients) };
}
