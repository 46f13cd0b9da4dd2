/**
 * The timeline as the screen shows it, independent of FHIR's shapes: components render this and
 * never walk references themselves, so what the PCP sees is decided (and tested) in one place.
 */

/** Where an item came from: the hospital, the HL7 message, and when the engine stored it. */
export interface Provenance {
  /** `Type/id` of the resource the item was built from. */
  readonly resource: string;
  /** Facility key (see `Facility.key`). */
  readonly facilityKey: string;
  /** The archived HL7 message (`meta.source` `urn:care:message:<id>`), when the engine recorded one. */
  readonly messageId?: string;
  /** `meta.lastUpdated`: when the engine received (stored) this version. */
  readonly receivedAt?: string;
}

/** A hospital, as its feeds name it; one colour each on the timeline. */
export interface Facility {
  /** Upper-cased name: two feeds of one hospital (two Organization ids) are one facility. */
  readonly key: string;
  readonly name: string;
  /** CSS colour with at least 3:1 contrast on white (a non-text mark, WCAG 1.4.11). */
  readonly colour: string;
}

export type EncounterKind =
  'inpatient' | 'emergency' | 'observation' | 'outpatient' | 'preadmission' | 'other';

/** What the kind filter offers: each encounter class, and lab results. */
export type EventKind = EncounterKind | 'lab';

/** One place the patient stayed during an encounter, resolved through `Location.partOf`. */
export interface LocationStay {
  /** The location's own name (a bed, a room, a ward). */
  readonly name: string;
  /** Names of the locations it is part of, outermost (the site) first. */
  readonly within: readonly string[];
  /** The ward or unit it belongs to (itself when it is one). */
  readonly unit?: string;
  /** `active` (where the patient is now), `completed` (earlier), `planned`. */
  readonly status?: string;
  readonly start?: string;
  readonly end?: string;
}

/** An admission, ED visit or outpatient visit, as a span from its start to its end. */
export interface EncounterEvent {
  readonly type: 'encounter';
  readonly id: string;
  readonly kind: EncounterKind;
  /** "Inpatient stay", "Emergency visit" ... */
  readonly title: string;
  readonly status?: string;
  readonly cancelled: boolean;
  /** Admission or arrival. */
  readonly start?: string;
  /** Discharge or departure. */
  readonly end?: string;
  /** No end yet, and not finished or cancelled. */
  readonly ongoing: boolean;
  /** Sort and filter time in epoch ms: the start, else the end, else when it was received. */
  readonly time: number;
  /** End of the span in epoch ms (undefined while ongoing or unknown). */
  readonly endTime?: number;
  readonly facilityKey: string;
  /** Oldest first; the last `active` one is where the patient is now. */
  readonly locations: readonly LocationStay[];
  readonly attending?: string;
  readonly dischargeDisposition?: string;
  readonly diagnoses: readonly string[];
  readonly provenance: Provenance;
}

export type FlagSeverity = 'critical' | 'abnormal' | 'normal' | 'none';

/** What a result's interpretation says, in words (colour is never the only signal). */
export interface ResultFlag {
  readonly severity: FlagSeverity;
  /** The v3-ObservationInterpretation code (HH, LL, AA, H, L, A, N ...). */
  readonly code?: string;
  readonly label: string;
}

export interface LabResult {
  readonly id: string;
  readonly name: string;
  /** Identifies the test across facilities (LOINC when sent); undefined when the test has no code. */
  readonly testKey?: string;
  /** The value as text, with its unit and comparator. */
  readonly value: string;
  /** Set when the value is a plain number (trendable). */
  readonly numericValue?: number;
  readonly unit?: string;
  readonly flag: ResultFlag;
  readonly referenceRange?: string;
  readonly referenceLow?: number;
  readonly referenceHigh?: number;
  /** Status `corrected` or `amended`: an earlier value was wrong. */
  readonly corrected: boolean;
  readonly status?: string;
  readonly time?: string;
  readonly notes: readonly string[];
  readonly provenance: Provenance;
}

/** A lab report (DiagnosticReport) with its results, or one result sent without a report. */
export interface LabReportEvent {
  readonly type: 'lab';
  readonly id: string;
  readonly kind: 'lab';
  readonly title: string;
  readonly status?: string;
  readonly time: number;
  readonly effective?: string;
  readonly issued?: string;
  readonly facilityKey: string;
  readonly results: readonly LabResult[];
  /** The most severe of its results' flags. */
  readonly flag: ResultFlag;
  /** The report or one of its results was corrected or amended. */
  readonly corrected: boolean;
  readonly provenance: Provenance;
}

export type TimelineEvent = EncounterEvent | LabReportEvent;

/** One facility's record of the patient (the person may have several). */
export interface PatientRecord {
  readonly id: string;
  readonly name?: string;
  readonly birthDate?: string;
  readonly gender?: string;
  readonly facilityKey: string;
  /** Medical record numbers (identifier type MR). */
  readonly identifiers: readonly string[];
}

/** A test that has numeric results, for the trend picker. */
export interface TestSummary {
  readonly key: string;
  readonly name: string;
  readonly count: number;
}

export interface TimelineModel {
  /** Newest first. */
  readonly events: readonly TimelineEvent[];
  /** Sorted by name; each has its colour. */
  readonly facilities: readonly Facility[];
  readonly patients: readonly PatientRecord[];
  /** Tests with numeric results, most results first. */
  readonly tests: readonly TestSummary[];
}
