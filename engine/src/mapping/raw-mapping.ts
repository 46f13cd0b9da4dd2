/**
 * The shape of a mapping file as written, after it passed mapping.schema.json. These types
 * mirror the schema; the compiler turns them into the compiled rules execution uses.
 */
import type { ContextKey } from './mapping-types';
import type { UpdateMode } from '../fhir/store-directives';

/** A condition as written. */
export interface RawCondition {
  readonly exists?: string;
  readonly missing?: string;
  readonly equals?: readonly [string, string];
  readonly in?: readonly [string, readonly string[]];
  /** The location holds more than one repetition (OBX-5 sent as a list). */
  readonly repeats?: string;
  /** The code at the location is listed in this code table (a LOINC document type, say). */
  readonly inTable?: readonly [string, string];
  /** Some group of these levels meets the condition (an OBR with some OBX that is a document line). */
  readonly some?: { readonly forEach: readonly RawLevel[]; readonly when: RawCondition };
  readonly not?: RawCondition;
  readonly all?: readonly RawCondition[];
  readonly any?: readonly RawCondition[];
}

/** One iteration level as written. */
export interface RawLevel {
  readonly segment?: string;
  readonly children?: readonly string[];
  /** The group ends at the first of these segments (the patient part of an ORU ends at ORC/OBR). */
  readonly until?: readonly string[];
  /** Segments directly before the head that belong to its group (the ORC before an OBR). */
  readonly leading?: readonly string[];
  /** With leading: the segment that opens the group (the ORC of an order): the run reaches back to it. */
  readonly openedBy?: string;
  readonly field?: string | readonly string[];
}

/** A rule as written, in its object form. */
export interface RawRuleObject {
  readonly from?: string;
  readonly type?: string;
  readonly to?: string;
  readonly table?: string;
  readonly keepOriginal?: boolean;
  readonly unit?: string;
  /** Location of minutes added to the time this rule reads (PR1-7 on PR1-5). */
  readonly plusMinutes?: string;
  /**
   * Elements set on each converted value that lacks them: a constant (`{ use: home }` on PID-13's
   * XTN) or a rule (`{ system: { from: MSH-4, type: HD } }`, `$` being the value).
   */
  readonly defaults?: Readonly<Record<string, string | RawRuleObject>>;
  /** With defaults: only the values for which this holds get them (`$` is the value). */
  readonly defaultsWhen?: RawCondition;
  readonly join?: string;
  readonly value?: unknown;
  readonly template?: string;
  readonly context?: ContextKey;
  readonly ref?: string;
  /** With ref: the target's resources made inside the same group of this segment (e.g. OBR). */
  readonly within?: string;
  readonly refAll?: true;
  readonly object?: RawElements;
  readonly forEach?: readonly RawLevel[];
  readonly when?: RawCondition;
  readonly else?: RawRule;
  readonly as?: string;
  /** On a top-level element's rule: when this rule is the one that fills it, a stored value wins. */
  readonly keepStored?: boolean;
  /** In an id part: without this value the id cannot be built (e.g. PID-3.1 for a Patient). */
  readonly required?: boolean;
}

/** A rule: a plain location string or the object form. */
export type RawRule = string | RawRuleObject;

/** Element name to one rule or a list of rules; null (in an extending rule) removes the element. */
export type RawElements = Readonly<Record<string, RawRule | readonly RawRule[] | null>>;

/**
 * How a list element combines with the stored one (`merge:` of a resource rule): `union` adds
 * the items the store lacks; `by` matches items on a path inside them and merges each pair.
 */
export type RawElementMerge =
  | 'union'
  | {
      readonly by: string;
      readonly keep?: readonly string[];
      readonly notSent?: Readonly<Record<string, string>>;
      /** Items the message does not carry whose values match these are removed, not ended. */
      readonly drop?: Readonly<Record<string, string>>;
    };

/** A resource rule as written. */
export interface RawResource {
  readonly name: string;
  readonly type?: string;
  readonly mode?: 'replace' | 'extend';
  readonly update?: UpdateMode;
  /** Top-level list elements that accumulate across messages instead of being replaced. */
  readonly merge?: Readonly<Record<string, RawElementMerge>>;
  /** Every segment of this name must be reached by the rule's forEach, or the message fails. */
  readonly covers?: string;
  readonly required?: boolean;
  readonly referenceOnly?: boolean;
  readonly forEach?: readonly RawLevel[];
  readonly when?: RawCondition;
  readonly id?: readonly RawRule[];
  readonly elements?: RawElements;
  /** With `when`: the warning recorded for each iteration the condition skips. */
  readonly warnWhenSkipped?: string;
  /** Top-level elements the stored resource must already hold, else the message fails. */
  readonly expectStored?: RawElements;
}

/** A mapping or rule file as written. */
export interface RawMappingFile {
  readonly description?: string;
  readonly messageType?: string;
  readonly events?: readonly string[];
  /** Why these events are left unmapped on purpose; the file then maps nothing. */
  readonly ignore?: string;
  readonly include?: readonly string[];
  /** Only in `senders/<sender>/sender.yaml`: the sender's IANA zone. */
  readonly timezone?: string;
  readonly eventTime?: readonly RawRule[];
  /** Segment name to why the mapping leaves it unmapped; a sender file adds to its base's. */
  readonly ignoreSegments?: Readonly<Record<string, string>>;
  readonly resources?: readonly RawResource[];
}

/** Where a piece of a mapping file came from, for error lines. */
export interface RawOrigin {
  /** Display path, e.g. `mappings/rules/patient.yaml`. */
  readonly file: string;
  /** JSON path of the node inside the file. */
  readonly pointer: readonly (string | number)[];
}

/** A resource rule with its origin. */
export interface RawResourceEntry {
  readonly raw: RawResource;
  readonly origin: RawOrigin;
}
