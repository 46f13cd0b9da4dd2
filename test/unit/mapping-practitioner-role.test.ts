/**
 * rules/practitioner-role.yaml beyond what the golden example pins: a role's id is its person,
 * role code and organization, so a resend with the segments renumbered, or the same role named
 * for another patient, lands on one PractitionerRole; the PCP stays a Practitioner reference.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { BundleEntry } from '../../engine/src/mapping/map-message';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { loadSet } from './mapping-test-support';

const MSH = 'MSH|^~\\&|EPIC|MERCY|CARE|CARE|20240918142000-0500||ADT^A08^ADT_A01|C9|P|2.8';
const EVN = 'EVN|A08|20240918141500-0500';
const pid = (mrn: string): string => `PID|1||${mrn}^^^MERCY^MR||Brennan^Tomasz||19571103|M`;
const PV1 = 'PV1|1|I|5N^518^A^MERCY|||||||||||||||||V1';
const PCP = '1745123061^Halvorsen^Ingrid^^^Dr^MD^^^^^^NPI';
const CLINIC = 'Prairie Family Medicine^^PFM01^^^MERCY';
const rol = (setId: number, role: string, org = CLINIC): string =>
  `ROL|${setId}|AD|${role}^^HL70443|${PCP}||||||||^WPN^PH^^1^217^5550160||${org}`;
const prt = (setId: number, role: string): string => `PRT|${setId}|AD||${role}^^HL70912|${PCP}|||${CLINIC}`;

let set: MappingSet;
beforeAll(async () => {
  set = await loadSet();
});

function resources(segments: readonly string[], type: string): BundleEntry['resource'][] {
  const result = mapMessage(parseHl7([MSH, EVN, ...segments].join('\r')), set, {
    messageId: 'm1',
    receivedAt: '2024-09-18T19:20:00Z',
    defaultTimezone: 'UTC',
  });
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);
}

const roleIds = (segments: readonly string[]): string[] =>
  resources(segments, 'PractitionerRole').map((r) => r.id);

describe('PractitionerRole ids', () => {
  it('are the same for a resend with the segments renumbered and for another patient', () => {
    const first = roleIds([pid('MRN1'), rol(1, 'PP'), PV1, prt(1, 'AT')]);
    expect(first).toHaveLength(2);
    expect(roleIds([pid('MRN1'), rol(3, 'PP'), PV1, prt(7, 'AT')])).toEqual(first);
    expect(roleIds([pid('MRN2'), rol(1, 'PP'), PV1, prt(1, 'AT')])).toEqual(first);
  });

  it('differ by role code and by organization, and a ROL naming nobody makes no role', () => {
    const [pcp] = roleIds([pid('MRN1'), rol(1, 'PP')]);
    const [attending] = roleIds([pid('MRN1'), rol(1, 'AT')]);
    const [elsewhere] = roleIds([pid('MRN1'), rol(1, 'PP', 'Lakeview Clinic^^LVC02^^^MERCY')]);
    expect(new Set([pcp, attending, elsewhere]).size).toBe(3);
    expect(roleIds([pid('MRN1'), 'ROL|1|AD|PP^^HL70443'])).toEqual([]);
  });
});

describe('a ROL with role PP', () => {
  it('becomes a PractitionerRole at its organization, while the PCP stays the Practitioner', () => {
    const [role] = resources([pid('MRN1'), rol(1, 'PP'), PV1], 'PractitionerRole');
    const [organization] = resources([pid('MRN1'), rol(1, 'PP'), PV1], 'Organization').filter(
      (o) => o['name'] === 'Prairie Family Medicine',
    );
    const [practitioner] = resources([pid('MRN1'), rol(1, 'PP'), PV1], 'Practitioner');
    expect(role?.['practitioner']).toEqual({ reference: `Practitioner/${practitioner?.id ?? ''}` });
    expect(role?.['organization']).toEqual({ reference: `Organization/${organization?.id ?? ''}` });
    expect(role?.['code']).toMatchObject([
      { coding: [{ system: 'http://snomed.info/sct', code: '446050000' }, { code: 'PP' }] },
    ]);
    const [patient] = resources([pid('MRN1'), rol(1, 'PP'), PV1], 'Patient');
    expect(patient?.['generalPractitioner']).toEqual([
      { reference: `Practitioner/${practitioner?.id ?? ''}` },
    ]);
  });
});
