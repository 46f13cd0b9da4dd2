/**
 * A patient with a long history, for timing the SMART app on a realistic worst case: `events`
 * timeline items over two hospitals (every visit an outpatient encounter, every visit's labs a
 * report), one every two days back from now, with a critical potassium now and then. The sandbox
 * EHR knows the same person, so an EHR launch of them exchanges to both hospitals' records.
 */
import { BMP, CBC, flagFor, type LabPanel, type LabValue } from '../simulator/lab-panels';
import { Disposition, renderAdt, renderOru, type Encounter } from '../simulator/message-templates';
import type { Facility, Patient } from '../simulator/patient-population';
import type { DemoFeedMessage } from '../sandbox-ehr/demo-feeds';
import { MERCY, ST_JOHNS } from '../sandbox-ehr/demo-hospitals';
import { DEMO_PRACTITIONER, type DemoPatient } from '../sandbox-ehr/demo-patients';

/** The long-history patient as the PCP's EHR holds them. */
export const LONG_TIMELINE_PATIENT: DemoPatient = {
  id: 'hollis-theodora',
  mrn: 'LFM-100888',
  family: 'Hollis',
  given: 'Theodora',
  middle: 'June',
  gender: 'female',
  birthDate: '1941-09-08',
  address: { line: '9 Quarry Hill Road', city: 'Springfield', state: 'IL', postalCode: '62711' },
  phone: '217-555-0166',
  story: 'Dialysis three times a week for years: hundreds of visits and lab reports at two hospitals.',
};

const FACILITIES: readonly Facility[] = [MERCY, ST_JOHNS];
const MRNS = ['MG7700888', '20988800'];
const DAY_MS = 24 * 3600_000;

function hospitalPatient(p: DemoPatient): Patient {
  const [area = '', exchange = '', line = ''] = p.phone.split('-');
  return {
    index: 900,
    family: p.family,
    given: p.given,
    middleInitial: p.middle?.charAt(0) ?? '',
    sex: p.gender === 'female' ? 'F' : 'M',
    birthDate: p.birthDate.replaceAll('-', ''),
    address: {
      street: p.address.line,
      city: p.address.city,
      state: p.address.state,
      zip: p.address.postalCode,
    },
    phone: { area, number: `${exchange}${line}` },
    pcp: { npi: DEMO_PRACTITIONER.npi, family: DEMO_PRACTITIONER.family, given: DEMO_PRACTITIONER.given },
    mrns: MRNS,
    homeFacility: 0,
  };
}

/** Values for visit `i`: mid-range, drifting, and a critical potassium every 25th BMP. */
function values(panel: LabPanel, i: number): LabValue[] {
  return panel.analytes.map((a, k) => {
    const drift = Math.sin((i + k) / 7) * (a.high - a.low) * 0.6;
    const critical = panel === BMP && a.loinc === '2823-3' && i % 25 === 0;
    const value = critical ? (a.criticalHigh ?? a.high) + 0.5 : (a.low + a.high) / 2 + drift;
    return { value: value.toFixed(a.decimals), flag: flagFor(a, value) };
  });
}

export interface LongTimelineFeedOptions {
  /** Timeline items: half visits, half lab reports (rounded up to an even number). */
  readonly events: number;
  readonly now: Date;
  /** Goes into every MSH-10, so a second run is not taken for duplicates. */
  readonly runId: string;
}

/**
 * The feed, oldest first: per visit an A03 (the visit, admitted and discharged) and an ORU.
 * @param o - how many items, from when, and the run id.
 */
export function buildLongTimelineFeed(o: LongTimelineFeedOptions): DemoFeedMessage[] {
  const patient = hospitalPatient(LONG_TIMELINE_PATIENT);
  const visits = Math.ceil(o.events / 2);
  const start = Math.floor(o.now.getTime() / 60_000) * 60_000 - visits * 2 * DAY_MS;
  const messages: DemoFeedMessage[] = [];
  for (let i = 0; i < visits; i += 1) {
    const facility = FACILITIES[i % FACILITIES.length] ?? MERCY;
    const admittedAt = new Date(start + i * 2 * DAY_MS + 8 * 3600_000);
    const dischargedAt = new Date(admittedAt.getTime() + 4 * 3600_000);
    const encounter: Encounter = {
      visitNumber: `${facility.code}-LT${i}`,
      patientClass: 'O',
      location: { unit: 'OUTPT', room: 'DIAL', bed: String((i % 8) + 1) },
      attending: facility.physicians[0] ?? patient.pcp,
      hospitalService: 'MED',
      admittedAt,
      dischargedAt,
      disposition: Disposition.Home,
    };
    const envelope = (n: number, sentAt: Date) => {
      const controlId = `LT-${o.runId}-${i}-${n}`;
      return { facility, patient, controlId, sentAt };
    };
    const visit = envelope(1, dischargedAt);
    messages.push({
      at: dischargedAt,
      facility: facility.code,
      controlId: visit.controlId,
      text: renderAdt({ ...visit, event: 'A03', encounter, version: '2.5.1' }),
      summary: `ADT^A03 ${facility.code} long timeline ${i}`,
    });
    const panel = i % 2 === 0 ? BMP : CBC;
    const resultedAt = new Date(admittedAt.getTime() + 2 * 3600_000);
    const lab = envelope(2, resultedAt);
    messages.push({
      at: resultedAt,
      facility: facility.code,
      controlId: lab.controlId,
      text: renderOru({
        ...lab,
        version: facility.labVersion,
        panel,
        values: values(panel, i),
        orderNumber: `${facility.code}-LTO${i}`,
        orderingProvider: encounter.attending,
        collectedAt: new Date(admittedAt.getTime() + 3600_000),
        encounter,
      }),
      summary: `ORU^R01 ${facility.code} long timeline ${i}`,
    });
  }
  return messages.sort((a, b) => a.at.getTime() - b.at.getTime());
}
