/**
 * Turns a FHIR search query string into a checked SearchQuery. Anything this server would
 * silently ignore (an unknown parameter, modifier or prefix) is refused instead, because a
 * filter that is dropped returns other patients' data that the caller did not ask for.
 */
import { parseFhirDate, type DateRange } from './fhir-date';
import { normalizeString } from './fhir-index-values';
import { findSearchParam, PARAM_ALIASES, type ReferenceParam } from './fhir-search-params';
import { FhirStoreError, FhirStoreErrorCode } from './fhir-store-error';

/** Date comparison prefixes; `ap` (approximately) is not supported. */
export type DatePrefix = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'sa' | 'eb';

/** `system|code`: system undefined matches any system, null matches none; code undefined any code. */
export interface TokenMatch {
  readonly system: string | null | undefined;
  readonly code: string | undefined;
}

/** A date value with its prefix. */
export interface DateMatch {
  readonly prefix: DatePrefix;
  readonly range: DateRange;
}

/** One parameter occurrence; its values are ORed, occurrences are ANDed. */
export type Criterion =
  | { readonly kind: 'token'; readonly param: string; readonly values: readonly TokenMatch[] }
  | { readonly kind: 'string'; readonly param: string; readonly values: readonly string[] }
  | { readonly kind: 'date'; readonly param: string; readonly values: readonly DateMatch[] }
  | { readonly kind: 'reference'; readonly param: string; readonly values: readonly string[] }
  | { readonly kind: 'id'; readonly values: readonly string[] }
  | { readonly kind: 'lastUpdated'; readonly values: readonly DateMatch[] };

/** `_sort` key: `_id`, `_lastUpdated` or a date parameter of the type. */
export interface SortKey {
  readonly param: string;
  readonly descending: boolean;
}

/** `_include=Source:param[:Target]`. */
export interface IncludeSpec {
  readonly param: string;
  readonly targets: readonly string[];
}

/** A validated search on one resource type. */
export interface SearchQuery {
  readonly type: string;
  readonly criteria: readonly Criterion[];
  readonly sort: readonly SortKey[];
  readonly count: number;
  readonly offset: number;
  readonly include: readonly IncludeSpec[];
  /** The received parameters minus `_count`/`_offset`, for building paging links. */
  readonly canonical: readonly (readonly [string, string])[];
}

/** Page size when `_count` is absent. */
export const DEFAULT_COUNT = 50;
/** Largest page served; a larger `_count` is lowered to it, as FHIR allows. */
export const MAX_COUNT = 500;

/**
 * Bounds on one search, so a single request cannot tie up PostgreSQL: each ANDed parameter is a
 * semi-join (planning time grows steeply with their number: 200 took 9 s), each ORed value and
 * each sort key another condition or subquery.
 */
export const SEARCH_LIMITS = {
  /** ANDed parameter occurrences (`_count`, `_offset`, `_sort`, `_include`, `_format` aside). */
  criteria: 20,
  /** Comma-separated values of one occurrence. */
  valuesPerParameter: 1000,
  /** Characters of one value. */
  valueLength: 1024,
  sortKeys: 8,
  includes: 10,
} as const;

/** 0001-01-01T00:00:00Z: a search date earlier than this (after its offset) is refused. */
const EARLIEST_INSTANT = Date.parse('0001-01-01T00:00:00Z');

const PREFIXES: readonly string[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'sa', 'eb'];
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json']);

function invalid(message: string, param: string): FhirStoreError {
  return new FhirStoreError(FhirStoreErrorCode.Invalid, message, param);
}

function notSupported(message: string, param: string): FhirStoreError {
  return new FhirStoreError(FhirStoreErrorCode.NotSupported, message, param);
}

/** Splits on `sep` not escaped by `\`, unescaping `\,` `\|` `\$` `\\`. */
export function splitEscaped(value: string, sep: ',' | '|'): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    if (ch === '\\' && i + 1 < value.length) {
      current += value.charAt(++i);
    } else if (ch === sep) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function parseDate(param: string, raw: string): DateMatch {
  const prefix = /^[a-z]{2}(?=\d)/.exec(raw)?.[0];
  if (prefix !== undefined && !PREFIXES.includes(prefix)) {
    throw notSupported(`date prefix "${prefix}" is not supported on ${param}`, param);
  }
  const text = prefix === undefined ? raw : raw.slice(2);
  const range = parseFhirDate(text);
  if (range === undefined) throw invalid(`${param}: "${raw}" is not a valid FHIR date`, param);
  // `0001-01-01T00:00:00+14:00` is year 0 in UTC, which PostgreSQL's timestamptz has no text for.
  if (Date.parse(range.start) < EARLIEST_INSTANT) {
    throw invalid(`${param}: "${raw}" is before the year 1`, param);
  }
  return { prefix: (prefix ?? 'eq') as DatePrefix, range };
}

function parseToken(param: string, raw: string): TokenMatch {
  const parts = splitEscaped(raw, '|');
  if (parts.length > 2) throw invalid(`${param}: "${raw}" has more than one "|"`, param);
  const [first = '', second] = parts;
  if (second === undefined) return { system: undefined, code: first };
  if (first === '' && second === '') throw invalid(`${param}: "|" alone names no token`, param);
  return { system: first === '' ? null : first, code: second === '' ? undefined : second };
}

function parseReference(def: ReferenceParam, param: string, raw: string): string {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([^/]+)$/.exec(raw);
  const [type, id] = m
    ? [m[1] ?? '', m[2] ?? '']
    : [def.targets.length === 1 ? def.targets[0] : undefined, raw];
  if (type === undefined) throw invalid(`${param}: "${raw}" must be Type/id`, param);
  if (!def.targets.includes(type)) {
    throw invalid(`${param}: must reference ${def.targets.join(' or ')}`, param);
  }
  if (!ID_RE.test(id)) throw invalid(`${param}: "${id}" is not a valid id`, param);
  return `${type}/${id}`;
}

function parseCriterion(type: string, name: string, value: string): Criterion {
  const raw = splitEscaped(value, ',').filter((v) => v !== '');
  if (raw.length === 0) throw invalid(`${name}: "${value}" holds no value`, name);
  if (raw.length > SEARCH_LIMITS.valuesPerParameter) {
    throw invalid(`${name}: at most ${SEARCH_LIMITS.valuesPerParameter} values, got ${raw.length}`, name);
  }
  if (raw.some((v) => v.length > SEARCH_LIMITS.valueLength)) {
    throw invalid(`${name}: a value may have at most ${SEARCH_LIMITS.valueLength} characters`, name);
  }
  if (name === '_id') {
    const bad = raw.find((v) => !ID_RE.test(v));
    if (bad !== undefined) throw invalid(`_id: "${bad}" is not a valid id`, name);
    return { kind: 'id', values: raw };
  }
  if (name === '_lastUpdated') return { kind: 'lastUpdated', values: raw.map((v) => parseDate(name, v)) };
  const def = findSearchParam(type, name);
  if (def === undefined) throw notSupported(`unknown search parameter "${name}" for ${type}`, name);
  switch (def.type) {
    case 'token':
      return { kind: 'token', param: def.name, values: raw.map((v) => parseToken(name, v)) };
    case 'string':
      return { kind: 'string', param: def.name, values: raw.map(normalizeString) };
    case 'date':
      return { kind: 'date', param: def.name, values: raw.map((v) => parseDate(name, v)) };
    case 'reference':
      return { kind: 'reference', param: def.name, values: raw.map((v) => parseReference(def, name, v)) };
  }
}

function parseSort(type: string, value: string): SortKey[] {
  const items = value.split(',').filter((v) => v !== '');
  if (items.length > SEARCH_LIMITS.sortKeys) {
    throw invalid(`_sort: at most ${SEARCH_LIMITS.sortKeys} keys, got ${items.length}`, '_sort');
  }
  return items.map((item) => {
    const descending = item.startsWith('-');
    const param = descending ? item.slice(1) : item;
    const ok = param === '_id' || param === '_lastUpdated' || findSearchParam(type, param)?.type === 'date';
    if (!ok) throw notSupported(`_sort by "${param}" is not supported for ${type}`, '_sort');
    return { param: PARAM_ALIASES[param] ?? param, descending };
  });
}

function parseInclude(type: string, value: string): IncludeSpec {
  const [source, name = '', target] = value.split(':');
  const def = source === type ? findSearchParam(type, name) : undefined;
  if (def?.type !== 'reference') {
    throw notSupported(`_include=${value} is not supported on ${type}`, '_include');
  }
  if (target !== undefined && !def.targets.includes(target)) {
    throw invalid(`_include=${value}: ${name} does not reference ${target}`, '_include');
  }
  return { param: def.name, targets: target === undefined ? def.targets : [target] };
}

function parseNonNegative(name: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw invalid(`${name} must be a non-negative integer, got "${value}"`, name);
  return Number(value);
}

/**
 * Parses and checks the parameters of a search on `type`.
 * @param params - name/value pairs in received order (URLSearchParams entries); repeats AND.
 * @throws FhirStoreError `not-supported` naming an unknown parameter, modifier or prefix, and
 *   `invalid` for a malformed value (a date, a count, a reference) or a search beyond SEARCH_LIMITS.
 */
export function parseSearchQuery(type: string, params: Iterable<readonly [string, string]>): SearchQuery {
  const criteria: Criterion[] = [];
  const include: IncludeSpec[] = [];
  const canonical: (readonly [string, string])[] = [];
  let sort: SortKey[] = [];
  let count = DEFAULT_COUNT;
  let offset = 0;
  for (const [name, value] of params) {
    if (name === '_count') count = Math.min(parseNonNegative(name, value), MAX_COUNT);
    else if (name === '_offset') offset = parseNonNegative(name, value);
    else if (name === '_sort') sort = parseSort(type, value);
    else if (name === '_include') {
      if (include.length === SEARCH_LIMITS.includes) {
        throw invalid(`at most ${SEARCH_LIMITS.includes} _include parameters`, name);
      }
      include.push(parseInclude(type, value));
    } else if (name === '_format') {
      if (!JSON_FORMATS.has(value)) throw notSupported(`_format=${value}: only JSON is served`, name);
    } else if (name.includes(':')) {
      throw notSupported(`search modifier on "${name}" is not supported`, name);
    } else if (value !== '') {
      if (criteria.length === SEARCH_LIMITS.criteria) {
        throw invalid(`at most ${SEARCH_LIMITS.criteria} search parameters in one search`, name);
      }
      criteria.push(parseCriterion(type, name, value));
    } else if (name !== '_id' && name !== '_lastUpdated' && findSearchParam(type, name) === undefined) {
      throw notSupported(`unknown search parameter "${name}" for ${type}`, name);
    }
    if (name !== '_count' && name !== '_offset') canonical.push([name, value]);
  }
  return { type, criteria, sort, count, offset, include, canonical };
}
