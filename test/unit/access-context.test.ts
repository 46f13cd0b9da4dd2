// Scope rules decide every access to patient data, so each SMART scope form gets a case here.
import { describe, expect, it } from 'vitest';
import { allowsResource, scopeGrants, type AccessContext } from '../../engine/src/auth/access-context';

describe('scopeGrants', () => {
  it('reads SMART v2 letters', () => {
    expect(scopeGrants('system/Patient.rs', 'Patient', 'r')).toBe(true);
    expect(scopeGrants('system/Patient.rs', 'Patient', 's')).toBe(true);
    expect(scopeGrants('system/Patient.rs', 'Patient', 'u')).toBe(false);
    expect(scopeGrants('system/Patient.cruds', 'Patient', 'd')).toBe(true);
  });

  it('reads SMART v1 words', () => {
    expect(scopeGrants('patient/Observation.read', 'Observation', 'r')).toBe(true);
    expect(scopeGrants('patient/Observation.read', 'Observation', 's')).toBe(true);
    expect(scopeGrants('patient/Observation.read', 'Observation', 'c')).toBe(false);
    expect(scopeGrants('user/Observation.write', 'Observation', 'u')).toBe(true);
    expect(scopeGrants('user/Observation.write', 'Observation', 'r')).toBe(false);
    expect(scopeGrants('system/*.*', 'Encounter', 'd')).toBe(true);
  });

  it('matches the wildcard type but no other type', () => {
    expect(scopeGrants('system/*.rs', 'Encounter', 'r')).toBe(true);
    expect(scopeGrants('system/Patient.rs', 'Encounter', 'r')).toBe(false);
  });

  it('rejects letters out of order and scopes that are not resource scopes', () => {
    expect(scopeGrants('system/Patient.sr', 'Patient', 'r')).toBe(false);
    expect(scopeGrants('launch/patient', 'Patient', 'r')).toBe(false);
    expect(scopeGrants('openid', 'Patient', 'r')).toBe(false);
    expect(scopeGrants('admin/Patient.rs', 'Patient', 'r')).toBe(false);
    expect(scopeGrants('', 'Patient', 'r')).toBe(false);
  });
});

describe('allowsResource', () => {
  const ctx: AccessContext = {
    clientId: 'c1',
    scopes: ['openid', 'system/Patient.r', 'system/Observation.rs'],
  };

  it('allows when any scope grants the interaction', () => {
    expect(allowsResource(ctx, 'Patient', 'r')).toBe(true);
    expect(allowsResource(ctx, 'Observation', 's')).toBe(true);
  });

  it('denies what no scope grants', () => {
    expect(allowsResource(ctx, 'Patient', 's')).toBe(false);
    expect(allowsResource(ctx, 'Encounter', 'r')).toBe(false);
    expect(allowsResource({ clientId: 'c2', scopes: [] }, 'Patient', 'r')).toBe(false);
  });
});
