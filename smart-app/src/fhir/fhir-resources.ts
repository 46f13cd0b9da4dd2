/**
 * The slice of FHIR R4 the timeline reads, typed as the engine stores it. Every field is optional
 * because the engine keeps what a hospital sent, and hospitals leave out almost anything.
 */

export interface Coding {
  readonly system?: string;
  readonly code?: string;
  readonly display?: string;
}

export interface CodeableConcept {
  readonly coding?: readonly Coding[];
  readonly text?: string;
}

export interface Reference {
  readonly reference?: string;
  readonly display?: string;
}

export interface Period {
  readonly start?: string;
  readonly end?: string;
}

export interface Quantity {
  readonly value?: number;
  readonly comparator?: string;
  readonly unit?: string;
  readonly code?: string;
}

export interface HumanName {
  readonly use?: string;
  readonly text?: string;
  readonly family?: string;
  readonly given?: readonly string[];
  readonly prefix?: readonly string[];
  readonly suffix?: readonly string[];
}

export interface Identifier {
  readonly system?: string;
  readonly value?: string;
  readonly type?: CodeableConcept;
}

export interface Meta {
  readonly versionId?: string;
  readonly lastUpdated?: string;
  /** `urn:care:message:<id>`: the archived HL7 message this version came from. */
  readonly source?: string;
}

interface ResourceBase {
  readonly id?: string;
  readonly meta?: Meta;
}

export interface Patient extends ResourceBase {
  readonly resourceType: 'Patient';
  readonly identifier?: readonly Identifier[];
  readonly name?: readonly HumanName[];
  readonly gender?: string;
  readonly birthDate?: string;
  readonly managingOrganization?: Reference;
}

export interface Organization extends ResourceBase {
  readonly resourceType: 'Organization';
  readonly name?: string;
}

export interface Practitioner extends ResourceBase {
  readonly resourceType: 'Practitioner';
  readonly name?: readonly HumanName[];
}

export interface Location extends ResourceBase {
  readonly resourceType: 'Location';
  readonly name?: string;
  readonly physicalType?: CodeableConcept;
  readonly partOf?: Reference;
}

export interface EncounterLocation {
  readonly location?: Reference;
  readonly status?: string;
  readonly period?: Period;
}

export interface EncounterParticipant {
  readonly type?: readonly CodeableConcept[];
  readonly individual?: Reference;
}

export interface Encounter extends ResourceBase {
  readonly resourceType: 'Encounter';
  readonly status?: string;
  readonly class?: Coding;
  readonly type?: readonly CodeableConcept[];
  readonly subject?: Reference;
  readonly participant?: readonly EncounterParticipant[];
  readonly period?: Period;
  readonly diagnosis?: readonly { readonly condition?: Reference; readonly rank?: number }[];
  readonly hospitalization?: {
    readonly admitSource?: CodeableConcept;
    readonly dischargeDisposition?: CodeableConcept;
  };
  readonly location?: readonly EncounterLocation[];
  readonly serviceProvider?: Reference;
}

export interface Condition extends ResourceBase {
  readonly resourceType: 'Condition';
  readonly code?: CodeableConcept;
  readonly encounter?: Reference;
}

export interface ReferenceRange {
  readonly low?: Quantity;
  readonly high?: Quantity;
  readonly text?: string;
}

export interface Observation extends ResourceBase {
  readonly resourceType: 'Observation';
  readonly status?: string;
  readonly code?: CodeableConcept;
  readonly subject?: Reference;
  readonly encounter?: Reference;
  readonly effectiveDateTime?: string;
  readonly issued?: string;
  readonly performer?: readonly Reference[];
  readonly valueQuantity?: Quantity;
  readonly valueString?: string;
  readonly valueCodeableConcept?: CodeableConcept;
  readonly valueDateTime?: string;
  readonly valueRange?: { readonly low?: Quantity; readonly high?: Quantity };
  readonly valueRatio?: { readonly numerator?: Quantity; readonly denominator?: Quantity };
  readonly interpretation?: readonly CodeableConcept[];
  readonly referenceRange?: readonly ReferenceRange[];
  readonly note?: readonly { readonly text?: string }[];
}

export interface DiagnosticReport extends ResourceBase {
  readonly resourceType: 'DiagnosticReport';
  readonly status?: string;
  readonly category?: readonly CodeableConcept[];
  readonly code?: CodeableConcept;
  readonly subject?: Reference;
  readonly encounter?: Reference;
  readonly effectiveDateTime?: string;
  readonly issued?: string;
  readonly performer?: readonly Reference[];
  readonly result?: readonly Reference[];
}

export interface Communication extends ResourceBase {
  readonly resourceType: 'Communication';
  readonly status?: string;
  readonly category?: readonly CodeableConcept[];
  readonly priority?: string;
  readonly subject?: Reference;
  readonly about?: readonly Reference[];
  readonly sent?: string;
  /** Unset until someone at the practice opened the notice. */
  readonly received?: string;
  readonly payload?: readonly { readonly contentString?: string }[];
}

/** Anything else `$everything` returns (Person, Provenance ...): carried, not read. */
export interface OtherResource extends ResourceBase {
  readonly resourceType: string;
}

export type TimelineResource =
  | Patient
  | Organization
  | Practitioner
  | Location
  | Encounter
  | Condition
  | Observation
  | DiagnosticReport
  | Communication;

export interface BundleEntry {
  readonly fullUrl?: string;
  readonly resource?: TimelineResource | OtherResource;
}

export interface Bundle {
  readonly resourceType: 'Bundle';
  readonly type?: string;
  readonly total?: number;
  readonly link?: readonly { readonly relation?: string; readonly url?: string }[];
  readonly entry?: readonly BundleEntry[];
}
