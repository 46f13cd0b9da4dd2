/**
 * The signature every datatype conversion shares, kept apart so compiled rules and the
 * conversion registry can both name it without importing each other.
 */
import type { CodeTable } from './code-tables';
import type { Hl7Value } from './hl7-value';

/** What a conversion may consult besides its input. */
export interface ConvertContext {
  /** All code tables of the set; conversions use the HL7 ones (v2-0203, coding-systems ...). */
  readonly tables: ReadonlyMap<string, CodeTable>;
  /** The value of the rule's `unit:` location (NM/SN to Quantity). */
  readonly unit?: Hl7Value | undefined;
  /** IANA zone times sent without an offset are read in: the sender's, else DEFAULT_TIMEZONE. */
  readonly timezone: string;
  /**
   * Called when a value was read in `timezone` because it carried no offset, so the message's
   * Provenance can say which zone was assumed (`context: assumedTimezone`).
   */
  readonly noteZoneAssumed?: () => void;
}

/** Turns one HL7 value into one FHIR value, or undefined when there is nothing usable. */
export type Converter = (value: Hl7Value, ctx: ConvertContext) => unknown;
