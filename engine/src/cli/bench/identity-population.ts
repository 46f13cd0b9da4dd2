/**
 * A deterministic synthetic population for benchmarking patient identity matching (record
 * linkage / EMPI): made-up people, each registered at one to four facilities, each registration a
 * FHIR R4 Patient shaped like the ones the engine stores, with the errors and disagreements real
 * registration desks produce (typos, nicknames, swapped birth dates, moves, formats) plus the
 * look-alikes that must NOT be linked (twins, households, namesakes). `personKey` is the ground
 * truth a matcher's output is scored against; every injected error is counted in `stats`.
 */
import { hashResourceId } from '../../mapping/resource-id';
import { createRandom, deriveSeed, type Random } from '../simulator/seeded-random';
import {
  EMAIL_DOMAINS,
  FEMALE_NAMES,
  MALE_NAMES,
  NICKNAMES,
  PARTICLE_SURNAMES,
  PLACES,
  STREETS,
  STREET_SUFFIX_SPELLINGS,
  SURNAMES,
  compoundVariants,
  zipfSampler,
} from './identity-population-names';

/**
 * How often each trait and each error occurs. Person-level rates are shares of people; record-level
 * rates apply to each record independently.
 */
export interface PopulationRates {
  /** People with a middle name. */
  readonly middleName: number;
  /** People with a hyphenated or particle surname ("Garcia-Lopez", "Van der Berg", "O'Brien"). */
  readonly compoundSurname: number;
  /** People who have a twin (both twins count), a different person with the same birth date. */
  readonly twins: number;
  /** People living in a household of 2–4 that shares address and phone. */
  readonly households: number;
  /** People with a second record, under a new MRN, at a facility that already has one. */
  readonly duplicateInFacility: number;
  /** People with an email address on file. */
  readonly email: number;
  /** People whose SSN is known. */
  readonly ssn: number;
  /** People with a payer member id. */
  readonly payerId: number;
  /** Records with one character substituted, deleted or transposed in the given name. */
  readonly givenTypo: number;
  readonly familyTypo: number;
  /** Records of people whose given name has a common nickname that carry the nickname instead. */
  readonly nickname: number;
  /** Records with day and month swapped (only possible when the day is 12 or less). */
  readonly dateSwap: number;
  /** Records with two adjacent birth-date digits transposed or one digit mistyped. */
  readonly dateTypo: number;
  /** Records carrying the person's other (earlier or later) address. */
  readonly movedAddress: number;
  readonly missingPhone: number;
  /** Records with the person's other phone number instead of the usual one. */
  readonly differentPhone: number;
  /** Records of people with a middle name that leave it out. */
  readonly missingMiddle: number;
  /** Records of people with a middle name that keep only its initial. */
  readonly middleInitial: number;
  /** Records of compound-surname people with another spelling of it. */
  readonly compoundVariant: number;
  /** Records of people with an email that leave it out. */
  readonly missingEmail: number;
  /** Records of people with an SSN that leave it out (not every facility collects it). */
  readonly missingSsn: number;
  /** Recorded SSNs with one digit wrong. */
  readonly ssnTypo: number;
  /** Records of people with a payer id that carry it (only some facilities record coverage). */
  readonly payerRecorded: number;
  /** Records that append ZIP+4 to the postal code. */
  readonly zipPlus4: number;
}

export const DEFAULT_RATES: PopulationRates = {
  middleName: 0.6,
  compoundSurname: 0.05,
  twins: 0.01,
  households: 0.1,
  duplicateInFacility: 0.01,
  email: 0.55,
  ssn: 0.2,
  payerId: 0.3,
  givenTypo: 0.03,
  familyTypo: 0.03,
  nickname: 0.05,
  dateSwap: 0.02,
  dateTypo: 0.02,
  movedAddress: 0.15,
  missingPhone: 0.2,
  differentPhone: 0.05,
  missingMiddle: 0.3,
  middleInitial: 0.1,
  compoundVariant: 0.3,
  missingEmail: 0.3,
  missingSsn: 0.25,
  ssnTypo: 0.02,
  payerRecorded: 0.6,
  zipPlus4: 0.25,
};

export interface PopulationOptions {
  readonly people: number;
  /** Default 4. */
  readonly facilities?: number;
  /** Default 1; equal seeds give identical populations. */
  readonly seed?: number;
  /** Overrides of {@link DEFAULT_RATES}. */
  readonly rates?: Partial<PopulationRates>;
  /**
   * The facility whose legacy feed upper-cases (and strips accents from) every name and address;
   * default the last facility (FAC4 of 4) when there are at least two, `null` for none.
   */
  readonly upperCaseFacility?: string | null;
}

export interface SyntheticRecord {
  /** Ground truth: which person this record belongs to (twins are different persons). */
  readonly personKey: string;
  /** 'FAC1'..'FACn'. */
  readonly facility: string;
  /** A FHIR R4 Patient with a unique `id`. */
  readonly patient: Record<string, unknown>;
}

export interface Population {
  readonly records: SyntheticRecord[];
  readonly stats: Record<string, number>;
}

/** Counters reported in `stats`: population shape first, then one per injected error. */
const STAT_KEYS = [
  'people',
  'records',
  'truePairs',
  'twinPairs',
  'households',
  'householdPeople',
  'namesakePeople',
  'compoundSurnamePeople',
  'middleNamePeople',
  'emailPeople',
  'ssnPeople',
  'payerPeople',
  'duplicateRecords',
  'givenTypo',
  'familyTypo',
  'nickname',
  'dateSwap',
  'dateTypo',
  'movedAddress',
  'missingPhone',
  'differentPhone',
  'missingMiddle',
  'middleInitial',
  'compoundVariant',
  'missingEmail',
  'missingSsn',
  'ssnTypo',
  'payerRecords',
  'upperCaseRecords',
  'zipPlus4',
  'apartmentRecords',
] as const;
type StatKey = (typeof STAT_KEYS)[number];
type Stats = Record<StatKey, number>;

/** Fixed rather than today's date, so a seed gives the same ages next year too. */
const REFERENCE_YEAR = 2025;
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const PAYER_SYSTEM = 'urn:oid:2.16.840.1.113883.3.9999.1';
const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';

type Sex = 'male' | 'female';
type Place = (typeof PLACES)[number];

interface BirthDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

interface Address {
  readonly house: number;
  readonly street: string;
  /** Index into {@link STREET_SUFFIX_SPELLINGS}; the spelling is chosen per record. */
  readonly suffix: number;
  readonly unit: string | undefined;
  readonly place: Place;
  readonly zip: string;
  readonly zip4: string;
}

interface Person {
  readonly key: string;
  readonly sex: Sex;
  readonly given: string;
  readonly middle: string | undefined;
  readonly family: string;
  readonly compound: boolean;
  readonly birth: BirthDate;
  readonly address: Address;
  /** Ten digits. */
  readonly phone: string;
  readonly email: string | undefined;
  readonly ssn: string | undefined;
  readonly payerId: string | undefined;
  /** 1-based facility numbers. */
  readonly facilities: readonly number[];
  /** YYYY-MM-DD of {@link birth}, formatted once. */
  readonly birthDate: string;
  // Made on first use, so every "moved" record of one person agrees on where they moved to.
  movedTo: Address | undefined;
  otherPhone: string | undefined;
}

/** A record before shuffling; MRN and id are assigned afterwards so they leak no person order. */
interface Draft {
  readonly person: Person;
  readonly facility: number;
  readonly family: string;
  readonly given: string[];
  readonly identifiers: Record<string, unknown>[];
  readonly telecom: Record<string, unknown>[];
  readonly birthDate: string;
  readonly address: Record<string, unknown>;
}

/** Builds the population; the same options always give the same records in the same order. */
export function generatePopulation(options: PopulationOptions): Population {
  const facilities = options.facilities ?? 4;
  if (!Number.isInteger(options.people) || options.people < 0) {
    throw new RangeError(`people must be a non-negative integer, got ${options.people}`);
  }
  if (!Number.isInteger(facilities) || facilities < 1) {
    throw new RangeError(`facilities must be a positive integer, got ${facilities}`);
  }
  const seed = options.seed ?? 1;
  const rates: PopulationRates = { ...DEFAULT_RATES, ...options.rates };
  const upperCase =
    options.upperCaseFacility === undefined
      ? facilities >= 2
        ? facilityId(facilities)
        : null
      : options.upperCaseFacility;
  const stats = Object.fromEntries(STAT_KEYS.map((k) => [k, 0])) as Stats;

  // Separate streams: changing a record-level rate keeps the same people, and vice versa.
  const people = createPeople(
    options.people,
    facilities,
    rates,
    createRandom(deriveSeed(seed, 'people')),
    stats,
  );
  const drafts = createDrafts(people, rates, upperCase, createRandom(deriveSeed(seed, 'records')), stats);
  shuffle(drafts, createRandom(deriveSeed(seed, 'order')));

  const counters = new Array<number>(facilities + 1).fill(0);
  const records = drafts.map((draft): SyntheticRecord => {
    const n = (counters[draft.facility] ?? 0) + 1;
    counters[draft.facility] = n;
    return {
      personKey: draft.person.key,
      facility: facilityId(draft.facility),
      patient: toPatient(draft, mrnFor(draft.facility, n)),
    };
  });
  stats.records = records.length;
  stats.truePairs = truePairCount(records);
  return { records, stats };
}

/** Number of true-match pairs (records sharing personKey): the denominator of pairwise recall. */
export function truePairCount(records: readonly SyntheticRecord[]): number {
  const perPerson = new Map<string, number>();
  for (const r of records) perPerson.set(r.personKey, (perPerson.get(r.personKey) ?? 0) + 1);
  let pairs = 0;
  for (const n of perPerson.values()) pairs += (n * (n - 1)) / 2;
  return pairs;
}

function facilityId(n: number): string {
  return `FAC${n}`;
}

function mrnSystem(facility: number): string {
  return `urn:oid:2.16.840.1.113883.3.${facility}`;
}

/** Each facility's registration system numbers its MRNs its own way. */
function mrnFor(facility: number, n: number): string {
  switch ((facility - 1) % 4) {
    case 0:
      return String(100000 + n).padStart(8, '0');
    case 1:
      return `M${String(n).padStart(7, '0')}`;
    case 2:
      return `E${300000 + n}`;
    default:
      return String(500000 + n);
  }
}

// ---------------------------------------------------------------------------------------------
// People: the ground truth.

const pickSurname = zipfSampler(SURNAMES, 8, 1);
const pickFemale = zipfSampler(FEMALE_NAMES, 4, 1);
const pickMale = zipfSampler(MALE_NAMES, 4, 1);
const pickParticle = zipfSampler(PARTICLE_SURNAMES, 3, 1);
const pickPlace = zipfSampler(PLACES, 2, 0.6);
const pickStreet = zipfSampler(STREETS, 10, 0.5);
// Street and Avenue dominate, Way and Place are rare.
const pickSuffix = zipfSampler(
  STREET_SUFFIX_SPELLINGS.map((_, i) => i),
  1,
  1,
);
/** 20% / 30% / 30% / 20% of people at 1 / 2 / 3 / 4 facilities: 2.5 on average. */
const FACILITY_COUNT_CUMULATIVE = [0.2, 0.5, 0.8, 1];
const NO_NAMES: readonly string[] = [];

function createPeople(
  count: number,
  facilities: number,
  rates: PopulationRates,
  rng: Random,
  stats: Stats,
): Person[] {
  const people: Person[] = [];
  const nextKey = (): string => `P${String(people.length + 1).padStart(7, '0')}`;
  // People per unit E = 1 + t + 2h (pairs add one, households of 2–4 add two on average); solving
  // 2t/E = twins and 3h/E = households gives the unit probabilities below.
  const perUnit = 1 / Math.max(0.05, 1 - rates.twins / 2 - (2 * rates.households) / 3);
  const pTwin = (rates.twins * perUnit) / 2;
  const pHousehold = (rates.households * perUnit) / 3;

  const drawFacilities = (): number[] => {
    const u = rng.next();
    const wanted = FACILITY_COUNT_CUMULATIVE.findIndex((c) => u < c) + 1;
    const all = Array.from({ length: facilities }, (_, i) => i + 1);
    shuffle(all, rng);
    return all.slice(0, Math.min(wanted, facilities)).sort((a, b) => a - b);
  };

  const drawGiven = (sex: Sex, avoid: readonly string[]): string => {
    const pick = sex === 'female' ? pickFemale : pickMale;
    let given = pick(rng);
    for (let i = 0; i < 20 && avoid.includes(given); i++) given = pick(rng);
    return given;
  };

  const drawFamily = (): { family: string; compound: boolean } => {
    if (!rng.chance(rates.compoundSurname)) return { family: pickSurname(rng), compound: false };
    if (rng.chance(0.5)) return { family: pickParticle(rng), compound: true };
    const first = pickSurname(rng);
    let second = pickSurname(rng);
    while (second === first) second = pickSurname(rng);
    return { family: `${first}-${second}`, compound: true };
  };

  const drawBirth = (minYear: number, maxYear: number): BirthDate => {
    const year = rng.int(minYear, maxYear);
    const month = rng.int(1, 12);
    return { year, month, day: rng.int(1, daysIn(year, month)) };
  };

  const make = (fields: {
    sex: Sex;
    given: string;
    family: string;
    compound: boolean;
    birth: BirthDate;
    address: Address;
    phone: string;
    facilities: readonly number[];
  }): Person => {
    const middle = rng.chance(rates.middleName) ? drawGiven(fields.sex, [fields.given]) : undefined;
    const person: Person = {
      key: nextKey(),
      sex: fields.sex,
      given: fields.given,
      middle,
      family: fields.family,
      compound: fields.compound,
      birth: fields.birth,
      birthDate: formatDate(fields.birth),
      address: fields.address,
      phone: fields.phone,
      email: rng.chance(rates.email) ? emailFor(fields.given, fields.family, fields.birth, rng) : undefined,
      ssn: rng.chance(rates.ssn) ? randomSsn(rng) : undefined,
      payerId: rng.chance(rates.payerId) ? `W${digits(rng, 9)}` : undefined,
      facilities: fields.facilities,
      movedTo: undefined,
      otherPhone: undefined,
    };
    people.push(person);
    if (fields.compound) stats.compoundSurnamePeople++;
    if (middle !== undefined) stats.middleNamePeople++;
    if (person.email !== undefined) stats.emailPeople++;
    if (person.ssn !== undefined) stats.ssnPeople++;
    if (person.payerId !== undefined) stats.payerPeople++;
    return person;
  };

  const single = (minYear: number, maxYear: number): Person => {
    const sex: Sex = rng.chance(0.5) ? 'female' : 'male';
    const address = randomAddress(rng, pickPlace(rng));
    return make({
      sex,
      given: drawGiven(sex, NO_NAMES),
      ...drawFamily(),
      birth: drawBirth(minYear, maxYear),
      address,
      phone: randomPhone(rng, address.place),
      facilities: drawFacilities(),
    });
  };

  while (people.length < count) {
    const left = count - people.length;
    const u = rng.next();
    if (u < pTwin && left >= 2) {
      const first = single(1935, REFERENCE_YEAR - 1);
      const sex: Sex = rng.chance(0.5) ? first.sex : first.sex === 'female' ? 'male' : 'female';
      // Twins share everything the household shares, plus the birth date; only names and sex differ.
      make({
        sex,
        given: drawGiven(sex, [first.given]),
        family: first.family,
        compound: first.compound,
        birth: first.birth,
        address: first.address,
        phone: first.phone,
        facilities: rng.chance(0.7) ? first.facilities : drawFacilities(),
      });
      stats.twinPairs++;
    } else if (u < pTwin + pHousehold && left >= 2) {
      const size = Math.min(left, 1 + rng.int(1, 3));
      const head = single(1945, 1998);
      const givens = [head.given];
      const born = [head.birthDate];
      for (let m = 1; m < size; m++) {
        const spouse = m === 1 && rng.chance(0.6);
        const sex: Sex =
          spouse && rng.chance(0.95) ? opposite(head.sex) : rng.chance(0.5) ? 'female' : 'male';
        // Children carry the family name; a spouse often but not always took it.
        const family =
          spouse && rng.chance(0.25) ? drawFamily() : { family: head.family, compound: head.compound };
        const drawMemberBirth = (): BirthDate =>
          spouse
            ? drawBirth(Math.max(1935, head.birth.year - 6), Math.min(2004, head.birth.year + 6))
            : drawBirth(
                Math.min(REFERENCE_YEAR - 1, head.birth.year + 20),
                Math.min(REFERENCE_YEAR - 1, head.birth.year + 42),
              );
        // Same address, phone and birth date is what twins look like; household members must not.
        let birth = drawMemberBirth();
        while (born.includes(formatDate(birth))) birth = drawMemberBirth();
        born.push(formatDate(birth));
        const given = drawGiven(sex, givens);
        givens.push(given);
        make({
          sex,
          given,
          ...family,
          birth,
          address: head.address,
          phone: head.phone,
          // Families tend to use the same hospitals.
          facilities: rng.chance(0.5) ? head.facilities : drawFacilities(),
        });
      }
      stats.households++;
      stats.householdPeople += size;
    } else {
      single(1935, REFERENCE_YEAR - 1);
    }
  }

  const byName = new Map<string, number>();
  for (const p of people) {
    const name = `${p.given}|${p.family}`;
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  for (const n of byName.values()) if (n > 1) stats.namesakePeople += n;
  stats.people = people.length;
  return people;
}

function opposite(sex: Sex): Sex {
  return sex === 'female' ? 'male' : 'female';
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function randomAddress(rng: Random, place: Place): Address {
  return {
    // Low house numbers are more common than high ones.
    house: rng.chance(0.6) ? rng.int(1, 999) : rng.int(1000, 9999),
    street: pickStreet(rng),
    suffix: pickSuffix(rng),
    unit: rng.chance(0.18)
      ? rng.chance(0.7)
        ? String(rng.int(1, 40))
        : `${rng.int(1, 4)}${rng.pick(['A', 'B', 'C', 'D'])}`
      : undefined,
    place,
    zip: place.zip3 + String(rng.int(1, 99)).padStart(2, '0'),
    zip4: digits(rng, 4),
  };
}

/** A different street, and usually (70%) a different postal code, sometimes in another city. */
function moveFrom(rng: Random, from: Address): Address {
  let next = randomAddress(rng, from.place);
  while (next.street === from.street) next = randomAddress(rng, from.place);
  if (!rng.chance(0.7)) return { ...next, zip: from.zip };
  if (rng.chance(0.2)) return randomAddress(rng, pickPlace(rng));
  return next.zip === from.zip
    ? { ...next, zip: from.place.zip3 + (from.zip.endsWith('99') ? '01' : '99') }
    : next;
}

function randomPhone(rng: Random, place: Place): string {
  // Exchanges start 2–9 (NANP); 555 is skipped so numbers do not look like fiction placeholders.
  let exchange = rng.int(200, 999);
  if (exchange === 555) exchange = 556;
  return `${place.area}${exchange}${digits(rng, 4)}`;
}

/** 9xx area numbers are never issued as SSNs, so no value can be a real person's. */
function randomSsn(rng: Random): string {
  return `9${digits(rng, 2)}-${digits(rng, 2)}-${digits(rng, 4)}`;
}

function emailFor(given: string, family: string, birth: BirthDate, rng: Random): string {
  const g = asciiFold(given)
    .toLowerCase()
    .replace(/[^a-z]/g, '');
  const f = asciiFold(family)
    .toLowerCase()
    .replace(/[^a-z]/g, '');
  const yy = String(birth.year % 100).padStart(2, '0');
  const local = rng.pick([
    `${g}.${f}`,
    `${g}${f}${rng.int(1, 99)}`,
    `${g.charAt(0)}${f}`,
    `${f}.${g}`,
    `${g}_${f}${yy}`,
  ]);
  return `${local}@${rng.pick(EMAIL_DOMAINS)}`;
}

// ---------------------------------------------------------------------------------------------
// Records: what each facility holds about a person.

function createDrafts(
  people: readonly Person[],
  rates: PopulationRates,
  upperCase: string | null,
  rng: Random,
  stats: Stats,
): Draft[] {
  const drafts: Draft[] = [];
  for (const person of people) {
    for (const facility of person.facilities) {
      drafts.push(draftRecord(person, facility, rates, upperCase, rng, stats));
    }
    if (rng.chance(rates.duplicateInFacility)) {
      drafts.push(draftRecord(person, rng.pick(person.facilities), rates, upperCase, rng, stats));
      stats.duplicateRecords++;
    }
  }
  return drafts;
}

function draftRecord(
  person: Person,
  facility: number,
  rates: PopulationRates,
  upperCase: string | null,
  rng: Random,
  stats: Stats,
): Draft {
  const legacy = upperCase === facilityId(facility);
  const fold = (text: string): string => (legacy ? asciiFold(text).toUpperCase() : text);

  let given = person.given;
  const nicknames = NICKNAMES[given];
  if (nicknames !== undefined && rng.chance(rates.nickname)) {
    given = rng.pick(nicknames);
    stats.nickname++;
  }
  if (rng.chance(rates.givenTypo)) {
    const typed = nameTypo(rng, given);
    if (typed !== given) stats.givenTypo++;
    given = typed;
  }

  let family = person.family;
  if (person.compound && rng.chance(rates.compoundVariant)) {
    const variants = compoundVariants(family);
    if (variants.length > 0) {
      family = rng.pick(variants);
      stats.compoundVariant++;
    }
  }
  if (rng.chance(rates.familyTypo)) {
    const typed = nameTypo(rng, family);
    if (typed !== family) stats.familyTypo++;
    family = typed;
  }

  let middle = person.middle;
  if (middle !== undefined) {
    if (rng.chance(rates.missingMiddle)) {
      middle = undefined;
      stats.missingMiddle++;
    } else if (rng.chance(rates.middleInitial)) {
      middle = middle.charAt(0) + (rng.chance(0.5) ? '.' : '');
      stats.middleInitial++;
    }
  }

  let birth = person.birth;
  let birthDate = person.birthDate;
  if (rng.chance(rates.dateSwap) && birth.day <= 12 && birth.day !== birth.month) {
    birth = { year: birth.year, month: birth.day, day: birth.month };
    birthDate = formatDate(birth);
    stats.dateSwap++;
  }
  if (rng.chance(rates.dateTypo)) {
    const typed = dateTypo(rng, birth);
    if (typed !== undefined) {
      birthDate = formatDate(typed);
      stats.dateTypo++;
    }
  }

  let address = person.address;
  if (rng.chance(rates.movedAddress)) {
    address = person.movedTo ??= moveFrom(rng, person.address);
    stats.movedAddress++;
  }
  const lines = addressLines(rng, address);
  if (address.unit !== undefined) stats.apartmentRecords++;
  const withZip4 = rng.chance(rates.zipPlus4);
  if (withZip4) stats.zipPlus4++;

  const telecom: Record<string, unknown>[] = [];
  if (rng.chance(rates.missingPhone)) {
    stats.missingPhone++;
  } else {
    let phone = person.phone;
    if (rng.chance(rates.differentPhone)) {
      phone = person.otherPhone ??= randomPhone(rng, person.address.place);
      stats.differentPhone++;
    }
    telecom.push({ system: 'phone', value: formatPhone(rng, phone, facility), use: 'home' });
  }
  if (person.email !== undefined) {
    if (rng.chance(rates.missingEmail)) stats.missingEmail++;
    else telecom.push({ system: 'email', value: person.email });
  }

  const identifiers: Record<string, unknown>[] = [];
  if (person.ssn !== undefined) {
    if (rng.chance(rates.missingSsn)) {
      stats.missingSsn++;
    } else {
      let ssn = person.ssn;
      if (rng.chance(rates.ssnTypo)) {
        ssn = digitTypo(rng, ssn);
        stats.ssnTypo++;
      }
      identifiers.push(identifier('SS', 'Social Security number', SSN_SYSTEM, ssn));
    }
  }
  if (person.payerId !== undefined && rng.chance(rates.payerRecorded)) {
    identifiers.push(identifier('MB', 'Member Number', PAYER_SYSTEM, person.payerId));
    stats.payerRecords++;
  }
  if (legacy) stats.upperCaseRecords++;

  return {
    person,
    facility,
    family: fold(family),
    given: middle === undefined ? [fold(given)] : [fold(given), fold(middle)],
    identifiers,
    telecom,
    birthDate,
    address: {
      use: 'home',
      line: lines.map(fold),
      city: fold(address.place.city),
      state: address.place.state,
      postalCode: withZip4 ? `${address.zip}-${address.zip4}` : address.zip,
    },
  };
}

function toPatient(draft: Draft, mrn: string): Record<string, unknown> {
  const system = mrnSystem(draft.facility);
  return {
    resourceType: 'Patient',
    // The engine's own Patient id recipe (PID-3 authority and value), so ids look like stored ones.
    id: hashResourceId('Patient', [system, mrn]),
    identifier: [identifier('MR', 'Medical record number', system, mrn), ...draft.identifiers],
    active: true,
    name: [{ use: 'official', family: draft.family, given: draft.given }],
    ...(draft.telecom.length > 0 ? { telecom: draft.telecom } : {}),
    gender: draft.person.sex,
    birthDate: draft.birthDate,
    address: [draft.address],
    managingOrganization: { reference: `Organization/${facilityId(draft.facility)}` },
  };
}

function identifier(code: string, display: string, system: string, value: string): Record<string, unknown> {
  return { type: { coding: [{ system: V2_0203, code, display }] }, system, value };
}

/** House number, street and a suffix spelled however this clerk spells it; the unit usually on line 2. */
function addressLines(rng: Random, address: Address): string[] {
  const spellings = STREET_SUFFIX_SPELLINGS[address.suffix] ?? ['Street'];
  const street = `${address.house} ${address.street} ${rng.pick(spellings)}`;
  if (address.unit === undefined) return [street];
  const unit = rng.pick([
    `Apt ${address.unit}`,
    `Apt. ${address.unit}`,
    `#${address.unit}`,
    `Unit ${address.unit}`,
  ]);
  return rng.chance(0.85) ? [street, unit] : [`${street} ${unit}`];
}

const PHONE_FORMATS: readonly ((a: string, e: string, l: string) => string)[] = [
  (a, e, l) => `(${a}) ${e}-${l}`,
  (a, e, l) => `${a}-${e}-${l}`,
  (a, e, l) => `+1 ${a} ${e} ${l}`,
  (a, e, l) => `${a}${e}${l}`,
];

/** Each facility has a house format it uses 70% of the time; the rest are typed however. */
function formatPhone(rng: Random, digits: string, facility: number): string {
  const house = PHONE_FORMATS[(facility - 1) % PHONE_FORMATS.length];
  const format = house !== undefined && rng.chance(0.7) ? house : rng.pick(PHONE_FORMATS);
  return format(digits.slice(0, 3), digits.slice(3, 6), digits.slice(6));
}

function formatDate(b: BirthDate): string {
  return `${b.year}-${String(b.month).padStart(2, '0')}-${String(b.day).padStart(2, '0')}`;
}

/** Legacy feeds are 7-bit: accents go before upper-casing ("Muñoz" → "MUNOZ"). */
function asciiFold(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

// ---------------------------------------------------------------------------------------------
// Errors.

/** Neighbouring keys on a QWERTY keyboard: most substitutions are a slipped finger. */
const KEY_NEIGHBOURS: ReadonlyMap<string, string> = new Map(
  (
    'a:qwsz b:vghn c:xdfv d:serfcx e:wsdr f:drtgvc g:ftyhbv h:gyujnb i:ujko j:huikmn k:jiolm l:kop ' +
    'm:njk n:bhjm o:iklp p:ol q:wa r:edft s:awedxz t:rfgy u:yhji v:cfgb w:qase x:zsdc y:tghu z:asx'
  )
    .split(' ')
    .map((pair): [string, string] => [pair.charAt(0), pair.slice(2)]),
);

/**
 * One substitution, deletion or transposition, never on the first letter (people check that one)
 * and only in names of three letters or more; returns the input when no edit applies.
 */
function nameTypo(rng: Random, text: string): string {
  const letters: number[] = [];
  for (let i = 1; i < text.length; i++) if (/[A-Za-z]/.test(text.charAt(i))) letters.push(i);
  if (letters.length < 2) return text;
  for (let attempt = 0; attempt < 4; attempt++) {
    const i = rng.pick(letters);
    const ch = text.charAt(i);
    let out = text;
    switch (rng.int(0, 2)) {
      case 0: {
        const lower = ch.toLowerCase();
        const near = KEY_NEIGHBOURS.get(lower) ?? 'e';
        const sub = rng.chance(0.8)
          ? near.charAt(rng.int(0, near.length - 1))
          : String.fromCharCode(97 + rng.int(0, 25));
        out = text.slice(0, i) + (ch === lower ? sub : sub.toUpperCase()) + text.slice(i + 1);
        break;
      }
      case 1:
        out = text.slice(0, i) + text.slice(i + 1);
        break;
      default: {
        const next = text.charAt(i + 1);
        if (/[A-Za-z]/.test(next)) out = text.slice(0, i) + next + ch + text.slice(i + 2);
        break;
      }
    }
    if (out !== text) return out;
  }
  return text;
}

/**
 * Two adjacent digits of YYYYMMDD transposed or one mistyped, outside the century; only results
 * that are still valid past dates count, so a parser cannot spot the error. Undefined when none is.
 */
function dateTypo(rng: Random, birth: BirthDate): BirthDate | undefined {
  const original = formatDate(birth).replace(/-/g, '');
  for (let attempt = 0; attempt < 8; attempt++) {
    const chars = original.split('');
    const i = rng.int(2, 7);
    if (i < 7 && rng.chance(0.5)) {
      const a = chars[i] ?? '0';
      chars[i] = chars[i + 1] ?? '0';
      chars[i + 1] = a;
    } else {
      chars[i] = String((Number(chars[i] ?? '0') + rng.int(1, 9)) % 10);
    }
    const text = chars.join('');
    if (text === original) continue;
    const year = Number(text.slice(0, 4));
    const month = Number(text.slice(4, 6));
    const day = Number(text.slice(6, 8));
    if (year < REFERENCE_YEAR && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month)) {
      return { year, month, day };
    }
  }
  return undefined;
}

/** One digit replaced by another; separators stay where they are. */
function digitTypo(rng: Random, value: string): string {
  const positions = value.split('').flatMap((c, i) => (c >= '0' && c <= '9' ? [i] : []));
  const i = rng.pick(positions);
  const digit = Number(value.charAt(i));
  return value.slice(0, i) + String((digit + rng.int(1, 9)) % 10) + value.slice(i + 1);
}

/** `length` decimal digits; cheaper than `Random.digits`, which matters at 100,000 records. */
function digits(rng: Random, length: number): string {
  return String(rng.int(0, 10 ** length - 1)).padStart(length, '0');
}

/** Fisher–Yates, in place. */
function shuffle(items: unknown[], rng: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const a = items[i];
    items[i] = items[j];
    items[j] = a;
  }
}
