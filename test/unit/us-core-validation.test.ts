/**
 * The US Core validator the golden and corpus tests use really holds resources to US Core
 * 5.0.1: each profile refuses what it forbids and accepts a minimal conforming resource.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createUsCoreValidator, type UsCoreValidator } from '../helpers/us-core-validator';

let validate: UsCoreValidator;
beforeAll(async () => {
  validate = await createUsCoreValidator();
});

const LAB = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' };
const VITALS = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' };
const DAR = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const patient = {
  resourceType: 'Patient',
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.1234', value: 'MRN1' }],
  name: [{ family: 'Rivera', given: ['Ana'] }],
  gender: 'female',
};
const lab = {
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [LAB] }],
  code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2024-03-10T08:30:00-05:00',
  valueQuantity: { value: 10.9, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
};
const heartRate = {
  ...lab,
  category: [{ coding: [VITALS] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
};
const encounter = {
  resourceType: 'Encounter',
  status: 'in-progress',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
  type: [{ text: 'admission' }],
  subject: { reference: 'Patient/p1' },
};
const diagnosis = {
  resourceType: 'Condition',
  category: [
    {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' },
      ],
    },
  ],
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'J18.9' }] },
  subject: { reference: 'Patient/p1' },
};
const active = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
};
const allergy = {
  resourceType: 'AllergyIntolerance',
  clinicalStatus: active,
  code: { text: 'penicillin' },
  patient: { reference: 'Patient/p1' },
};

/** The profile chosen and whether any issue's text contains each of `expected`. */
function check(resource: Record<string, unknown>, profile?: string): { profile: string; issues: string } {
  const result = validate(resource as { resourceType: string }, profile);
  if (result === undefined) throw new Error('no profile chosen');
  return { profile: result.profile, issues: result.issues.join('\n') };
}

describe('US Core validator', () => {
  it('accepts a minimal conforming resource of each profile', () => {
    for (const [r, profile] of [
      [patient, 'us-core-patient'],
      [lab, 'us-core-observation-lab'],
      [heartRate, 'heartrate'],
      [encounter, 'us-core-encounter'],
      [diagnosis, 'us-core-condition-encounter-diagnosis'],
      [allergy, 'us-core-allergyintolerance'],
    ] as const) {
      expect(check(r)).toEqual({ profile, issues: '' });
    }
  });

  it('refuses a Patient without identifier or name, and takes a data-absent-reason name', () => {
    const { identifier: _i, name: _n, ...bare } = patient;
    const { issues } = check(bare);
    expect(issues).toContain('Patient.identifier: Missing required property');
    expect(issues).toContain('Patient.name: Missing required property');
    expect(check({ ...patient, gender: undefined }).issues).toContain('Patient.gender');
    expect(check({ ...patient, identifier: [{ value: 'MRN1' }] }).issues).toContain('identifier[0].system');
    expect(check({ ...patient, name: [{ text: 'Ana Rivera' }] }).issues).toContain('us-core-6');
    expect(check({ ...patient, name: [{ extension: [{ url: DAR, valueCode: 'unknown' }] }] }).issues).toBe(
      '',
    );
    expect(check({ ...patient, gender: 'F' }).issues).not.toBe('');
  });

  it('refuses a lab Observation without its laboratory category, value or day', () => {
    const { category: _c, ...uncategorised } = lab;
    expect(check(uncategorised, 'us-core-observation-lab').issues).toContain('Observation.category');
    expect(check({ ...lab, category: [{ coding: [VITALS] }] }, 'us-core-observation-lab').issues).toContain(
      "slice 'Laboratory'",
    );
    const { valueQuantity: _v, ...valueless } = lab;
    expect(check(valueless).issues).toContain('us-core-2');
    expect(check({ ...valueless, dataAbsentReason: { text: 'pending' } }).issues).toBe('');
    expect(check({ ...lab, effectiveDateTime: '2024-03' }).issues).toContain('us-core-1');
    expect(check({ ...lab, status: 'done' }).issues).toContain('Observation.status');
  });

  it('holds a vital sign to its LOINC profile: time, and the UCUM units of its components', () => {
    const { effectiveDateTime: _e, ...timeless } = heartRate;
    expect(check(timeless).issues).toContain('Observation.effective');
    const { valueQuantity: quantity, ...valueless } = heartRate;
    const component = (code: string): unknown => ({
      code: heartRate.code,
      valueQuantity: { ...quantity, unit: code, code },
    });
    expect(check({ ...valueless, component: [component('/min')] }).issues).toBe('');
    expect(check({ ...valueless, component: [component('beats/min')] }).issues).toContain(
      'ucum-vitals-common',
    );
    const bp = { ...heartRate, code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] } };
    expect(check(bp).profile).toBe('us-core-blood-pressure');
    // US Core 5.0.1 has no profile for an Observation of another category (exam, imaging).
    expect(validate({ ...lab, category: [{ coding: [{ ...LAB, code: 'exam' }] }] })).toBeUndefined();
  });

  it('refuses an Encounter without type, and an identifier without system', () => {
    const { type: _t, ...untyped } = encounter;
    expect(check(untyped).issues).toContain('Encounter.type: Missing required property');
    expect(check({ ...encounter, identifier: [{ value: 'V1' }] }).issues).toContain('identifier');
  });

  it('chooses the Condition profile by category and refuses one without it', () => {
    const { category: _c, ...uncategorised } = diagnosis;
    const result = check(uncategorised);
    expect(result.profile).toBe('us-core-condition-problems-health-concerns');
    expect(result.issues).toContain('Condition.category');
    const problem = [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' },
        ],
      },
    ];
    expect(
      check({
        ...diagnosis,
        category: problem,
        clinicalStatus: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
        },
      }),
    ).toEqual({
      profile: 'us-core-condition-problems-health-concerns',
      issues: '',
    });
    expect(check({ ...diagnosis, code: undefined }).issues).toContain('Condition.code');
  });

  it('checks AllergyIntolerance invariants and required bindings offline', () => {
    const { clinicalStatus: _s, ...statusless } = allergy;
    expect(check(statusless).issues).toContain('ait-1');
    const wrong = {
      ...allergy,
      verificationStatus: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
            code: 'entered-in-error',
          },
        ],
      },
    };
    expect(check(wrong).issues).toContain('ait-2');
    const unknownCode = {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'current' },
      ],
    };
    expect(check({ ...allergy, clinicalStatus: unknownCode }).issues).toContain('no code from');
    expect(check({ ...allergy, patient: undefined }).issues).toContain('AllergyIntolerance.patient');
  });
});
