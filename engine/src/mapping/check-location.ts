/**
 * Whether an HL7 location names something the standard has. `PDI-5`, `PID-555` or `PID-5.44`
 * parse as locations but read nothing in any message, so a mapping holding one would silently
 * map nothing: the loader refuses it, in words, with a suggestion when a close name exists.
 *
 * The dictionary is the V2-to-FHIR guide's (v2.8.2/v2.9): the union of the versions, so a field
 * added in a later version than the sender's is accepted (it is simply empty in older messages).
 * Segments the guide names but has no field table for (IN2, GT1) are accepted without a field
 * check; so are Z-segments, which each sender defines.
 */
import { closest, distance } from 'fastest-levenshtein';
import { fieldDictionary, type FieldDictionary } from '../hl7/field-dictionary';
import type { Hl7Path } from '../hl7/read-value';

/** What a location or a bound value (`$`) reads: a data type, when the dictionary knows it. */
export interface LocationType {
  /** The data type of the value the location reads; undefined when unknown (OBX-5, a Z-segment). */
  readonly datatype?: string;
}

/** What `$` holds where a rule is compiled: the value of `of` (e.g. `PV1-7`), of a known type or not. */
export interface BoundType extends LocationType {
  readonly of: string;
}

interface Known {
  readonly dictionary: FieldDictionary;
  readonly segments: ReadonlySet<string>;
  readonly primitives: ReadonlySet<string>;
}

function knownOf(d: FieldDictionary): Known {
  return { dictionary: d, segments: new Set(d.segmentNames), primitives: new Set(d.primitives) };
}

/** The committed dictionary's sets, built once: every location of every load is checked. */
const COMMITTED = knownOf(fieldDictionary());

function knownNames(d?: FieldDictionary): Known {
  return d === undefined || d === COMMITTED.dictionary ? COMMITTED : knownOf(d);
}

/** True for a sender-defined segment: HL7 reserves names starting with Z for them. */
export function isZSegment(name: string): boolean {
  return name.startsWith('Z');
}

/**
 * Why a segment name is no HL7 segment, or undefined when it is one (or a Z-segment).
 * @param name - three characters, as the location syntax has already checked.
 */
export function segmentProblem(name: string, d?: FieldDictionary): string | undefined {
  const k = knownNames(d);
  if (isZSegment(name) || k.segments.has(name)) return undefined;
  const near = closest(name, [...k.segments]);
  const hint = distance(name, near) <= 1 ? `; did you mean ${near}?` : '';
  return `${name} is not an HL7 segment${hint} (sender-defined segments start with Z)`;
}

/** The number of the last position of a dictionary table, when it lists every position from 1. */
function lastPosition(table: Readonly<Record<string, unknown>> | undefined): number | undefined {
  if (table === undefined || !('1' in table)) return undefined;
  return Math.max(...Object.keys(table).map(Number));
}

/**
 * The parts a value of a data type has, or undefined when the dictionary does not know the type
 * (CP, VID ...). A primitive has one part: the value itself, which `.1` also reads.
 */
function partsOf(datatype: string | undefined, k: Known): number | undefined {
  if (datatype === undefined) return undefined;
  if (k.primitives.has(datatype)) return 1;
  return lastPosition(k.dictionary.datatypes[datatype]);
}

function componentType(datatype: string | undefined, n: number, k: Known): string | undefined {
  if (datatype === undefined || k.primitives.has(datatype)) return datatype;
  return k.dictionary.datatypes[datatype]?.[String(n)]?.datatype;
}

/**
 * Checks the component and subcomponent of a value of a known data type.
 * @param owner - how the message names the value: `PID-3` (a field) or `$` (a bound value)
 * @param datatype - its data type
 */
export function partProblem(
  owner: string,
  datatype: string | undefined,
  component: number | undefined,
  subcomponent: number | undefined,
  d?: FieldDictionary,
): string | undefined {
  const k = knownNames(d);
  if (component === undefined) return undefined;
  const tooMany = beyondLast(owner, datatype, component, k);
  if (tooMany !== undefined || subcomponent === undefined) return tooMany;
  return beyondLast(`${owner}.${component}`, componentType(datatype, component, k), subcomponent, k);
}

function beyondLast(owner: string, datatype: string | undefined, n: number, k: Known): string | undefined {
  const parts = partsOf(datatype, k);
  if (datatype === undefined || parts === undefined || n <= parts) return undefined;
  const has = k.primitives.has(datatype)
    ? 'a value without components'
    : `which has ${plural(parts, 'component')}`;
  return `${owner} is ${datatype}, ${has}; ${owner}.${n} does not exist`;
}

/** Why a parsed location names nothing in the standard, or undefined when it may be read. */
export function locationProblem(path: Hl7Path, d?: FieldDictionary): string | undefined {
  const k = knownNames(d);
  const seg = segmentProblem(path.segment, d);
  if (seg !== undefined) return seg;
  const fields = k.dictionary.segments[path.segment];
  const last = lastPosition(fields);
  const field = `${path.segment}-${path.field}`;
  if (last !== undefined && path.field > last) {
    return `${path.segment} has ${plural(last, 'field')}; ${field} does not exist`;
  }
  const datatype = fields?.[String(path.field)]?.datatype;
  return partProblem(field, datatype, path.component, path.subcomponent, d);
}

/** The data type a location reads (a field's, a component's or a subcomponent's), if known. */
export function locationType(path: Hl7Path, d?: FieldDictionary): LocationType {
  const k = knownNames(d);
  let datatype = k.dictionary.segments[path.segment]?.[String(path.field)]?.datatype;
  if (path.component !== undefined) datatype = componentType(datatype, path.component, k);
  if (path.subcomponent !== undefined) datatype = componentType(datatype, path.subcomponent, k);
  return datatype !== undefined ? { datatype } : {};
}

/** The type of a part of a bound value (`$.4` of a CX is an HD). */
export function partType(
  bound: LocationType,
  component: number | undefined,
  subcomponent: number | undefined,
  d?: FieldDictionary,
): LocationType {
  const k = knownNames(d);
  let datatype = bound.datatype;
  if (component !== undefined) datatype = componentType(datatype, component, k);
  if (subcomponent !== undefined) datatype = componentType(datatype, subcomponent, k);
  return datatype !== undefined ? { datatype } : {};
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
