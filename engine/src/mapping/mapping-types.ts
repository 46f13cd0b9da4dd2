/**
 * The compiled form of mapping files. Loading turns YAML into these plain structures once, with
 * paths parsed, tables and conversions resolved, so executing a mapping does no lookups by name.
 */
import type { UpdateMode } from './update-mode';
import type { Hl7Path } from '../hl7/read-value';
import type { CodeTable } from './code-tables';
import type { Converter } from './conversion-types';

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
    }
  | { readonly kind: 'field'; readonly paths: readonly CompiledPath[] };

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
      readonly join?: string;
    }
  | { readonly kind: 'const'; readonly value: unknown }
  | { readonly kind: 'template'; readonly parts: readonly (string | CompiledPath)[] }
  | { readonly kind: 'context'; readonly key: 'messageId' | 'receivedAt' | 'eventTime' }
  | {
      readonly kind: 'ref';
      readonly target: string;
      readonly from?: CompiledPath;
      readonly forEach: readonly ForEachLevel[];
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
  /** How the stored resource is updated (see update-mode.ts). */
  readonly update: UpdateMode;
  /** A segment name every occurrence of which this rule's iteration must reach (`covers:`). */
  readonly covers?: string;
  /** When true the resource is only referenced (its id computed), not put in the Bundle. */
  readonly referenceOnly: boolean;
  readonly forEach: readonly ForEachLevel[];
  readonly when?: CompiledCondition;
  readonly elements: readonly CompiledElement[];
  /** `mappings/<file>.yaml#<rule>`. */
  readonly where: string;
}

/** A mapping for one message type and a set of trigger events, possibly for one sender. */
export interface CompiledMapping {
  readonly file: string;
  readonly messageType: string;
  readonly events: readonly string[];
  /** The sender directory the mapping was specialised for, if any. */
  readonly sender?: string;
  /** Offset assumed for times sent without one (`timezone:` in the file). */
  readonly timezone?: string;
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
  /** Resolves by MSH-9 type^event, preferring `senders/<MSH-3^MSH-4>/`, then `senders/<MSH-4>/`. */
  findMapping(key: MappingKey): CompiledMapping | undefined;
}
