/**
 * The simulated world: facilities (each its own MSH-3/MSH-4 and MRN assigning authority),
 * primary care providers with valid NPIs, and patients who may be seen at several facilities
 * under a different MRN at each, which is what cross-facility linking has to solve.
 */
import { createRandom, deriveSeed, type Random } from './seeded-random';
import {
  CITIES,
  FAMILY_NAMES,
  FEMALE_GIVEN,
  HOSPITALS,
  HOSPITAL_UNITS,
  MALE_GIVEN,
  STREET_NAMES,
  STREET_SUFFIXES,
} from './synthetic-names';

/** A sending hospital. */
export interface Facility {
  readonly index: number;
  /** MSH-4.1. */
  readonly code: string;
  readonly name: string;
  /** MSH-3.1 of its ADT feed. */
  readonly adtApplication: string;
  /** MSH-3.1 of its laboratory system. */
  readonly labApplication: string;
  /** Version its lab system sends: every third facility runs a legacy v2.3 lab interface. */
  readonly labVersion: '2.5.1' | '2.3';
  /** PID-3.4 assigning authority of its MRNs. */
  readonly mrnAuthority: string;
  readonly units: readonly string[];
  /** Its hospitalists and ED physicians (PV1-7). */
  readonly physicians: readonly Practitioner[];
}

/** A clinician identified by NPI. */
export interface Practitioner {
  readonly npi: string;
  readonly family: string;
  readonly given: string;
}

export interface Address {
  readonly street: string;
  readonly city: string;
  readonly state: string;
  readonly zip: string;
}

/** A made-up person. */
export interface Patient {
  readonly index: number;
  readonly family: string;
  readonly given: string;
  readonly middleInitial: string;
  readonly sex: 'F' | 'M';
  /** YYYYMMDD. */
  readonly birthDate: string;
  readonly address: Address;
  /** `(area) number` split for XTN. */
  readonly phone: { readonly area: string; readonly number: string };
  /** The PCP a notification goes to (PD1-4). */
  readonly pcp: Practitioner;
  /** MRN at each facility, by facility index. */
  readonly mrns: readonly string[];
  /** Where this patient is usually seen. */
  readonly homeFacility: number;
}

export interface Population {
  readonly facilities: readonly Facility[];
  readonly patients: readonly Patient[];
  readonly pcps: readonly Practitioner[];
}

export interface PopulationOptions {
  readonly patients: number;
  readonly facilities: number;
  readonly seed: number | string;
}

/**
 * Builds the population; the same options always give the same people.
 * @param options - sizes and seed.
 */
export function createPopulation(options: PopulationOptions): Population {
  if (options.patients < 1 || options.facilities < 1) {
    throw new RangeError('need at least one patient and one facility');
  }
  const random = createRandom(deriveSeed(options.seed, 'population'));
  const facilities = Array.from({ length: options.facilities }, (_, i) => createFacility(i, random));
  const pcps = Array.from({ length: Math.max(3, Math.ceil(options.patients / 40)) }, () =>
    createPractitioner(random),
  );
  const patients = Array.from({ length: options.patients }, (_, i) =>
    createPatient(i, facilities, pcps, random),
  );
  return { facilities, patients, pcps };
}

function createFacility(index: number, random: Random): Facility {
  const base = HOSPITALS[index % HOSPITALS.length] ?? HOSPITALS[0];
  const round = Math.floor(index / HOSPITALS.length);
  const code = round === 0 ? base.code : `${base.code}${round + 1}`;
  return {
    index,
    code,
    name: round === 0 ? base.name : `${base.name} ${round + 1}`,
    adtApplication: base.application,
    labApplication: index % 3 === 2 ? 'SUNQUEST' : 'LAB',
    labVersion: index % 3 === 2 ? '2.3' : '2.5.1',
    mrnAuthority: `${code}MRN`,
    units: HOSPITAL_UNITS,
    physicians: Array.from({ length: 6 }, () => createPractitioner(random)),
  };
}

/** A practitioner with a random but valid NPI. */
export function createPractitioner(random: Random): Practitioner {
  const first9 = `${random.pick(['1', '2'])}${random.digits(8)}`;
  return {
    npi: `${first9}${npiCheckDigit(first9)}`,
    family: random.pick(FAMILY_NAMES),
    given: random.pick(random.chance(0.5) ? FEMALE_GIVEN : MALE_GIVEN),
  };
}

/**
 * The NPI check digit: Luhn over the 9 digits prefixed with 80840, as CMS specifies.
 * @param first9 - the first nine digits of the NPI.
 */
export function npiCheckDigit(first9: string): string {
  const digits = `80840${first9}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    // Luhn: double every second digit from the right, starting with the one beside the check digit.
    let d = Number(digits.charAt(digits.length - 1 - i));
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

function createPatient(
  index: number,
  facilities: readonly Facility[],
  pcps: readonly Practitioner[],
  random: Random,
): Patient {
  const sex = random.chance(0.52) ? 'F' : 'M';
  const place = random.pick(CITIES);
  const age = random.chance(0.2) ? random.int(0, 17) : random.int(18, 95);
  const year = new Date().getUTCFullYear() - age;
  const birthDate = `${year}${pad(random.int(1, 12), 2)}${pad(random.int(1, 28), 2)}`;
  return {
    index,
    family: random.pick(FAMILY_NAMES),
    given: random.pick(sex === 'F' ? FEMALE_GIVEN : MALE_GIVEN),
    middleInitial: String.fromCharCode(65 + random.int(0, 25)),
    sex,
    birthDate,
    address: {
      street: `${random.int(10, 9999)} ${random.pick(STREET_NAMES)} ${random.pick(STREET_SUFFIXES)}`,
      city: place.city,
      state: place.state,
      zip: `${place.zip3}${random.digits(2)}`,
    },
    phone: { area: place.area, number: `${random.int(200, 999)}${random.digits(4)}` },
    pcp: random.pick(pcps),
    // MRN formats differ by facility, as they do in real feeds.
    mrns: facilities.map((f) =>
      f.index % 2 === 0 ? `${f.code.slice(0, 2)}${random.digits(7)}` : random.digits(8),
    ),
    homeFacility: random.int(0, facilities.length - 1),
  };
}

/** Left-pads a number with zeros. */
export function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
