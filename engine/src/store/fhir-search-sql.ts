/**
 * Compiles a SearchQuery to parameterised SQL over `fhir_resources r` and the search index.
 * Every value is a bind parameter; only parameter names from the SearchParam table, never
 * from the request, reach the SQL text.
 */
import type { Criterion, DateMatch, SearchQuery, SortKey, TokenMatch } from './fhir-search-query';
import { hasPatientParam } from './fhir-compartment';

/** Bind parameters collected while compiling; `add` returns the placeholder. */
export interface SqlParams {
  readonly values: unknown[];
  add(value: unknown): string;
}

/** A fresh parameter list. */
export function createSqlParams(): SqlParams {
  const values: unknown[] = [];
  return {
    values,
    add(value) {
      values.push(value);
      return `$${values.length}`;
    },
  };
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

function any(conditions: readonly string[]): string {
  return conditions.length === 0 ? 'FALSE' : `(${conditions.join(' OR ')})`;
}

function indexExists(p: SqlParams, param: string, condition: string): string {
  return `EXISTS (SELECT 1 FROM fhir_search_index i WHERE i.resource_type = r.resource_type AND i.id = r.id
    AND i.param = ${p.add(param)} AND ${condition})`;
}

/** Interval comparison of a resource's `[rs, re)` with a search value's `[vs, ve)`. */
function dateCondition(p: SqlParams, rs: string, re: string, m: DateMatch): string {
  // Placeholders are added only when used: PostgreSQL refuses a parameter it cannot type.
  const vs = (): string => `${p.add(m.range.start)}::timestamptz`;
  const ve = (): string => `${p.add(m.range.end)}::timestamptz`;
  switch (m.prefix) {
    case 'eq':
      return `(${rs} >= ${vs()} AND ${re} <= ${ve()})`;
    case 'ne':
      return `NOT (${rs} >= ${vs()} AND ${re} <= ${ve()})`;
    case 'gt':
      return `${re} > ${ve()}`;
    case 'ge':
      return `${re} > ${vs()}`;
    case 'lt':
      return `${rs} < ${vs()}`;
    case 'le':
      return `${rs} < ${ve()}`;
    case 'sa':
      return `${rs} >= ${ve()}`;
    case 'eb':
      return `${re} <= ${vs()}`;
  }
}

function tokenCondition(p: SqlParams, t: TokenMatch): string {
  const parts: string[] = [];
  if (t.code !== undefined) parts.push(`i.value = ${p.add(t.code)}`);
  if (t.system === null) parts.push('i.system IS NULL');
  else if (t.system !== undefined) parts.push(`i.system = ${p.add(t.system)}`);
  return `(${parts.join(' AND ')})`;
}

function criterionSql(p: SqlParams, c: Criterion): string {
  switch (c.kind) {
    case 'id':
      return `r.id IN (${c.values.map((v) => p.add(v)).join(', ')})`;
    case 'lastUpdated': {
      const end = "r.last_updated + interval '1 millisecond'";
      return any(c.values.map((m) => dateCondition(p, 'r.last_updated', end, m)));
    }
    case 'token':
      return indexExists(p, c.param, any(c.values.map((t) => tokenCondition(p, t))));
    case 'string':
      return indexExists(p, c.param, any(c.values.map((v) => `i.value LIKE ${p.add(`${escapeLike(v)}%`)}`)));
    case 'date':
      return indexExists(
        p,
        c.param,
        any(c.values.map((m) => dateCondition(p, 'i.date_start', 'i.date_end', m))),
      );
    case 'reference':
      return indexExists(p, c.param, `i.reference IN (${c.values.map((v) => p.add(v)).join(', ')})`);
  }
}

function compartmentSql(p: SqlParams, type: string, patientIds: ReadonlySet<string>): string | undefined {
  const ids = [...patientIds].sort();
  if (type !== 'Patient' && !hasPatientParam(type)) return undefined;
  if (ids.length === 0) return 'FALSE';
  if (type === 'Patient') return `r.id IN (${ids.map((id) => p.add(id)).join(', ')})`;
  return indexExists(p, 'patient', `i.reference IN (${ids.map((id) => p.add(`Patient/${id}`)).join(', ')})`);
}

/**
 * The WHERE clause of a search (without the keyword).
 * @param compartmentPatients - when set, only those patients' data (and non-patient types) match;
 *   an empty set matches no patient data.
 */
export function whereSql(
  p: SqlParams,
  query: SearchQuery,
  compartmentPatients: ReadonlySet<string> | undefined,
): string {
  const parts = [`r.resource_type = ${p.add(query.type)}`, 'NOT r.deleted'];
  parts.push(...query.criteria.map((c) => criterionSql(p, c)));
  const compartment =
    compartmentPatients === undefined ? undefined : compartmentSql(p, query.type, compartmentPatients);
  if (compartment !== undefined) parts.push(compartment);
  return parts.join('\n  AND ');
}

function sortSql(p: SqlParams, key: SortKey): string {
  const dir = key.descending ? 'DESC' : 'ASC';
  if (key.param === '_id') return `r.id ${dir}`;
  if (key.param === '_lastUpdated') return `r.last_updated ${dir}`;
  const aggregate = key.descending ? 'max' : 'min';
  return `(SELECT ${aggregate}(i.date_start) FROM fhir_search_index i WHERE i.resource_type = r.resource_type
    AND i.id = r.id AND i.param = ${p.add(key.param)}) ${dir} NULLS LAST`;
}

/** ORDER BY (without the keyword); newest first by default, `id` last so pages are stable. */
export function orderSql(p: SqlParams, sort: readonly SortKey[]): string {
  const keys = sort.length > 0 ? sort.map((k) => sortSql(p, k)) : ['r.last_updated DESC'];
  return [...keys, 'r.id ASC'].join(', ');
}
