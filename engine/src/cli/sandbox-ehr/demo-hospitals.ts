/**
 * The three hospitals of the demo and how each registered the demo patients: its own MRN, its
 * own habits (upper case, abbreviated streets) and the slips real registration makes (a nickname,
 * a typo in a family name). The twins share everything but their given names and are registered
 * alike at two hospitals, so linking must keep them apart.
 */
import type { Facility, Patient, Practitioner } from '../simulator/patient-population';
import { npiCheckDigit } from '../simulator/patient-population';
import { DEMO_PATIENTS, DEMO_PRACTITIONER, type DemoPatient } from './demo-patients';

/** A made-up clinician with a valid NPI from its first nine digits. */
function clinician(first9: string, family: string, given: string): Practitioner {
  return { npi: `${first9}${npiCheckDigit(first9)}`, family, given };
}

const UNITS = ['ED', '4WEST', 'ICU', 'ORTHO', 'OUTPT'] as const;

/** Mercy runs Epic for ADT and Beaker for the lab. */
export const MERCY: Facility = {
  index: 0,
  code: 'MERCY',
  name: 'Mercy General Hospital',
  adtApplication: 'EPICADT',
  labApplication: 'BEAKER',
  labVersion: '2.5.1',
  mrnAuthority: 'MERCYMRN',
  units: UNITS,
  physicians: [clinician('132604758', 'Hargrove', 'Diane'), clinician('150892271', 'Osei', 'Kwame')],
};

/** St. John's registers names in upper case. */
export const ST_JOHNS: Facility = {
  index: 1,
  code: 'STJOHN',
  name: 'St. John’s Hospital',
  adtApplication: 'CERNERPM',
  labApplication: 'PATHNET',
  labVersion: '2.5.1',
  mrnAuthority: 'STJOHNMRN',
  units: UNITS,
  physicians: [clinician('176043321', 'Brandt', 'Lukas'), clinician('118827730', 'Nakamura', 'Emi')],
};

/** Riverside's laboratory still runs a v2.3 interface. */
export const RIVERSIDE: Facility = {
  index: 2,
  code: 'RIVERSIDE',
  name: 'Riverside Community Hospital',
  adtApplication: 'MEDITECH',
  labApplication: 'SUNQUEST',
  labVersion: '2.3',
  mrnAuthority: 'RIVERSIDEMRN',
  units: UNITS,
  physicians: [clinician('190455612', 'Alvarez', 'Sofia'), clinician('124470098', 'Whitcomb', 'Peter')],
};

export const DEMO_FACILITIES: readonly Facility[] = [MERCY, ST_JOHNS, RIVERSIDE];

/** Every feed names the demo practitioner as PCP in PD1-4. */
const PCP: Practitioner = {
  npi: DEMO_PRACTITIONER.npi,
  family: DEMO_PRACTITIONER.family,
  given: DEMO_PRACTITIONER.given,
};

/** How one hospital recorded one demo patient. */
export interface HospitalRecord {
  readonly facility: Facility;
  /** The simulator's patient shape, as the message templates render it. */
  readonly patient: Patient;
}

interface Registration {
  readonly mrn: string;
  readonly family?: string;
  readonly given?: string;
  readonly street?: string;
  readonly upperCase?: boolean;
}

function demoPatient(id: string): DemoPatient {
  const p = DEMO_PATIENTS.find((x) => x.id === id);
  if (p === undefined) throw new Error(`no demo patient ${id}`);
  return p;
}

/**
 * How `facility` registered the demo patient `id`.
 * @param id - the EHR's Patient id.
 * @param facility - the hospital.
 * @param r - its MRN and what it wrote differently.
 */
function registered(id: string, facility: Facility, r: Registration): HospitalRecord {
  const p = demoPatient(id);
  const upper = (s: string): string => (r.upperCase === true ? s.toUpperCase() : s);
  const [area = '', exchange = '', line = ''] = p.phone.split('-');
  const mrns: string[] = [];
  mrns[facility.index] = r.mrn;
  return {
    facility,
    patient: {
      index: DEMO_PATIENTS.indexOf(p),
      family: upper(r.family ?? p.family),
      given: upper(r.given ?? p.given),
      middleInitial: p.middle?.charAt(0) ?? '',
      sex: p.gender === 'female' ? 'F' : 'M',
      birthDate: p.birthDate.replaceAll('-', ''),
      address: {
        street: upper(r.street ?? p.address.line),
        city: upper(p.address.city),
        state: p.address.state,
        zip: p.address.postalCode,
      },
      phone: { area, number: `${exchange}${line}` },
      pcp: PCP,
      mrns,
      homeFacility: facility.index,
    },
  };
}

/** Margaret Okafor at all three hospitals: as herself, as "Peggy", and misspelt "Okafur". */
export const OKAFOR = {
  mercy: registered('okafor-margaret', MERCY, { mrn: 'MG4410231', street: '418 Maple Ave' }),
  stJohns: registered('okafor-margaret', ST_JOHNS, { mrn: '20931177', given: 'Peggy', upperCase: true }),
  riverside: registered('okafor-margaret', RIVERSIDE, {
    mrn: 'RV0087745',
    family: 'Okafur',
    street: '418 Maple Av',
    upperCase: true,
  }),
};

/** The twins, each at Mercy and St. John's, with the same birth date, address and phone. */
export const LINDQVIST = {
  ethanMercy: registered('lindqvist-ethan', MERCY, { mrn: 'MG5520418', street: '77 Birch Ct' }),
  ethanStJohns: registered('lindqvist-ethan', ST_JOHNS, { mrn: '20977310', upperCase: true }),
  evanStJohns: registered('lindqvist-evan', ST_JOHNS, { mrn: '20977311', upperCase: true }),
  evanMercy: registered('lindqvist-evan', MERCY, { mrn: 'MG5520419', street: '77 Birch Ct' }),
};

/** Robert Castellano at Mercy, and as "Bob" at Riverside. */
export const CASTELLANO = {
  mercy: registered('castellano-robert', MERCY, { mrn: 'MG3308562', street: '1203 Washington St' }),
  riverside: registered('castellano-robert', RIVERSIDE, { mrn: 'RV0091208', given: 'Bob', upperCase: true }),
};
