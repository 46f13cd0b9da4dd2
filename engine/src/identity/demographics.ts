/**
 * What identity matching knows of one Patient record: its facility and MRN, its identifiers,
 * and its demographics in comparable form. Pure: the same Patient always yields the same
 * demographics, in the pipeline, in a relink and in `$match`.
 */
import { asList, asString, field, type JsonObject } from '../store/fhir-json';
import { normalizeEmail, normalizePhone, normalizePostal, normalizeStreet } from './address-forms';
import { nameKey, phoneticCodes, surnameParts } from './name-forms';

/** One identifier as `system|value`, with its v2-0203 type code when the feed sent one. */
export interface IdentifierValue {
  readonly system: string;
  readonly value: string;
  readonly type: string | undefined;
}

export interface Demographics {
  readonly patientId: string;
  /** False for a record merged away (A40): it is part of its survivor's person, never a candidate. */
  readonly active: boolean;
  /**
   * Whose MRN this is: the MR identifier's assigner, else its system (its assigning authority),
   * else the managing organisation. Two records of one facility are one patient only on that
   * facility's word.
   */
  readonly facility: string | undefined;
  readonly mrn: string | undefined;
  readonly identifiers: readonly IdentifierValue[];
  /** First given name, then middle names, as name keys. */
  readonly given: readonly string[];
  /** Family name keys of every name (official first, then maiden and other names). */
  readonly families: readonly string[];
  /** Parts of a compound surname ("GARCIA-LOPEZ" → GARCIA, LOPEZ). */
  readonly familyParts: readonly string[];
  readonly givenPhonetic: readonly string[];
  readonly familyPhonetic: readonly string[];
  /** `YYYY-MM-DD`, only when the full date is known. */
  readonly birthDate: string | undefined;
  readonly sex: 'male' | 'female' | undefined;
  readonly street: string | undefined;
  readonly postal: string | undefined;
  readonly phones: readonly string[];
  readonly email: string | undefined;
  /** SSN digits, when present and not a known placeholder. */
  readonly ssn: string | undefined;
}

const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';

/** Numbers clerks type when the patient has none; they identify nobody. */
function isPlaceholderSsn(digits: string): boolean {
  return (
    digits.length !== 9 ||
    /^(\d)\1{8}$/.test(digits) ||
    digits === '123456789' ||
    digits.startsWith('000') ||
    digits.startsWith('666') ||
    digits.slice(3, 5) === '00' ||
    digits.slice(5) === '0000'
  );
}

function identifiersOf(patient: JsonObject): IdentifierValue[] {
  const out: IdentifierValue[] = [];
  for (const id of asList(patient['identifier'])) {
    const system = asString(field(id, 'system'));
    const value = asString(field(id, 'value'))?.trim();
    if (system === undefined || value === undefined || value === '') continue;
    const coding = asList(field(field(id, 'type'), 'coding'))[0];
    out.push({ system, value, type: asString(field(coding, 'code')) });
  }
  return out;
}

/** An MRN and whose it is (its facility key). */
interface RecordNumber {
  readonly value: string;
  readonly owner: string | undefined;
}

/**
 * The MR identifier (else the first untyped one), with or without a system: a feed that sends
 * no assigning authority (PID-3.4) still names its records by MRN, within its facility. Its
 * owner is the assigner the mappings name when the sending facility assigned the number (they
 * then fill the system from MSH-4 too), else the system. That assigner is the managing
 * organisation, the key such a record had while its system was left empty: records of one
 * facility stored before the system was filled and after it keep one key.
 */
function medicalRecordNumber(patient: JsonObject): RecordNumber | undefined {
  let untyped: RecordNumber | undefined;
  for (const id of asList(patient['identifier'])) {
    const value = asString(field(id, 'value'))?.trim();
    if (value === undefined || value === '') continue;
    const owner = asString(field(field(id, 'assigner'), 'reference')) ?? asString(field(id, 'system'));
    const type = asString(field(asList(field(field(id, 'type'), 'coding'))[0], 'code'));
    if (type === 'MR') return { value, owner };
    if (type === undefined) untyped ??= { value, owner };
  }
  return untyped;
}

/** Names in the order matching prefers: official (or usual, or unlabelled) first. */
function orderedNames(patient: JsonObject): unknown[] {
  const names = asList(patient['name']);
  const rank = (n: unknown): number => {
    const use = asString(field(n, 'use'));
    return use === 'official' || use === 'usual' ? 0 : use === undefined ? 1 : 2;
  };
  return [...names].sort((a, b) => rank(a) - rank(b));
}

function birthDateOf(patient: JsonObject): string | undefined {
  const raw = asString(patient['birthDate']);
  return raw !== undefined && /^\d{4}-\d{2}-\d{2}/.test(raw) ? raw.slice(0, 10) : undefined;
}

function homeAddress(patient: JsonObject): unknown {
  const addresses = asList(patient['address']);
  return (
    addresses.find((a) => asString(field(a, 'use')) === 'home') ??
    addresses.find((a) => asString(field(a, 'use')) !== 'old')
  );
}

/** The demographics of a stored Patient, in comparable form. */
export function demographicsOf(patient: JsonObject): Demographics {
  const patientId = asString(patient['id']) ?? '';
  const identifiers = identifiersOf(patient);
  const mr = medicalRecordNumber(patient);
  const managing = asString(field(patient['managingOrganization'], 'reference'));
  const names = orderedNames(patient);
  const first = names[0];
  const given = asList(field(first, 'given'))
    .map((g) => nameKey(asString(g) ?? ''))
    .filter((g) => g.length > 0);
  const familyRaw = names.map((n) => asString(field(n, 'family')) ?? '').filter((f) => nameKey(f) !== '');
  const families = [...new Set(familyRaw.map(nameKey))];
  const address = homeAddress(patient);
  const phones = new Set<string>();
  let email: string | undefined;
  for (const t of asList(patient['telecom'])) {
    const system = asString(field(t, 'system'));
    const value = asString(field(t, 'value')) ?? '';
    if (system === 'email') email ??= normalizeEmail(value);
    else if (system === 'phone' || system === undefined) {
      const p = normalizePhone(value);
      if (p !== undefined) phones.add(p);
    }
  }
  const ssnDigits = identifiers.find((i) => i.system === SSN_SYSTEM)?.value.replace(/\D/g, '');
  const gender = asString(patient['gender']);
  return {
    patientId,
    active: patient['active'] !== false,
    facility: mr?.owner ?? managing,
    mrn: mr?.value,
    identifiers,
    given,
    families,
    familyParts: [...new Set(familyRaw.slice(0, 1).flatMap(surnameParts))],
    givenPhonetic: given[0] === undefined ? [] : phoneticCodes(given[0]),
    familyPhonetic: families[0] === undefined ? [] : phoneticCodes(families[0]),
    birthDate: birthDateOf(patient),
    sex: gender === 'male' || gender === 'female' ? gender : undefined,
    street: normalizeStreet(asList(field(address, 'line')).map((l) => asString(l) ?? '')),
    postal: normalizePostal(asString(field(address, 'postalCode'))),
    phones: [...phones],
    email,
    ssn: ssnDigits !== undefined && !isPlaceholderSsn(ssnDigits) ? ssnDigits : undefined,
  };
}
