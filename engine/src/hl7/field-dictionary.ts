/**
 * Names of HL7 v2 fields and components (`PID-5` Patient Name, `XPN.1` Family Name) for people
 * reading a message. The data is field-dictionary.json, generated from the V2-to-FHIR guide's
 * tables (Apache-2.0; see its `source`) by cli/build-field-dictionary.ts and committed.
 */
import data from './field-dictionary.json' with { type: 'json' };

/** One field of a segment or component of a data type. */
export interface FieldEntry {
  readonly name: string;
  /** Its data type, when the guide names one (absent for `Varies`, e.g. OBX-5). */
  readonly datatype?: string;
}

export interface FieldDictionary {
  /** Where the names come from and under which licence. */
  readonly source: string;
  /** Segment name → field number → entry. */
  readonly segments: Readonly<Record<string, Readonly<Record<string, FieldEntry>>>>;
  /** Data type → component number → entry. */
  readonly datatypes: Readonly<Record<string, Readonly<Record<string, FieldEntry>>>>;
  /**
   * Every segment the guide's message structures or field tables name (IN2 and GT1 have no
   * field table), sorted: what a location may name besides a sender's own Z-segments.
   */
  readonly segmentNames: readonly string[];
  /** Data types that have no components (ST, NM, DTM ...), sorted. */
  readonly primitives: readonly string[];
}

const dictionary: FieldDictionary = data;

/** The committed dictionary. */
export function fieldDictionary(): FieldDictionary {
  return dictionary;
}

/** Field `n` of a segment, or undefined (a Z-segment, a field the guide does not list). */
export function fieldEntry(
  segment: string,
  n: number,
  d: FieldDictionary = dictionary,
): FieldEntry | undefined {
  return d.segments[segment]?.[String(n)];
}

/** Component `n` of a data type, or undefined. */
export function componentEntry(
  datatype: string | undefined,
  n: number,
  d: FieldDictionary = dictionary,
): FieldEntry | undefined {
  return datatype === undefined ? undefined : d.datatypes[datatype]?.[String(n)];
}
