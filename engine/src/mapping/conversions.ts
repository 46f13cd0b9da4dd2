/**
 * The datatype conversion registry: which HL7 datatype can fill which FHIR type. A rule names the
 * HL7 type; the FHIR type comes from the element it fills, so one `XCN` fills a name or an identifier.
 */
import type { Converter } from './conversion-types';
import {
  authoritySystem,
  cweToCodeableConcept,
  cweToCoding,
  cxToIdentifier,
  dlnToIdentifier,
  eiToIdentifier,
  hdToIdentifier,
  hdToSystem,
  xcnSystem,
  xcnToIdentifier,
} from './convert-codes';
import { edToAttachment, encodeBase64, rpToAttachment } from './convert-attachments';
import { readFhirDateTime, readFhirInstant, toFhirDate, type FhirDateTime } from './convert-datetime';
import {
  nmToDecimal,
  nmToInteger,
  nmToQuantity,
  snToQuantity,
  snToRange,
  snToRatio,
  snToString,
  textToReferenceRange,
} from './convert-numbers';
import { xadToAddress, xcnToHumanName, xcnToText, xpnToHumanName, xtnToContactPoint } from './convert-people';

/** HL7 datatypes that behave like another for conversion. */
export const HL7_TYPE_ALIASES: Readonly<Record<string, string>> = {
  CE: 'CWE',
  CNE: 'CWE',
  CF: 'CWE',
  TS: 'DTM',
  ID: 'ST',
  IS: 'ST',
  TX: 'ST',
  FT: 'ST',
  SI: 'NM',
  XON: 'ST',
  PL: 'ST',
};

/** FHIR primitive types a plain string conversion can fill. */
export const STRING_TYPES: ReadonlySet<string> = new Set([
  'string',
  'code',
  'id',
  'markdown',
  'uri',
  'url',
  'canonical',
  'oid',
  'uuid',
]);

const text: Converter = (v) => v.text();
/** A dateTime or instant conversion that tells the context when it assumed the zone. */
function zoned(read: (text: string, zone: string) => FhirDateTime | undefined): Converter {
  return (v, ctx) => {
    const t = v.text();
    const r = t === undefined ? undefined : read(t, ctx.timezone);
    if (r?.zoneAssumed === true) ctx.noteZoneAssumed?.();
    return r?.value;
  };
}
const dateTime = zoned(readFhirDateTime);
const instant = zoned(readFhirInstant);
const date: Converter = (v) => {
  const t = v.text();
  return t === undefined ? undefined : toFhirDate(t);
};
const dateFrom = (t: string): string | undefined => toFhirDate(t);

const CONVERTERS: Readonly<Record<string, Converter>> = {
  'ST>string': text,
  'ST>boolean': (v) => {
    const t = v.text()?.toUpperCase();
    if (t === 'Y' || t === 'TRUE') return true;
    return t === 'N' || t === 'FALSE' ? false : undefined;
  },
  'ST>Annotation': (v) => {
    const t = v.text();
    return t === undefined ? undefined : { text: t };
  },
  'ST>Observation_ReferenceRange': textToReferenceRange,
  'ST>base64Binary': (v) => {
    const t = v.text();
    return t === undefined ? undefined : encodeBase64(t);
  },
  'ED>Attachment': edToAttachment,
  'RP>Attachment': rpToAttachment,
  'ST>decimal': nmToDecimal,
  'NM>decimal': nmToDecimal,
  'NM>integer': nmToInteger,
  'NM>positiveInt': (v) => {
    const n = nmToInteger(v);
    return n !== undefined && n > 0 ? n : undefined;
  },
  'NM>unsignedInt': (v) => {
    const n = nmToInteger(v);
    return n !== undefined && n >= 0 ? n : undefined;
  },
  'NM>Quantity': nmToQuantity,
  'NM>string': text,
  'SN>Quantity': snToQuantity,
  'SN>Range': snToRange,
  'SN>Ratio': snToRatio,
  'SN>string': snToString,
  'DTM>dateTime': dateTime,
  'DTM>instant': instant,
  'DTM>date': date,
  'DT>date': date,
  'DT>dateTime': date,
  'CWE>CodeableConcept': cweToCodeableConcept,
  'CWE>Coding': cweToCoding,
  'CWE>string': (v) => v.part(1),
  'CWE>Annotation': (v) => {
    const t = v.part(2) ?? v.part(1);
    return t === undefined ? undefined : { text: t };
  },
  'CX>Identifier': (v, ctx) => cxToIdentifier(v, ctx, dateFrom),
  'CX>string': (v) => v.part(1),
  'DLN>Identifier': (v, ctx) => dlnToIdentifier(v, ctx, dateFrom),
  'DLN>string': (v) => v.part(1),
  'EI>Identifier': eiToIdentifier,
  'EI>string': (v) => v.part(1),
  // The EI's assigning authority (EI.2 namespace, EI.3 universal id) as an Identifier.system.
  'EI>uri': (v, ctx) => authoritySystem(v.part(2), v.part(3), ctx),
  'HD>uri': hdToSystem,
  'HD>Identifier': hdToIdentifier,
  'HD>string': (v) => v.part(1) ?? v.part(2),
  'XPN>HumanName': xpnToHumanName,
  'XCN>HumanName': xcnToHumanName,
  'XCN>Identifier': xcnToIdentifier,
  'XCN>uri': xcnSystem,
  'XCN>string': xcnToText,
  'XAD>Address': xadToAddress,
  'XTN>ContactPoint': xtnToContactPoint,
};

/** Code tables the conversions consult; a mapping set without them is refused at load. */
export const REQUIRED_TABLES: readonly string[] = [
  'coding-systems',
  'identifier-systems',
  'v2-0190',
  'v2-0190-type',
  'v2-0200',
  'v2-0201',
  'v2-0202',
  'v2-0203',
];

/** The canonical name of an HL7 datatype (`CE` is read as `CWE`). */
export function canonicalHl7Type(type: string): string {
  return HL7_TYPE_ALIASES[type] ?? type;
}

/** The conversion from an HL7 datatype to a FHIR type, or undefined when there is none. */
export function findConverter(hl7Type: string, fhirType: string): Converter | undefined {
  const t = canonicalHl7Type(hl7Type);
  const exact = CONVERTERS[`${t}>${fhirType}`];
  if (exact !== undefined) return exact;
  if (STRING_TYPES.has(fhirType)) return CONVERTERS[`${t}>string`];
  return undefined;
}

/** The HL7 datatype assumed when a rule names none, from the FHIR type it fills. */
export function defaultHl7Type(fhirType: string): string {
  const byTarget: Readonly<Record<string, string>> = {
    dateTime: 'DTM',
    instant: 'DTM',
    date: 'DT',
    decimal: 'NM',
    integer: 'NM',
    positiveInt: 'NM',
    unsignedInt: 'NM',
    Quantity: 'NM',
    CodeableConcept: 'CWE',
    Coding: 'CWE',
    Identifier: 'CX',
    HumanName: 'XPN',
    Address: 'XAD',
    ContactPoint: 'XTN',
  };
  return byTarget[fhirType] ?? 'ST';
}

/** Every `HL7>FHIR` pair supported, for documentation and error messages. */
export function supportedConversions(): string[] {
  return Object.keys(CONVERTERS);
}
