// An exchanged token's scopes are the intersection of the EHR's grant, the app's ceiling and the
// request: never wider than any of them, always patient/ v2 scopes.
import { describe, expect, it } from 'vitest';
import { EXCHANGE_APP_SCOPES, exchangeScopes } from '../../engine/src/auth/exchange-scopes';

describe('exchangeScopes', () => {
  it('maps a broad v1 grant to every app scope in v2 form', () => {
    expect(exchangeScopes(['launch', 'openid', 'fhirUser', 'patient/*.read'])).toEqual(EXCHANGE_APP_SCOPES);
    expect(exchangeScopes(['patient/*.cruds'])).toEqual(EXCHANGE_APP_SCOPES);
  });

  it('keeps only what the EHR granted, letter by letter', () => {
    expect(exchangeScopes(['patient/Patient.read', 'patient/Observation.r', 'patient/Encounter.s'])).toEqual([
      'patient/Patient.rs',
      'patient/Encounter.s',
      'patient/Observation.r',
    ]);
  });

  it('never grants writes, types beyond the app’s, system scopes or filtered scopes', () => {
    expect(
      exchangeScopes(['patient/Observation.write', 'patient/Person.read', 'patient/MedicationRequest.rs']),
    ).toEqual([]);
    expect(exchangeScopes(['system/*.read'])).toEqual([]);
    expect(exchangeScopes(['patient/Observation.rs?category=laboratory'])).toEqual([]);
  });

  it('narrows user/ scopes to the patient', () => {
    expect(exchangeScopes(['user/Condition.read', 'user/Patient.rs'])).toEqual([
      'patient/Patient.rs',
      'patient/Condition.rs',
    ]);
  });

  it('narrows further to a requested scope, never widening past the EHR', () => {
    expect(exchangeScopes(['patient/*.read'], ['patient/Patient.read', 'launch'])).toEqual([
      'patient/Patient.rs',
    ]);
    expect(exchangeScopes(['patient/Patient.r'], ['patient/Patient.rs', 'patient/Observation.rs'])).toEqual([
      'patient/Patient.r',
    ]);
    expect(exchangeScopes(['patient/*.read'], [])).toEqual([]);
  });
});
