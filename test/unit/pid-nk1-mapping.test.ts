/**
 * The base mappings' PID and NK1 rules where the guide sets conditions a golden example shows only
 * one side of: whether PID-25 or PID-24 wins, race codes outside the OMB categories, and which
 * next of kin become a RelatedPerson, and which identifiers sent without an assigning authority
 * get the sending facility as their system. (PID-29/PID-30 are shown by the adt-a08 and
 * adt-a04-demographics goldens, an MRN without PID-3.4 by adt-a04-no-authority.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { loadSet } from './mapping-test-support';

let set: MappingSet;
beforeAll(async () => {
  set = await loadSet();
});

type Resource = { resourceType: string; id: string } & Record<string, unknown>;

/** Maps an A04 with the given PID fields (by number) and NK1 segments. */
function mapA04(pid: Readonly<Record<number, string>>, nk1: readonly string[] = []): Resource[] {
  const fields: Readonly<Record<number, string>> = { 3: 'MRN7^^^FAC^MR', 5: 'Rivera^Sol', ...pid };
  const last = Math.max(...Object.keys(fields).map(Number));
  const pidSegment = ['PID', ...Array.from({ length: last }, (_, i) => fields[i + 1] ?? '')].join('|');
  const message = [
    'MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||ADT^A04^ADT_A01|C1|P|2.5.1',
    'EVN|A04|20240305101200-0500',
    pidSegment,
    ...nk1,
    'PV1|1|O',
  ].join('\r');
  const result = mapMessage(parseHl7(message), set, {
    messageId: 'm1',
    receivedAt: '2024-03-05T10:00:00Z',
    defaultTimezone: 'UTC',
  });
  if (result.status !== 'mapped') throw new Error(`not mapped: ${result.reason}`);
  return result.bundle.entry.map((e) => e.resource as Resource);
}

function patientOf(resources: Resource[]): Resource {
  const patient = resources.find((r) => r.resourceType === 'Patient');
  if (patient === undefined) throw new Error('no Patient');
  return patient;
}

function extension(patient: Resource, url: string): { url: string; [k: string]: unknown }[] | undefined {
  const all = (patient['extension'] ?? []) as { url: string; extension?: { url: string }[] }[];
  return all.find((e) => e.url === url)?.extension;
}

const RACE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race';
const ETHNICITY = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity';

describe('PID multiple birth (guide PID-24/25)', () => {
  it('takes the birth order PID-25 over the indicator PID-24', () => {
    expect(patientOf(mapA04({ 24: 'Y' }))['multipleBirthBoolean']).toBe(true);
    expect(patientOf(mapA04({ 24: 'N' }))['multipleBirthBoolean']).toBe(false);
    const twin = patientOf(mapA04({ 24: 'Y', 25: '2' }));
    expect(twin['multipleBirthInteger']).toBe(2);
    expect(twin).not.toHaveProperty('multipleBirthBoolean');
  });
});

describe('PID race, ethnicity, language and identifiers', () => {
  it('puts OMB codes in ombCategory whatever system the sender names, and local codes in text only', () => {
    const patient = patientOf(mapA04({ 10: '2106-3^White^HL70005~C^Caucasian^L~2108-9^European^CDCREC' }));
    expect(extension(patient, RACE)).toEqual([
      {
        url: 'ombCategory',
        valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3', display: 'White' },
      },
      {
        url: 'detailed',
        valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2108-9', display: 'European' },
      },
      { url: 'text', valueString: 'White, Caucasian, European' },
    ]);
  });

  it('maps v2.5 ethnic group codes to the CDC ones, and adds no extension without PID-10 or PID-22', () => {
    const patient = patientOf(mapA04({ 22: 'H' }));
    expect(extension(patient, ETHNICITY)).toEqual([
      {
        url: 'ombCategory',
        valueCoding: {
          system: 'urn:oid:2.16.840.1.113883.6.238',
          code: '2135-2',
          display: 'Hispanic or Latino',
        },
      },
      { url: 'text', valueString: 'H' },
    ]);
    expect(patient['extension']).toHaveLength(1);
    expect(patientOf(mapA04({}))).not.toHaveProperty('extension');
  });

  it('maps an ISO 639-2 language to BCP 47 and keeps an unknown one as sent', () => {
    const spanish = patientOf(mapA04({ 15: 'spa^Spanish^HL70296' }));
    expect(spanish['communication']).toEqual([
      {
        language: {
          coding: [{ system: 'urn:ietf:bcp:47', code: 'es', display: 'Spanish' }],
          text: 'Spanish',
        },
      },
    ]);
    const local = patientOf(mapA04({ 15: 'XQ^Local^99LANG' }));
    expect(local['communication']).toEqual([{ language: { coding: [{ code: 'XQ', display: 'Local' }] } }]);
  });

  it('adds PID-19 as an SS identifier in us-ssn after the PID-3 ones', () => {
    const identifiers = patientOf(mapA04({ 19: '987-65-4321' }))['identifier'] as { system?: string }[];
    expect(identifiers[0]?.system).toBe('urn:care:id:FAC');
    expect(identifiers[1]).toEqual({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v2-0203',
            code: 'SS',
            display: 'Social Security number',
          },
        ],
      },
      system: 'http://hl7.org/fhir/sid/us-ssn',
      value: '987-65-4321',
    });
  });

  it('gives an identifier without an assigning authority the sending facility only when the facility assigns it', () => {
    const own = ['MR', 'MRT', 'PI', 'PN', 'PNT', 'AN', 'ANT', 'VN', ''];
    const others = ['SS', 'DL', 'PPN', 'MB', 'MA', 'MC', 'NPI', 'PE', 'PT', 'U', 'LOCAL1'];
    const patient = patientOf(
      mapA04({
        2: 'EXT-1',
        3: [...own, ...others].map((t) => `N-${t}^^^^${t}`).join('~') + '~J-1^^^^MR^^^^MI',
        4: 'ALT-1',
      }),
    );
    const managing = (patient['managingOrganization'] as { reference: string }).reference;
    const byValue = new Map(
      (patient['identifier'] as { value: string; system?: string; assigner?: unknown }[]).map((i) => [
        i.value,
        i,
      ]),
    );
    const facility = { system: 'urn:care:id:FAC', assigner: { reference: managing } };
    for (const value of [...own.map((t) => `N-${t}`), 'ALT-1']) {
      expect(byValue.get(value), value).toMatchObject(facility);
    }
    // Issued by someone else (or PID-2, another institution's number): no system beats a false one.
    for (const value of [...others.map((t) => `N-${t}`), 'EXT-1']) {
      expect(byValue.get(value), value).not.toHaveProperty('system');
      expect(byValue.get(value), value).not.toHaveProperty('assigner');
    }
    // An assigning jurisdiction (CX.9) is an authority: it stays the system, with no assigner.
    expect(byValue.get('J-1')?.system).toMatch(/MI$/);
    expect(byValue.get('J-1')).not.toHaveProperty('assigner');
  });
});

describe('NK1 to RelatedPerson (guide NK1[RelatedPerson])', () => {
  const related = (resources: Resource[]): Resource[] =>
    resources.filter((r) => r.resourceType === 'RelatedPerson');

  it('makes a RelatedPerson of each next of kin but not of an employer, each still a Patient.contact', () => {
    const resources = mapA04({}, [
      'NK1|1|Rivera^Luz|MTH^Mother^HL70063',
      'NK1|2||EMR^Employer^HL70063|||||||||||Acme Freight',
    ]);
    const people = related(resources);
    expect(people).toHaveLength(1);
    expect(people[0]?.['patient']).toEqual({ reference: `Patient/${patientOf(resources).id}` });
    expect(patientOf(resources)['contact']).toHaveLength(2);
  });

  it('keeps one id per patient and set id, so a replay or an update lands on the same RelatedPerson', () => {
    const first = related(mapA04({}, ['NK1|1|Rivera^Luz|MTH^Mother^HL70063']))[0]?.id;
    const updated = related(mapA04({}, ['NK1|1|Rivera^Luz|MTH^Mother^HL70063|1 Main St^^Town^OH']))[0]?.id;
    const otherPatient = related(mapA04({ 3: 'MRN8^^^FAC^MR' }, ['NK1|1|Rivera^Luz|MTH^Mother^HL70063']))[0]
      ?.id;
    expect(first).toBeDefined();
    expect(updated).toBe(first);
    expect(otherPatient).not.toBe(first);
  });
});
