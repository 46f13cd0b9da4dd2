// Scope rules decide every access to patient data, so each SMART scope form gets a case here.
import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import {
  allowsResource,
  getAccessContext,
  MissingAccessContextError,
  scopeGrants,
  setAccessContext,
  type AccessContext,
} from '../../engine/src/auth/access-context';
import { admits, decideAccess } from '../../engine/src/http/fhir-access';
import { isInPatientCompartment } from '../../engine/src/store/fhir-compartment';
import type { StoredResource } from '../../engine/src/store/fhir-types';

const LAB = 'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

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

  it('never widens a scope with a ? filter: it grants nothing, in any form', () => {
    for (const scope of [
      `patient/Observation.rs?${LAB}`,
      `system/Observation.rs?${LAB}`,
      `user/Observation.read?${LAB}`,
      `patient/*.rs?${LAB}`,
      'system/Patient.rs?',
      'system/Patient.rs?active=true',
    ]) {
      for (const interaction of ['c', 'r', 'u', 'd', 's'] as const) {
        expect(scopeGrants(scope, 'Observation', interaction), `${scope} ${interaction}`).toBe(false);
        expect(scopeGrants(scope, 'Patient', interaction), `${scope} ${interaction}`).toBe(false);
      }
    }
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

describe('allowsResource with filtered scopes', () => {
  it('takes only the unfiltered scopes into account', () => {
    const ctx: AccessContext = {
      clientId: 'app',
      scopes: [`patient/Observation.rs?${LAB}`, 'patient/Patient.r'],
      patients: new Set(['p1']),
    };
    expect(allowsResource(ctx, 'Observation', 'r')).toBe(false);
    expect(allowsResource(ctx, 'Observation', 's')).toBe(false);
    expect(allowsResource(ctx, 'Patient', 'r')).toBe(true);
  });
});

function fakeResponse(locals: Record<string, unknown> = {}): Response {
  return { locals } as unknown as Response;
}

describe('getAccessContext', () => {
  it('returns what the bearer check recorded, patients as a set', () => {
    const res = fakeResponse();
    const ctx: AccessContext = { clientId: 'app', scopes: ['patient/*.rs'], patients: new Set(['p1', 'p2']) };
    setAccessContext(res, ctx);
    expect(getAccessContext(res)).toBe(ctx);
    expect([...(getAccessContext(res).patients ?? [])]).toEqual(['p1', 'p2']);
  });

  it('throws the one MissingAccessContextError when nothing or something malformed is recorded', () => {
    const cases: Record<string, unknown>[] = [
      {},
      { auth: { clientId: 'app' } },
      { auth: { clientId: 'app', scopes: [1] } },
      // The single-patient shape this replaced: refused, not read as "no patient restriction".
      { auth: { clientId: 'app', scopes: [], patients: 'p1' } },
      { auth: { clientId: 'app', scopes: [], patients: ['p1'] } },
      { auth: { clientId: 'app', scopes: [], patients: new Set([7]) } },
    ];
    for (const locals of cases) {
      expect(() => getAccessContext(fakeResponse(locals))).toThrow(MissingAccessContextError);
    }
    expect(() => getAccessContext(fakeResponse())).toThrow(
      expect.objectContaining({ name: 'MissingAccessContextError', code: 'auth-context-missing' }),
    );
  });
});

function stored(resourceType: string, resource: Record<string, unknown>): StoredResource {
  return {
    resourceType,
    id: String(resource['id']),
    versionId: '1',
    lastUpdated: '2024-01-01T00:00:00Z',
    deleted: false,
    resource: { resourceType, ...resource },
  };
}

describe('the patient set', () => {
  const obs = (id: string, patient: string): StoredResource =>
    stored('Observation', { id, subject: { reference: `Patient/${patient}` } });

  it('admits a resource whose patient compartment meets the set', () => {
    const set = new Set(['p1', 'p3']);
    expect(isInPatientCompartment('Patient', { resourceType: 'Patient', id: 'p3' }, set)).toBe(true);
    expect(isInPatientCompartment('Patient', { resourceType: 'Patient', id: 'p2' }, set)).toBe(false);
    expect(isInPatientCompartment('Observation', obs('o1', 'p1').resource, set)).toBe(true);
    expect(isInPatientCompartment('Observation', obs('o2', 'p2').resource, set)).toBe(false);
    expect(isInPatientCompartment('Practitioner', { resourceType: 'Practitioner', id: 'x' }, set)).toBe(true);
    expect(isInPatientCompartment('Observation', obs('o1', 'p1').resource, new Set())).toBe(false);
  });

  it('restricts patient/ scopes to the set and leaves system/ scopes unrestricted', () => {
    const bound: AccessContext = {
      clientId: 'app',
      scopes: ['patient/*.rs'],
      patients: new Set(['p1', 'p3']),
    };
    const access = decideAccess(bound, 'Observation', 's');
    expect(access).toEqual({ allowed: true, compartmentPatients: new Set(['p1', 'p3']) });
    expect(admits(access, obs('o3', 'p3'))).toBe(true);
    expect(admits(access, obs('o2', 'p2'))).toBe(false);
    const broad = decideAccess(
      { ...bound, scopes: ['patient/*.rs', 'system/Observation.rs'] },
      'Observation',
      's',
    );
    expect(broad).toEqual({ allowed: true, compartmentPatients: undefined });
    expect(admits(broad, obs('o2', 'p2'))).toBe(true);
  });

  it('refuses patient/ scopes without patients, and filtered scopes with them', () => {
    expect(decideAccess({ clientId: 'app', scopes: ['patient/*.rs'] }, 'Patient', 'r').allowed).toBe(false);
    // A token bound to no patient (an EHR exchange that matched nobody) is allowed within nobody:
    // its searches come back empty, and it admits no patient data.
    const empty: AccessContext = { clientId: 'app', scopes: ['patient/*.rs'], patients: new Set() };
    const nobody = decideAccess(empty, 'Patient', 'r');
    expect(nobody).toEqual({ allowed: true, compartmentPatients: new Set() });
    expect(admits(nobody, obs('o1', 'p1'))).toBe(false);
    const filtered: AccessContext = {
      clientId: 'app',
      scopes: [`patient/Observation.rs?${LAB}`],
      patients: new Set(['p1']),
    };
    expect(decideAccess(filtered, 'Observation', 's').allowed).toBe(false);
    expect(decideAccess(filtered, 'Observation', 'r').allowed).toBe(false);
    expect(admits(decideAccess(filtered, 'Observation', 'r'), obs('o1', 'p1'))).toBe(false);
  });
});
