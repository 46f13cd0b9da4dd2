/**
 * Reads search values out of FHIR datatypes (CodeableConcept, Identifier, Period, Reference ...)
 * at write time, so searches compare indexed columns instead of walking JSON per row.
 */
import { parseFhirDate, periodRange, type DateRange } from './fhir-date';
import { asList, asObject, asString, field, type JsonObject } from './fhir-json';
import { FhirStoreError, FhirStoreErrorCode } from './fhir-store-error';

/** A token as indexed: `system|code`, where a code without a system has `system` undefined. */
export interface TokenValue {
  readonly system: string | undefined;
  readonly code: string;
}

const RELATIVE_REFERENCE_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/**
 * `Type/id` for a relative reference (a version suffix dropped), undefined for absolute,
 * contained or unresolved `urn:` references, which point at nothing this store holds.
 */
export function normalizeReference(reference: string): string | undefined {
  const m = RELATIVE_REFERENCE_RE.exec(reference);
  return m ? `${m[1] ?? ''}/${m[2] ?? ''}` : undefined;
}

/** Tokens of a CodeableConcept, Coding, Identifier or code, each possibly repeated. */
export function tokensOf(value: unknown): TokenValue[] {
  const out: TokenValue[] = [];
  for (const item of asList(value)) {
    const code = asString(item);
    if (code !== undefined) {
      out.push({ system: undefined, code });
      continue;
    }
    const codings = field(item, 'coding');
    if (codings !== undefined) out.push(...tokensOf(codings));
    const system = asString(field(item, 'system'));
    const c = asString(field(item, 'code')) ?? asString(field(item, 'value'));
    if (c !== undefined) out.push({ system, code: c });
  }
  return out;
}

/** A boolean element as the token `true`/`false`. */
export function booleanToken(value: unknown): TokenValue[] {
  return typeof value === 'boolean' ? [{ system: undefined, code: String(value) }] : [];
}

/** Normalized references of a Reference (or list of them). */
export function referencesOf(value: unknown): string[] {
  return asList(value)
    .map((ref) => asString(field(ref, 'reference')))
    .map((ref) => (ref === undefined ? undefined : normalizeReference(ref)))
    .filter((ref): ref is string => ref !== undefined);
}

/** References among `value` that point at `type`. */
export function referencesTo(type: string, value: unknown): string[] {
  return referencesOf(value).filter((ref) => ref.startsWith(`${type}/`));
}

/** Case- and accent-insensitive form used for string search (FHIR string matching). */
export function normalizeString(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .trim();
}

/** Name parts of HumanName values; `parts` picks which (family, given, all). */
export function nameStrings(value: unknown, parts: 'family' | 'given' | 'all'): string[] {
  const out: string[] = [];
  for (const name of asList(value)) {
    const wanted: unknown[] = [];
    if (parts !== 'given') wanted.push(field(name, 'family'));
    if (parts !== 'family') wanted.push(...asList(field(name, 'given')));
    if (parts === 'all') wanted.push(field(name, 'text'), ...asList(field(name, 'prefix')));
    for (const w of wanted) {
      const s = asString(w);
      if (s !== undefined) out.push(normalizeString(s));
    }
  }
  if (parts === 'all' && typeof value === 'string') out.push(normalizeString(value));
  return out;
}

function invalidDate(path: string, text: string): FhirStoreError {
  return new FhirStoreError(FhirStoreErrorCode.Invalid, `${path} is not a valid FHIR date: ${text}`, path);
}

/** The range of a date/dateTime/instant element; throws when the value is malformed. */
export function dateOf(resource: JsonObject, key: string): DateRange[] {
  const text = asString(resource[key]);
  if (text === undefined) return [];
  const range = parseFhirDate(text);
  if (range === undefined) throw invalidDate(`${String(resource['resourceType'])}.${key}`, text);
  return [range];
}

/** The range of a Period element; throws when either bound is malformed. */
export function periodOf(resource: JsonObject, key: string): DateRange[] {
  const period = asObject(resource[key]);
  if (period === undefined) return [];
  const start = asString(period['start']);
  const end = asString(period['end']);
  if (start === undefined && end === undefined) return [];
  const range = periodRange(start, end);
  if (range === undefined) {
    throw invalidDate(`${String(resource['resourceType'])}.${key}`, `${start ?? ''}..${end ?? ''}`);
  }
  return [range];
}

/** `effective[x]` (dateTime, instant or Period) of an Observation or DiagnosticReport. */
export function effectiveOf(resource: JsonObject): DateRange[] {
  return [
    ...dateOf(resource, 'effectiveDateTime'),
    ...dateOf(resource, 'effectiveInstant'),
    ...periodOf(resource, 'effectivePeriod'),
  ];
}
