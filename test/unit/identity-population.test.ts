/**
 * The identity-matching benchmark population: reproducible, the promised size and shape, ground
 * truth that keeps twins apart, and every error it claims to inject actually injected.
 */
import { describe, expect, it } from 'vitest';
import {
  generatePopulation,
  truePairCount,
  type PopulationRates,
  type SyntheticRecord,
} from '../../engine/src/cli/bench/identity-population';

interface Name {
  family: string;
  given: string[];
}
interface Telecom {
  system: string;
  value: string;
}
interface Identifier {
  type: { coding: { code: string }[] };
  system: string;
  value: string;
}
interface AddressJson {
  line: string[];
  city: string;
  postalCode: string;
}

const nameOf = (r: SyntheticRecord): Name => (r.patient['name'] as Name[])[0]!;
const addressOf = (r: SyntheticRecord): AddressJson => (r.patient['address'] as AddressJson[])[0]!;
const identifiersOf = (r: SyntheticRecord): Identifier[] => r.patient['identifier'] as Identifier[];
const phoneDigits = (r: SyntheticRecord): string | undefined => {
  const phone = ((r.patient['telecom'] ?? []) as Telecom[]).find((t) => t.system === 'phone');
  return phone?.value.replace(/\D/g, '').slice(-10);
};

// One shared 20,000-person run: big enough that every 2% error occurs, small enough to be quick.
const big = generatePopulation({ people: 20_000, seed: 20_000 });

describe('identity population', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generatePopulation({ people: 500, seed: 42 });
    const b = generatePopulation({ people: 500, seed: 42 });
    const c = generatePopulation({ people: 500, seed: 43 });
    expect(b).toEqual(a);
    expect(c.records.map((r) => r.patient['id'])).not.toEqual(a.records.map((r) => r.patient['id']));
  });

  it('gives about 2.5 records per person', () => {
    expect(big.records.length).toBeGreaterThan(20_000 * 2.5 * 0.9);
    expect(big.records.length).toBeLessThan(20_000 * 2.5 * 1.1);
    expect(new Set(big.records.map((r) => r.personKey)).size).toBe(20_000);
    expect(big.stats['records']).toBe(big.records.length);
  });

  it('gives every record a unique 32-hex id and its facility MRN, organization and system', () => {
    const ids = big.records.map((r) => r.patient['id'] as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !/^[0-9a-f]{32}$/.test(id))).toEqual([]);
    // Collected rather than asserted per record: 50,000 expect() calls take seconds.
    const wrong: SyntheticRecord[] = [];
    const mrns = new Set<string>();
    for (const r of big.records) {
      const mr = identifiersOf(r).find((i) => i.type.coding[0]?.code === 'MR');
      const organization = (r.patient['managingOrganization'] as { reference: string }).reference;
      if (
        r.patient['resourceType'] !== 'Patient' ||
        !/^FAC[1-4]$/.test(r.facility) ||
        mr?.system !== `urn:oid:2.16.840.1.113883.3.${r.facility.slice(3)}` ||
        organization !== `Organization/${r.facility}`
      ) {
        wrong.push(r);
      }
      mrns.add(`${mr?.system}|${mr?.value}`);
    }
    expect(wrong).toEqual([]);
    expect(mrns.size).toBe(big.records.length);
  });

  it('keeps one payer member id per person and formats SSNs', () => {
    const payer = new Map<string, string>();
    const wrong: Identifier[] = [];
    for (const r of big.records) {
      for (const i of identifiersOf(r)) {
        const code = i.type.coding[0]?.code;
        if (code === 'MB') {
          // The payer's member id is the same wherever it was recorded.
          const same = (payer.get(r.personKey) ?? i.value) === i.value;
          if (i.system !== 'urn:oid:2.16.840.1.113883.3.9999.1' || !same) wrong.push(i);
          payer.set(r.personKey, i.value);
        } else if (code === 'SS') {
          const ssnShape = /^\d{3}-\d{2}-\d{4}$/.test(i.value);
          if (i.system !== 'http://hl7.org/fhir/sid/us-ssn' || !ssnShape) wrong.push(i);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(payer.size).toBeGreaterThan(0);
  });

  it('keeps twins as distinct persons with the same family name, birth date and phone', () => {
    // Without record errors, everything a twin pair shares is spelled the same in every record;
    // households share phone and family but never a birth date, so such groups are twins only.
    const none = Object.fromEntries(
      [
        'givenTypo',
        'familyTypo',
        'nickname',
        'dateSwap',
        'dateTypo',
        'movedAddress',
        'missingPhone',
        'differentPhone',
        'compoundVariant',
      ].map((k) => [k, 0]),
    ) as Partial<PopulationRates>;
    const population = generatePopulation({ people: 5000, seed: 7, rates: { ...none, twins: 0.1 } });
    const groups = new Map<string, Set<string>>();
    for (const r of population.records) {
      const key = `${nameOf(r).family.toUpperCase()}|${r.patient['birthDate'] as string}|${phoneDigits(r)!}`;
      const persons = groups.get(key) ?? new Set<string>();
      persons.add(r.personKey);
      groups.set(key, persons);
    }
    const twinGroups = [...groups.values()].filter((persons) => persons.size > 1);
    expect(population.stats['twinPairs']).toBeGreaterThan(100);
    expect(twinGroups.length).toBe(population.stats['twinPairs']);
    for (const persons of twinGroups) expect(persons.size).toBe(2);
  });

  it('upper-cases names and addresses from the legacy facility only', () => {
    const isUpper = (r: SyntheticRecord): boolean => {
      const name = nameOf(r);
      const address = addressOf(r);
      const texts = [name.family, ...name.given, ...address.line, address.city];
      return texts.every((t) => t === t.toUpperCase());
    };
    const legacy = big.records.filter((r) => r.facility === 'FAC4');
    expect(legacy.length).toBeGreaterThan(0);
    expect(legacy.every(isUpper)).toBe(true);
    expect(big.stats['upperCaseRecords']).toBe(legacy.length);
    const others = big.records.filter((r) => r.facility !== 'FAC4');
    expect(others.filter(isUpper)).toEqual([]);
  });

  it('injects every error type at 20,000 people', () => {
    const errors = [
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
      'upperCaseRecords',
      'twinPairs',
      'households',
      'namesakePeople',
      'compoundSurnamePeople',
    ];
    // Compared as one object so a failure names every missing error at once.
    const injected = Object.fromEntries(errors.map((key) => [key, (big.stats[key] ?? 0) > 0]));
    expect(injected).toEqual(Object.fromEntries(errors.map((key) => [key, true])));
  });

  it('varies phone formats, street suffixes and apartment lines', () => {
    const phones = big.records.flatMap((r) =>
      ((r.patient['telecom'] ?? []) as Telecom[]).filter((t) => t.system === 'phone').map((t) => t.value),
    );
    expect(phones.some((p) => /^\(\d{3}\) \d{3}-\d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^\d{3}-\d{3}-\d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^\+1 \d{3} \d{3} \d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^\d{10}$/.test(p))).toBe(true);
    const lines = big.records.flatMap((r) => addressOf(r).line);
    for (const suffix of [/ Lane$/, / Ln$/, / LN$/, / Street$/, / St$/]) {
      expect(lines.some((l) => suffix.test(l))).toBe(true);
    }
    expect(lines.some((l) => /^(Apt|#|Unit)/.test(l))).toBe(true);
    expect(big.records.some((r) => /^\d{5}-\d{4}$/.test(addressOf(r).postalCode))).toBe(true);
  });

  it('counts true-match pairs', () => {
    const record = (personKey: string): SyntheticRecord => ({ personKey, facility: 'FAC1', patient: {} });
    expect(truePairCount([])).toBe(0);
    expect(truePairCount([record('a')])).toBe(0);
    // a: 3 records → 3 pairs; b: 2 → 1; c: 1 → 0.
    expect(truePairCount(['a', 'b', 'a', 'c', 'b', 'a'].map(record))).toBe(4);
    expect(big.stats['truePairs']).toBe(truePairCount(big.records));
  });
});
