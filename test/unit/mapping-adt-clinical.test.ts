/**
 * The base ADT mapping's clinical segments beyond what the golden examples pin: who the PCP is
 * when PD1-4 and a ROL or PRT both name one, and ids of allergies and coverages that survive a
 * resend with the segments renumbered or reordered.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { BundleEntry } from '../../engine/src/mapping/map-message';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { loadSet } from './mapping-test-support';

const HEAD = [
  'MSH|^~\\&|EPIC|MERCY|CARE|CARE|20240611083000-0500||ADT^A08^ADT_A01|C9|P|2.5.1',
  'EVN|A08|20240611082500-0500',
  'PID|1||MRN900^^^MERCY^MR||Ward^Ada||19700101|F',
];
const PD1_PCP = 'PD1|||Mercy Clinic|1111111111^Welby^Marcus^^^Dr^MD^^^^^^NPI';
const ROL_PP = 'ROL|1|AD|PP^Primary Care Provider^HL70443|2222222222^Nguyen^Linh^^^Dr^MD^^^^^^NPI';
const PRT_PP = 'PRT|1|AD||PP^Primary Care Provider^HL70912|3333333333^Osei^Kofi^^^Dr^MD^^^^^^NPI';
const PV1 = 'PV1|1|I|3E^312^A^MERCY|||||||||||||||||V1';

let set: MappingSet;
beforeAll(async () => {
  set = await loadSet();
});

function resources(segments: readonly string[], type: string): BundleEntry['resource'][] {
  const result = mapMessage(parseHl7([...HEAD, ...segments].join('\r')), set, {
    messageId: 'm1',
    receivedAt: '2024-06-11T13:30:00Z',
    defaultTimezone: 'UTC',
  });
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);
}

/** The family names of the patient's generalPractitioner references. */
function pcpNames(segments: readonly string[]): string[] {
  const [patient] = resources(segments, 'Patient');
  const byRef = new Map(
    resources(segments, 'Practitioner').map((p) => [
      `Practitioner/${p.id}`,
      (p['name'] as { family?: string }[] | undefined)?.[0]?.family,
    ]),
  );
  const refs = (patient?.['generalPractitioner'] as { reference: string }[] | undefined) ?? [];
  return refs.map((r) => byRef.get(r.reference) ?? r.reference);
}

describe('ADT clinical segments', () => {
  it('takes the PCP from PD1-4, and from a ROL or PRT with role PP only when PD1-4 is empty', () => {
    expect(pcpNames([PD1_PCP, ROL_PP, PRT_PP, PV1])).toEqual(['Welby']);
    expect(pcpNames(['PD1|||Mercy Clinic', ROL_PP, PV1])).toEqual(['Nguyen']);
    expect(pcpNames([PRT_PP, PV1])).toEqual(['Osei']);
    expect(pcpNames(['ROL|1|AD|AT^Attending^HL70443|2222222222^Nguyen^Linh', PV1])).toEqual([]);
  });

  it('keeps allergy and coverage ids when a resend renumbers or reorders the segments', () => {
    const penicillin = 'DA^Drug allergy^HL70127|7980^Penicillin G^RXNORM|SV';
    const peanut = 'FA^Food allergy^HL70127|256349002^Peanut^SCT|MO';
    const bcbs = 'BCBSPPO^Blue Cross PPO|BCBSIL^^^NAIC^NIIP|Blue Cross Blue Shield of Illinois';
    const aetna = 'AETHMO^Aetna HMO|60054^^^NAIC^NIIP|Aetna';
    const first = [PV1, `AL1|1|${penicillin}`, `AL1|2|${peanut}`, `IN1|1|${bcbs}`, `IN1|2|${aetna}`];
    const resend = [PV1, `AL1|1|${peanut}`, `AL1|2|${penicillin}`, `IN1|1|${aetna}`, `IN1|2|${bcbs}`];
    const ids = (segments: readonly string[], type: string): string[] =>
      resources(segments, type)
        .map((r) => r.id)
        .sort();
    expect(ids(first, 'AllergyIntolerance')).toHaveLength(2);
    expect(ids(resend, 'AllergyIntolerance')).toEqual(ids(first, 'AllergyIntolerance'));
    expect(ids(first, 'Coverage')).toHaveLength(2);
    expect(ids(resend, 'Coverage')).toEqual(ids(first, 'Coverage'));
    // Two payors, and a Coverage's payor is the insurer of its own IN1.
    const [coverage] = resources([PV1, `IN1|1|${aetna}`], 'Coverage');
    const [payor] = resources([PV1, `IN1|1|${aetna}`], 'Organization').filter((o) => o['name'] === 'Aetna');
    expect(coverage?.['payor']).toEqual([{ reference: `Organization/${payor?.id ?? ''}` }]);
  });

  it('makes no Coverage of an IN1 that names no insurer, as FHIR requires a payor', () => {
    const coverages = resources(
      [PV1, 'IN1|1|PAR^PARENT||||LUIGI', 'IN1|2|AETHMO^Aetna HMO|60054^^^NAIC^NIIP|Aetna'],
      'Coverage',
    );
    expect(coverages.map((c) => c['identifier'])).toEqual([[{ value: 'AETHMO' }]]);
  });

  it('categorises an ADT OBX as vital-signs only when its LOINC code is a vital sign', () => {
    const [heartRate, smoking] = resources(
      [
        PV1,
        'OBX|1|NM|8867-4^Heart rate^LN||92|/min^per minute^UCUM|||||F|||20240611081500-0500',
        'OBX|2|CWE|72166-2^Tobacco smoking status^LN||8517006^Ex-smoker^SCT||||||F|||20240611081500-0500',
      ],
      'Observation',
    );
    expect(heartRate?.['category']).toEqual([
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'vital-signs',
            display: 'Vital Signs',
          },
        ],
      },
    ]);
    expect(smoking?.['category']).toBeUndefined();
  });
});
