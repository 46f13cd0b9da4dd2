/**
 * The demo's hospital feeds as HL7 v2 text: each demo patient's visits told as the ADT and ORU
 * messages the hospital would send (ED arrival, admission, transfer, results, a critical value and
 * its correction, discharge), in time order, relative to when the demo starts so the timeline
 * looks current. Rendering is the simulator's (message-templates.ts); only the stories are here.
 */
import { BMP, CBC, flagFor, type LabPanel, type LabValue } from '../simulator/lab-panels';
import {
  Disposition,
  renderAdt,
  renderOru,
  type AdtEvent,
  type BedLocation,
  type Encounter,
} from '../simulator/message-templates';
import { CASTELLANO, LINDQVIST, OKAFOR, type HospitalRecord } from './demo-hospitals';

/** One message of the demo feed. */
export interface DemoFeedMessage {
  /** When the event happened (MSH-7); messages are sent in this order. */
  readonly at: Date;
  /** MSH-4: which hospital's connection sends it. */
  readonly facility: string;
  readonly controlId: string;
  readonly text: string;
  /** e.g. `ADT^A04 MERCY MG4410231`, for logs. */
  readonly summary: string;
}

export interface DemoFeedOptions {
  /** The demo's start; events are placed days and hours before it. */
  readonly now: Date;
  /** Goes into every MSH-10, so a second run against the same store is not taken for duplicates. */
  readonly runId: string;
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Results for `panel`: mid-range unless given, each flagged against its ranges. */
function results(panel: LabPanel, values: Readonly<Record<string, number>> = {}): LabValue[] {
  return panel.analytes.map((a) => {
    const value = values[a.loinc] ?? (a.low + a.high) / 2;
    return { value: value.toFixed(a.decimals), flag: flagFor(a, value) };
  });
}

/**
 * Marks one analyte's OBX-11, and the order's OBR-25, as corrected (C): how a lab sends a
 * corrected result again under the same order.
 */
function markCorrected(text: string, loinc: string): string {
  return text
    .split('\r')
    .map((segment) => {
      const fields = segment.split('|');
      if (fields[0] === 'OBR') fields[25] = 'C';
      else if (fields[0] === 'OBX' && fields[3]?.startsWith(`${loinc}^`)) fields[11] = 'C';
      return fields.join('|');
    })
    .join('\r');
}

interface LabOrder {
  readonly panel: LabPanel;
  readonly values?: Readonly<Record<string, number>>;
  readonly orderNumber: string;
  /** A correction of an earlier report under the same order: the LOINC of the corrected analyte. */
  readonly corrects?: string;
}

/** Collects a run's messages; each hospital numbers its own control IDs. */
class FeedBuilder {
  readonly messages: DemoFeedMessage[] = [];
  private readonly sequence = new Map<string, number>();
  private readonly runId: string;
  private readonly now: number;

  constructor(o: DemoFeedOptions) {
    this.runId = o.runId;
    this.now = Math.floor(o.now.getTime() / 60_000) * 60_000;
  }

  /** A moment `days` before the start, plus `hours`. */
  at(days: number, hours = 0): Date {
    return new Date(this.now - days * DAY + hours * HOUR);
  }

  private controlId(r: HospitalRecord): string {
    const n = (this.sequence.get(r.facility.code) ?? 0) + 1;
    this.sequence.set(r.facility.code, n);
    return `${r.facility.code}-${this.runId}-${n}`;
  }

  adt(r: HospitalRecord, event: AdtEvent, encounter: Encounter, at: Date): void {
    const controlId = this.controlId(r);
    const text = renderAdt({ ...this.envelope(r, controlId, at), event, encounter, version: '2.5.1' });
    this.push(r, at, controlId, text, `ADT^${event}`);
  }

  oru(r: HospitalRecord, order: LabOrder, collectedAt: Date, at: Date, encounter?: Encounter): void {
    const controlId = this.controlId(r);
    const rendered = renderOru({
      ...this.envelope(r, controlId, at),
      version: r.facility.labVersion,
      panel: order.panel,
      values: results(order.panel, order.values),
      orderNumber: order.orderNumber,
      orderingProvider: r.facility.physicians[0] ?? r.patient.pcp,
      collectedAt,
      ...(encounter !== undefined ? { encounter } : {}),
    });
    const text = order.corrects !== undefined ? markCorrected(rendered, order.corrects) : rendered;
    this.push(r, at, controlId, text, order.corrects !== undefined ? 'ORU^R01 (corrected)' : 'ORU^R01');
  }

  private envelope(r: HospitalRecord, controlId: string, sentAt: Date) {
    return { facility: r.facility, patient: r.patient, controlId, sentAt };
  }

  private push(r: HospitalRecord, at: Date, controlId: string, text: string, kind: string): void {
    const summary = `${kind} ${r.facility.code} ${r.patient.mrns[r.facility.index] ?? ''}`;
    this.messages.push({ at, facility: r.facility.code, controlId, text, summary });
  }
}

const bed = (unit: string, room: string, b = 'A'): BedLocation => ({ unit, room, bed: b });

function visit(
  r: HospitalRecord,
  number: string,
  patientClass: Encounter['patientClass'],
  location: BedLocation,
  admittedAt: Date,
  more: Partial<Encounter> = {},
): Encounter {
  return {
    visitNumber: number,
    patientClass,
    location,
    attending: r.facility.physicians[patientClass === 'E' ? 1 : 0] ?? r.patient.pcp,
    hospitalService: patientClass === 'E' ? 'EM' : 'MED',
    admittedAt,
    ...more,
  };
}

/** Okafor: outpatient labs at Riverside, an ED visit at St. John's, then a stay at Mercy. */
function okafor(f: FeedBuilder): void {
  const rv = OKAFOR.riverside;
  const outpatient = visit(rv, 'RV-V7745-1', 'O', bed('OUTPT', 'LAB1'), f.at(120, 9));
  f.adt(rv, 'A04', outpatient, f.at(120, 9));
  f.oru(rv, { panel: BMP, orderNumber: 'RV-O7745-1' }, f.at(120, 9.5), f.at(120, 13), outpatient);

  const sj = OKAFOR.stJohns;
  const ed = visit(sj, 'SJ-V1177-1', 'E', bed('ED', 'E07'), f.at(60, 20), {
    diagnosis: { code: 'R07.9', display: 'Chest pain, unspecified' },
  });
  f.adt(sj, 'A04', ed, f.at(60, 20));
  f.oru(sj, { panel: CBC, orderNumber: 'SJ-O1177-1' }, f.at(60, 20.5), f.at(60, 21.5), ed);
  f.adt(sj, 'A03', { ...ed, dischargedAt: f.at(60, 26), disposition: Disposition.Home }, f.at(60, 26));

  const mg = OKAFOR.mercy;
  const diagnosis = { code: 'I50.9', display: 'Heart failure, unspecified' };
  const arrival = visit(mg, 'MG-V0231-1', 'E', bed('ED', 'E12'), f.at(6, 7), { diagnosis });
  f.adt(mg, 'A04', arrival, f.at(6, 7));
  const ward = bed('4WEST', '412', 'B');
  const admitted: Encounter = { ...arrival, patientClass: 'I', location: ward, hospitalService: 'CAR' };
  f.adt(mg, 'A01', admitted, f.at(6, 11));
  const icu: Encounter = { ...admitted, location: bed('ICU', '03'), priorLocation: ward };
  f.adt(mg, 'A02', icu, f.at(5, 2));
  // Potassium 6.9 is phoned through as critical; the lab later finds the specimen haemolysed.
  const bmp = { panel: BMP, orderNumber: 'MG-O0231-1' };
  f.oru(mg, { ...bmp, values: { '2823-3': 6.9 } }, f.at(5, 3), f.at(5, 4), icu);
  f.oru(mg, { ...bmp, values: { '2823-3': 5.4 }, corrects: '2823-3' }, f.at(5, 3), f.at(5, 9), icu);
  f.oru(mg, { panel: CBC, orderNumber: 'MG-O0231-2' }, f.at(4, 6), f.at(4, 7), icu);
  const discharged: Encounter = {
    ...icu,
    dischargedAt: f.at(2, 10),
    disposition: Disposition.SkilledNursing,
    diagnosis,
  };
  f.adt(mg, 'A03', discharged, f.at(2, 10));
}

/** The twins: Ethan's asthma at Mercy and labs at St. John's; Evan's fracture and labs. */
function lindqvist(f: FeedBuilder): void {
  const eSj = LINDQVIST.ethanStJohns;
  const eClinic = visit(eSj, 'SJ-V7310-1', 'O', bed('OUTPT', 'LAB2'), f.at(30, 15));
  f.adt(eSj, 'A04', eClinic, f.at(30, 15));
  f.oru(eSj, { panel: CBC, orderNumber: 'SJ-O7310-1' }, f.at(30, 15.2), f.at(30, 17), eClinic);

  const vMg = LINDQVIST.evanMercy;
  const vClinic = visit(vMg, 'MG-V0419-1', 'O', bed('OUTPT', 'LAB1'), f.at(45, 10));
  f.adt(vMg, 'A04', vClinic, f.at(45, 10));
  f.oru(vMg, { panel: CBC, orderNumber: 'MG-O0419-1' }, f.at(45, 10.2), f.at(45, 12), vClinic);

  const eMg = LINDQVIST.ethanMercy;
  const asthma = { code: 'J45.901', display: 'Unspecified asthma with (acute) exacerbation' };
  const eEd = visit(eMg, 'MG-V0418-1', 'E', bed('ED', 'E03'), f.at(10, 18), { diagnosis: asthma });
  f.adt(eMg, 'A04', eEd, f.at(10, 18));
  f.adt(eMg, 'A03', { ...eEd, dischargedAt: f.at(10, 23), disposition: Disposition.Home }, f.at(10, 23));

  const vSj = LINDQVIST.evanStJohns;
  const fracture = { code: 'S52.501A', display: 'Unspecified fracture of the lower end of right radius' };
  const vEd = visit(vSj, 'SJ-V7311-1', 'E', bed('ED', 'E15'), f.at(3, 16), { diagnosis: fracture });
  f.adt(vSj, 'A04', vEd, f.at(3, 16));
  f.adt(vSj, 'A03', { ...vEd, dischargedAt: f.at(3, 21), disposition: Disposition.Home }, f.at(3, 21));
}

/** Castellano: pneumonia at Mercy, home with home health; later an ED visit at Riverside. */
function castellano(f: FeedBuilder): void {
  const mg = CASTELLANO.mercy;
  const pneumonia = { code: 'J18.9', display: 'Pneumonia, unspecified organism' };
  const stay = visit(mg, 'MG-V8562-1', 'I', bed('4WEST', '405'), f.at(20, 14), { diagnosis: pneumonia });
  f.adt(mg, 'A01', stay, f.at(20, 14));
  f.oru(
    mg,
    { panel: CBC, orderNumber: 'MG-O8562-1', values: { '6690-2': 14.2 } },
    f.at(20, 15),
    f.at(20, 16),
    stay,
  );
  const home: Encounter = { ...stay, dischargedAt: f.at(16, 11), disposition: Disposition.HomeHealth };
  f.adt(mg, 'A03', home, f.at(16, 11));

  const rv = CASTELLANO.riverside;
  const dyspnea = { code: 'R06.02', display: 'Shortness of breath' };
  const ed = visit(rv, 'RV-V1208-1', 'E', bed('ED', 'E04'), f.at(1, 8), { diagnosis: dyspnea });
  f.adt(rv, 'A04', ed, f.at(1, 8));
  f.oru(
    rv,
    { panel: BMP, orderNumber: 'RV-O1208-1', values: { '2345-7': 188 } },
    f.at(1, 8.5),
    f.at(1, 9.5),
    ed,
  );
  f.adt(rv, 'A03', { ...ed, dischargedAt: f.at(1, 13), disposition: Disposition.Home }, f.at(1, 13));
}

/**
 * Every message of the demo feeds, oldest first.
 * @param o - the start time and the run id.
 */
export function buildDemoFeeds(o: DemoFeedOptions): DemoFeedMessage[] {
  const f = new FeedBuilder(o);
  okafor(f);
  lindqvist(f);
  castellano(f);
  return f.messages.sort((a, b) => a.at.getTime() - b.at.getTime());
}
