/**
 * The people of the demo as the PCP's own EHR knows them: five patients of one practice and the
 * practitioner who launches the app. The hospitals' feeds (demo-feeds.ts) describe the same
 * people with their own MRNs and small differences, which is what identity linking must resolve.
 * Every name, date and number is made up.
 */

/** A patient in the sandbox EHR's own chart. */
export interface DemoPatient {
  /** The EHR's Patient id (the SMART `patient` launch context). */
  readonly id: string;
  /** The practice's own MRN. */
  readonly mrn: string;
  readonly family: string;
  readonly given: string;
  readonly middle?: string;
  readonly gender: 'female' | 'male';
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  readonly address: {
    readonly line: string;
    readonly city: string;
    readonly state: string;
    readonly postalCode: string;
  };
  /** Area code and number, `217-555-0142`. */
  readonly phone: string;
  /** What this patient shows in the demo, for the launcher page. */
  readonly story: string;
}

/** The logged-in user of the sandbox EHR. */
export interface DemoPractitioner {
  /** The EHR's Practitioner id (`fhirUser` is `Practitioner/<id>`). */
  readonly id: string;
  /** The NPI hospitals name in PD1-4, which is how the engine finds this PCP's practice. */
  readonly npi: string;
  readonly family: string;
  readonly given: string;
  readonly practice: string;
}

/** Dr. Welby: the PCP the hospital feeds name (PD1-4) and the EHR's logged-in user. */
export const DEMO_PRACTITIONER: DemoPractitioner = {
  id: 'welby',
  npi: '1234567893',
  family: 'Welby',
  given: 'Marcus',
  practice: 'Lakeside Family Medicine',
};

/** The address the Lindqvist twins share, as twins usually do. */
const LINDQVIST_HOME = { line: '77 Birch Court', city: 'Chatham', state: 'IL', postalCode: '62629' };

export const DEMO_PATIENTS: readonly DemoPatient[] = [
  {
    id: 'okafor-margaret',
    mrn: 'LFM-100231',
    family: 'Okafor',
    given: 'Margaret',
    middle: 'Adaeze',
    gender: 'female',
    birthDate: '1956-03-14',
    address: { line: '418 Maple Avenue', city: 'Springfield', state: 'IL', postalCode: '62704' },
    phone: '217-555-0142',
    story:
      'Records at three hospitals: an ED visit, admission, ICU transfer, a critical potassium that is ' +
      'later corrected and a discharge to skilled nursing at Mercy; an ED visit as "Peggy" at St. John’s; ' +
      'outpatient labs as "Okafur" at Riverside.',
  },
  {
    id: 'lindqvist-ethan',
    mrn: 'LFM-100417',
    family: 'Lindqvist',
    given: 'Ethan',
    middle: 'James',
    gender: 'male',
    birthDate: '2009-07-22',
    address: LINDQVIST_HOME,
    phone: '217-555-0188',
    story:
      'Twin of Evan (same birth date, address and phone): an asthma ED visit at Mercy and labs at St. John’s.',
  },
  {
    id: 'lindqvist-evan',
    mrn: 'LFM-100418',
    family: 'Lindqvist',
    given: 'Evan',
    middle: 'Robert',
    gender: 'male',
    birthDate: '2009-07-22',
    address: LINDQVIST_HOME,
    phone: '217-555-0188',
    story: 'Twin of Ethan: a wrist fracture at St. John’s and labs at Mercy; kept apart from his brother.',
  },
  {
    id: 'castellano-robert',
    mrn: 'LFM-100562',
    family: 'Castellano',
    given: 'Robert',
    middle: 'Luis',
    gender: 'male',
    birthDate: '1948-11-02',
    address: { line: '1203 Washington Street', city: 'Springfield', state: 'IL', postalCode: '62702' },
    phone: '217-555-0119',
    story:
      'A pneumonia admission at Mercy discharged to home health, then an ED visit as "Bob" at Riverside.',
  },
  {
    id: 'rahman-aisha',
    mrn: 'LFM-100790',
    family: 'Rahman',
    given: 'Aisha',
    gender: 'female',
    birthDate: '1990-05-30',
    address: { line: '56 Lincoln Park Drive', city: 'Rochester', state: 'IL', postalCode: '62563' },
    phone: '217-555-0173',
    story: 'No hospital records: the app shows what a patient with nothing to report looks like.',
  },
];
