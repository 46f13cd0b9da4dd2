/**
 * The compiled form of mapping files. Loading turns YAML into these plain structures once, with
 * paths parsed, tables and conversions resolved, so executing a mapping does no lookups by name.
 */
import type { ElementMerge } from '../fhir/merge-directive';
import type { UpdateMode } from '../fhir/store-directives';
import type { Hl7Path } from '../hl7/read-value';
import type { CodeTable } from './code-tables';
import type { Converter } from './conversion-types';

/**
 * Facts of the message a `context:` rule reads: its archive id, receipt and event time, and the
 * zone assumed for times it sent without an offset (only when some value was read that way).
 */
export type ContextKey = 'messageId' | 'receivedAt' | 'eventTime' | 'assumedTimezone';

/** An HL7 location (`PID-3.4`) or a location inside the value bound by `from`/`forEach` (`$`, `$.9.1`). */
export type CompiledPath =
  | { readonly kind: 'hl7'; readonly text: string; readonly path: Hl7Path }
  | {
      readonly kind: 'bound';
      readonly text: string;
      readonly component?: number;
      readonly subcomponent?: number;
    };

/** A compiled `when:` condition. */
export type CompiledCondition =
  | { readonly kind: 'exists'; readonly path: CompiledPath }
  | { readonly kind: 'in'; readonly path: CompiledPath; readonly values: ReadonlySet<string> }
  | { readonly kind: 'repeats'; readonly path: CompiledPath }
  /** The code at the location (its first component) has a row in the table. */
  | { readonly kind: 'inTable'; readonly path: CompiledPath; readonly table: CodeTable }
  /** Some group (or bound value) of the levels, read from the scope, meets the condition. */
  | {
      readonly kind: 'some';
      readonly levels: readonly ForEachLevel[];
      readonly condition: CompiledCondition;
    }
  | { readonly kind: 'not'; readonly condition: CompiledCondition }
  | { readonly kind: 'all'; readonly conditions: readonly CompiledCondition[] }
  | { readonly kind: 'any'; readonly conditions: readonly CompiledCondition[] };

/** One level of iteration: each segment group, or each value of some fields. */
export type ForEachLevel =
  | {
      readonly kind: 'segment';
      readonly segment: string;
      /** Segment names that belong to the group (the head segment included). */
      readonly members: ReadonlySet<string>;
      /** Head segment of the next nested level: the group's own children stop there. */
      readonly nestedHead?: string;
      /** The group's span ends at the first of these segments. */
      readonly until?: ReadonlySet<string>;
      /** Segments directly before the head that belong to its group (the ORC opening an OBR). */
      readonly leading?: ReadonlySet<string>;
      /** The leading segments must reach back to this one (the ORC opening an order), which ends the earlier group. */
      readonly openedBy?: string;
      /** The names a group's scope answers for: `members` and `leading`, joined once at compile time. */
      readonly scopeMembers: ReadonlySet<string>;
    }
  | { readonly kind: 'field'; readonly paths: readonly CompiledPath[] };

/**
 * One element of a `defaults:`: a constant (`use: home`), or a rule read in the value's scope
 * (`system: { from: MSH-4, type: HD }`), evaluated only for a value that lacks the element.
 */
export type CompiledDefault =
  { readonly key: string; readonly value: string } | { readonly key: string; readonly rule: CompiledRule };

/** A rule's `defaults:`: elements set on the converted values that lack them. */
export interface CompiledDefaults {
  readonly values: readonly CompiledDefault[];
  /** A condition or a rule default reads the value (`$`): only then is it bound, per value. */
  readonly readsValue: boolean;
  /** Only values for which this holds, `$` being the value (`{ missing: $.2 }`: XTN-2 not sent). */
  readonly when?: CompiledCondition;
}

/** Where a value comes from. */
export type CompiledSource =
  | {
      readonly kind: 'path';
      readonly path: CompiledPath;
      readonly convert: Converter;
      /** The HL7 datatype, canonical (`CE` is `CWE`). */
      readonly hl7Type: string;
      /** The FHIR type filled, which decides what a table translation yields. */
      readonly targetType: string;
      readonly table?: CodeTable;
      readonly keepOriginal: boolean;
      readonly unit?: CompiledPath;
      /** The minutes added to the converted time (`plusMinutes:`, PR1-7 on PR1-5). */
      readonly plusMinutes?: CompiledPath;
      /** Elements set on each converted value that lacks them (`defaults:`, PID-13's use home). */
      readonly defaults?: CompiledDefaults;
      readonly join?: string;
      /** Applied to the joined text (a `join` into base64Binary encodes the whole text once). */
      readonly encodeJoined?: (text: string) => string;
      /** Read the location in each of these groups (filtered by the rule's `when`), not the scope's. */
      readonly forEach: readonly ForEachLevel[];
    }
  | { readonly kind: 'const'; readonly value: unknown }
  | { readonly kind: 'template'; readonly parts: readonly (string | CompiledPath)[] }
  | { readonly kind: 'context'; readonly key: ContextKey }
  | {
      readonly kind: 'ref';
      readonly target: string;
      readonly from?: CompiledPath;
      readonly forEach: readonly ForEachLevel[];
      /** Reference the target's resources made anywhere inside the enclosing group of this segment. */
      readonly within?: string;
    }
  | { readonly kind: 'refAll' }
  | {
      readonly kind: 'object';
      readonly elements: readonly CompiledElement[];
      readonly from?: CompiledPath;
      readonly forEach: readonly ForEachLevel[];
    };

/** One rule that fills an element. */
export interface CompiledRule {
  readonly source: CompiledSource;
  readonly when?: CompiledCondition;
  readonly otherwise?: CompiledRule;
  /** For a choice element (`value[x]`): the concrete element this rule fills, e.g. `valueQuantity`. */
  readonly as?: string;
  /** When this rule fills a top-level element, the stored value (if any) is kept instead. */
  readonly keepStored?: boolean;
  /** `mappings/<file>.yaml#<rule>.<element>`, for errors. */
  readonly where: string;
}

/** An element of the output (`hospitalization.admitSource`) and the rules that fill it. */
export interface CompiledElement {
  readonly key: readonly string[];
  /** True when the last key is a FHIR array: rules add values instead of the first one winning. */
  readonly array: boolean;
  /** True for `x[x]` choice elements. */
  readonly choice: boolean;
  /** Allowed codes, when the FHIR element is a code with a fixed value set. */
  readonly allowed?: ReadonlySet<string>;
  /** Inside `object:`: without a value here the object is not built (`required: true`). */
  readonly required?: true;
  readonly rules: readonly CompiledRule[];
}

/** A resource the mapping produces (per iteration, when it has `forEach`). */
export interface CompiledResourceRule {
  readonly name: string;
  readonly resourceType: string;
  readonly id: readonly CompiledRule[];
  /** Per id part: true when the id cannot be built without it (`required: true` on the part). */
  readonly idRequired: readonly boolean[];
  /** When true, an instance whose id cannot be built is a MappingError instead of being skipped. */
  readonly required: boolean;
  /** How the stored resource is updated (see fhir/store-directives.ts). */
  readonly update: UpdateMode;
  /** List elements the store merges with what it holds (`merge:`), whatever `update` says. */
  readonly merge: readonly ElementMerge[];
  /** A segment name every occurrence of which this rule's iteration must reach (`covers:`). */
  readonly covers?: string;
  /** When true the resource is only referenced (its id computed), not put in the Bundle. */
  readonly referenceOnly: boolean;
  /**
   * True when an element reads `context: assumedTimezone`: such a resource (the Provenance) is
   * built after all the others, once every time of the message has been read.
   */
  readonly readsAssumedZone?: true;
  readonly forEach: readonly ForEachLevel[];
  readonly when?: CompiledCondition;
  readonly elements: readonly CompiledElement[];
  /** With `when`: the warning recorded for each iteration the condition skips. */
  readonly warnWhenSkipped?: string;
  /** Top-level elements the stored resource must already hold (a precondition, not content). */
  readonly expectStored: readonly CompiledElement[];
  /** `mappings/<file>.yaml#<rule>`. */
  readonly where: string;
}

/** A mapping for one message type and a set of trigger events, possibly for one sender. */
export interface CompiledMapping {
  readonly file: string;
  readonly messageType: string;
  readonly events: readonly string[];
  /**
   * Why the events are left unmapped on purpose (`ignore:` in the file): the message is archived
   * as ignored with this reason instead of being mapped.
   */
  readonly ignore?: string;
  /** The sender directory the mapping was specialised for, if any. */
  readonly sender?: string;
  readonly eventTime: readonly CompiledRule[];
  /** Code tables visible to this mapping (a sender's own tables override the base ones). */
  readonly tables: ReadonlyMap<string, CodeTable>;
  readonly resources: readonly CompiledResourceRule[];
  /**
   * Segments the mapping deliberately leaves unmapped (`ignoreSegments:`), with the reason: they
   * are not listed among the message's unmapped segments.
   */
  readonly ignoreSegments: ReadonlyMap<string, string>;
}

/** What findMapping needs from a message header (MessageHeader satisfies it). */
export interface MappingKey {
  readonly messageType: string;
  readonly triggerEvent: string;
  readonly sender?: string;
  readonly sendingFacility?: string;
}

/** A loaded, validated set of mappings. */
export interface MappingSet {
  /** Content hash of every file in the set; recorded with each mapped message. */
  readonly version: string;
  readonly mappings: readonly CompiledMapping[];
  /** Sender directories that have overrides. */
  readonly senders: readonly string[];
  /** Sender directory to the IANA zone its `sender.yaml` names. */
  readonly timezones: ReadonlyMap<string, string>;
  /** Resolves by MSH-9 type^event, preferring `senders/<MSH-3^MSH-4>/`, then `senders/<MSH-4>/`. */
  findMapping(key: MappingKey): CompiledMapping | undefined;
  /**
   * The IANA zone of the sender's `sender.yaml`, `senders/<MSH-3^MSH-4>/` before
   * `senders/<MSH-4>/` (each looked up on its own, so a facility's zone holds for all of its
   * applications); undefined when neither names one and DEFAULT_TIMEZONE applies.
   */
  findTimezone(key: MappingKey): string | undefined;
}
