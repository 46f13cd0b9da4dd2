/**
 * Renders simulated events as HL7 v2 text: ADT A01/A02/A03/A04/A08 and ORU R01, in v2.5.1 or
 * v2.3, shaped like real hospital feeds (PD1-4 PCP with NPI, PV1-36 disposition, LOINC OBX).
 * Pure: the same input always renders the same bytes.
 */
import type { LabPanel, LabValue } from './lab-panels';
import type { Facility, Patient, Practitioner } from './patient-population';
import { pad } from './patient-population';

export type Hl7Version = '2.5.1' | '2.3';
export type AdtEvent = 'A01' | 'A02' | 'A03' | 'A04' | 'A08';

/** HL7 table 0112 discharge dispositions the simulator uses; 20 = expired. */
export const Disposition = {
  Home: '01',
  ShortTermHospital: '02',
  SkilledNursing: '03',
  HomeHealth: '06',
  LeftAma: '07',
  Expired: '20',
} as const;
export type Disposition = (typeof Disposition)[keyof typeof Disposition];

export interface BedLocation {
  readonly unit: string;
  readonly room: string;
  readonly bed: string;
}

/** One visit at one facility. */
export interface Encounter {
  readonly visitNumber: string;
  /** PV1-2: E emergency, I inpatient, O outpatient. */
  readonly patientClass: 'E' | 'I' | 'O';
  readonly location: BedLocation;
  /** PV1-6, set on a transfer. */
  readonly priorLocation?: BedLocation;
  readonly attending: Practitioner;
  /** PV1-10 (HL7 table 0069). */
  readonly hospitalService: string;
  readonly admittedAt: Date;
  readonly dischargedAt?: Date;
  readonly disposition?: Disposition;
  readonly diagnosis?: { readonly code: string; readonly display: string };
}

interface Envelope {
  readonly facility: Facility;
  readonly patient: Patient;
  readonly controlId: string;
  readonly sentAt: Date;
  readonly version: Hl7Version;
}

export interface AdtInput extends Envelope {
  readonly event: AdtEvent;
  readonly encounter: Encounter;
}

export interface OruInput extends Envelope {
  readonly encounter?: Encounter;
  readonly panel: LabPanel;
  readonly values: readonly LabValue[];
  readonly orderNumber: string;
  readonly orderingProvider: Practitioner;
  readonly collectedAt: Date;
}

/**
 * Renders an ADT message.
 * @param input - the event, who, where and when.
 */
export function renderAdt(input: AdtInput): string {
  const { event, encounter: enc, version } = input;
  const structure = event === 'A04' || event === 'A08' ? 'A01' : event;
  const segments = [
    msh(input, input.facility.adtApplication, `ADT^${event}${version === '2.3' ? '' : `^ADT_${structure}`}`),
    `EVN|${event}|${hl7Time(input.sentAt)}|||${input.facility.code}OPS|${hl7Time(input.sentAt)}`,
    pid(
      input.patient,
      input.facility,
      event === 'A03' && enc.disposition === Disposition.Expired ? enc.dischargedAt : undefined,
    ),
    pd1(input.patient, version),
    pv1(input.facility, enc),
  ];
  if (enc.diagnosis !== undefined && event !== 'A02') {
    segments.push(
      `DG1|1||${enc.diagnosis.code}^${escapeHl7(enc.diagnosis.display)}^I10||${hl7Time(enc.admittedAt)}|${event === 'A03' ? 'F' : 'W'}`,
    );
  }
  return segments.join('\r');
}

/**
 * Renders an ORU^R01 with one OBR and an OBX per analyte.
 * @param input - the panel, its values and who ordered it.
 */
export function renderOru(input: OruInput): string {
  const { panel, version } = input;
  const app = input.facility.labApplication;
  const provider = xcn(input.orderingProvider, version);
  const resulted = hl7Time(input.sentAt);
  const segments = [
    msh(input, app, `ORU^R01${version === '2.3' ? '' : '^ORU_R01'}`),
    pid(input.patient, input.facility, undefined),
    pd1(input.patient, version),
  ];
  if (input.encounter !== undefined) segments.push(pv1(input.facility, input.encounter));
  segments.push(
    `ORC|RE|${input.orderNumber}^${input.facility.adtApplication}|F${input.orderNumber}^${app}||CM||||${resulted}|||${provider}`,
    `OBR|1|${input.orderNumber}^${input.facility.adtApplication}|F${input.orderNumber}^${app}|${panel.loinc}^${escapeHl7(panel.display)}^LN|||${hl7Time(input.collectedAt)}|||||||${hl7Time(input.collectedAt)}||${provider}||||||${resulted}||${panel.section}|F`,
  );
  panel.analytes.forEach((a, i) => {
    const result = input.values[i];
    if (result === undefined) return;
    const units = version === '2.3' ? a.unit : `${a.unit}^${a.unit}^UCUM`;
    segments.push(
      `OBX|${i + 1}|NM|${a.loinc}^${escapeHl7(a.display)}^LN||${result.value}|${units}|${a.low}-${a.high}|${result.flag}|||F|||${hl7Time(input.collectedAt)}`,
    );
  });
  return segments.join('\r');
}

function msh(e: Envelope, application: string, type: string): string {
  // v2.5.1 feeds declare ACK types and UTF-8 (MSH-15/16/18); v2.3 interfaces typically send neither.
  const tail = e.version === '2.3' ? '' : '|||AL|NE||UNICODE UTF-8';
  return `MSH|^~\\&|${application}|${e.facility.code}|CARECOORD|CARE|${hl7Time(e.sentAt)}||${type}|${e.controlId}|P|${e.version}${tail}`;
}

function pid(p: Patient, f: Facility, deceasedAt: Date | undefined): string {
  const name = `${escapeHl7(p.family)}^${escapeHl7(p.given)}^${p.middleInitial}^^^^L`;
  const address = `${p.address.street}^^${p.address.city}^${p.address.state}^${p.address.zip}^USA^H`;
  const phone = `^PRN^PH^^1^${p.phone.area}^${p.phone.number}`;
  const mrn = p.mrns[f.index] ?? '';
  const fields = [
    'PID',
    '1',
    '',
    `${mrn}^^^${f.mrnAuthority}^MR`,
    '',
    name,
    '',
    p.birthDate,
    p.sex,
    '',
    '',
    address,
    '',
    phone,
  ];
  if (deceasedAt !== undefined) {
    while (fields.length < 29) fields.push('');
    fields.push(hl7Time(deceasedAt), 'Y');
  }
  return fields.join('|');
}

function pd1(p: Patient, version: Hl7Version): string {
  return `PD1||||${xcn(p.pcp, version)}`;
}

function pv1(f: Facility, enc: Encounter): string {
  const fields: string[] = Array.from({ length: 46 }, () => '');
  fields[0] = 'PV1';
  fields[1] = '1';
  fields[2] = enc.patientClass;
  fields[3] = location(enc.location, f);
  fields[4] = enc.patientClass === 'E' ? 'E' : enc.patientClass === 'I' ? 'U' : 'R';
  if (enc.priorLocation !== undefined) fields[6] = location(enc.priorLocation, f);
  fields[7] = xcn(enc.attending, '2.5.1');
  fields[10] = enc.hospitalService;
  fields[14] = enc.patientClass === 'E' ? '7' : '1';
  fields[19] = `${enc.visitNumber}^^^${f.code}^VN`;
  if (enc.disposition !== undefined) fields[36] = enc.disposition;
  fields[44] = hl7Time(enc.admittedAt);
  if (enc.dischargedAt !== undefined) fields[45] = hl7Time(enc.dischargedAt);
  return trimTrailing(fields).join('|');
}

function location(l: BedLocation, f: Facility): string {
  return `${l.unit}^${l.room}^${l.bed}^${f.code}`;
}

/** XCN with the NPI as identifier; v2.3 has no identifier type in the same place, so it is left off. */
function xcn(p: Practitioner, version: Hl7Version): string {
  const base = `${p.npi}^${escapeHl7(p.family)}^${escapeHl7(p.given)}^^^^MD^^NPI&2.16.840.1.113883.4.6&ISO`;
  return version === '2.3' ? base : `${base}^L^^^NPI`;
}

function trimTrailing(fields: string[]): string[] {
  let end = fields.length;
  while (end > 1 && fields[end - 1] === '') end--;
  return fields.slice(0, end);
}

/**
 * HL7 timestamp (YYYYMMDDHHMMSS+0000) in UTC.
 * @param d - the instant.
 */
export function hl7Time(d: Date): string {
  return (
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}` +
    `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}+0000`
  );
}

/**
 * Escapes HL7 delimiters in free text with the standard escape sequences.
 * @param text - a value that may contain `| ^ ~ \ &`.
 */
export function escapeHl7(text: string): string {
  return text.replace(
    /[\\|^~&]/g,
    (c) => ({ '\\': '\\E\\', '|': '\\F\\', '^': '\\S\\', '~': '\\R\\', '&': '\\T\\' })[c] ?? c,
  );
}
