// The granted scope is the ceiling on a client's access, so narrowing must never exceed the registration.
import { describe, expect, it } from 'vitest';
import { grantScopes, parseScope, splitScopes } from '../../engine/src/auth/scope-grant';

describe('parseScope', () => {
  it('normalises v1 words and v2 letters to interactions', () => {
    expect([...(parseScope('system/*.read')?.interactions ?? [])]).toEqual(['r', 's']);
    expect([...(parseScope('system/Patient.cud')?.interactions ?? [])]).toEqual(['c', 'u', 'd']);
    expect(parseScope('system/Patient.rs')?.resourceType).toBe('Patient');
  });

  it('refuses filters, bad letters and non-resource scopes', () => {
    expect(parseScope('system/Observation.rs?category=laboratory')).toBeUndefined();
    expect(parseScope('patient/*.rs?category=laboratory')).toBeUndefined();
    expect(parseScope('system/Patient.rs?')).toBeUndefined();
    expect(parseScope('system/Patient.sr')).toBeUndefined();
    expect(parseScope('system/Patient.')).toBeUndefined();
    expect(parseScope('launch')).toBeUndefined();
  });
});

describe('splitScopes', () => {
  it('drops empty entries and duplicates', () => {
    expect(splitScopes('  system/Patient.rs   system/Patient.rs\tsystem/*.r ')).toEqual([
      'system/Patient.rs',
      'system/*.r',
    ]);
  });
});

describe('grantScopes', () => {
  it('grants a covered scope as written', () => {
    expect(grantScopes(['system/Patient.read'], ['system/*.rs'])).toEqual(['system/Patient.read']);
    expect(grantScopes(['system/Patient.rs'], ['system/Patient.rs'])).toEqual(['system/Patient.rs']);
  });

  it('narrows a broader request to the registered overlap', () => {
    expect(grantScopes(['system/*.cruds'], ['system/*.rs'])).toEqual(['system/*.rs']);
    expect(grantScopes(['system/*.rs'], ['system/Patient.rs', 'system/Observation.r'])).toEqual([
      'system/Patient.rs',
      'system/Observation.r',
    ]);
    expect(grantScopes(['system/Patient.write'], ['system/*.cu'])).toEqual(['system/Patient.cu']);
  });

  it('grants nothing outside the registration', () => {
    expect(grantScopes(['system/Encounter.rs'], ['system/Patient.rs'])).toEqual([]);
    expect(grantScopes(['system/Patient.d'], ['system/Patient.rs'])).toEqual([]);
    expect(grantScopes(['patient/Patient.rs'], ['system/*.rs'])).toEqual([]);
    expect(grantScopes(['openid', 'launch'], ['system/*.rs'])).toEqual([]);
    expect(grantScopes(['system/Patient.rs?active=true'], ['system/*.rs'])).toEqual([]);
  });

  it('drops a scope with a ? filter rather than grant it unenforced or widened', () => {
    const lab = 'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
    expect(grantScopes([`system/Observation.rs?${lab}`], ['system/*.rs'])).toEqual([]);
    expect(grantScopes([`system/Observation.rs?${lab}`], ['system/Observation.rs'])).toEqual([]);
    expect(grantScopes([`system/*.read?${lab}`], ['system/*.cruds'])).toEqual([]);
    expect(grantScopes([`system/Observation.rs?${lab}`, 'system/Patient.rs'], ['system/*.rs'])).toEqual([
      'system/Patient.rs',
    ]);
    // A filtered registration (the registry refuses these at load) grants nothing either.
    expect(grantScopes(['system/Observation.rs'], [`system/Observation.rs?${lab}`])).toEqual([]);
    expect(grantScopes(['system/*.rs'], [`system/Observation.rs?${lab}`])).toEqual([]);
  });

  it('keeps only the granted part of a mixed request', () => {
    expect(grantScopes(['system/Patient.rs', 'system/Encounter.rs'], ['system/Patient.rs'])).toEqual([
      'system/Patient.rs',
    ]);
  });
});
