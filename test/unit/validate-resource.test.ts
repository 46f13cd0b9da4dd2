// Structural validation of registration resources against the real FHIR R4 JSON schema: each
// problem is found, located by FHIRPath, and valid resources pass untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadResourceValidator, type ResourceValidator } from '../../engine/src/fhir/validate-resource';

let v: ResourceValidator;
beforeAll(async () => {
  v = await loadResourceValidator();
});

const endpoint = {
  resourceType: 'Endpoint',
  status: 'active',
  connectionType: {
    system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
    code: 'hl7-fhir-rest',
  },
  payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/endpoint-payload-type', code: 'any' }] }],
  address: 'https://practice.example/fhir',
  managingOrganization: { reference: 'Organization/org-1' },
};

const subscription = {
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'admissions of our patients',
  criteria: 'Encounter?patient=Patient/p1',
  channel: { type: 'rest-hook', endpoint: 'https://practice.example/hook', payload: 'application/fhir+json' },
};

const group = {
  resourceType: 'Group',
  type: 'person',
  actual: true,
  identifier: [{ system: 'urn:practice', value: 'roster-1' }],
  member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: 'Patient/p2' }, inactive: false }],
};

const role = {
  resourceType: 'PractitionerRole',
  active: true,
  practitioner: { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' } },
  organization: { reference: 'Organization/org-1', display: 'Oak Street Family Practice' },
  endpoint: [{ reference: 'Endpoint/ep-1' }],
  availableTime: [{ daysOfWeek: ['mon', 'tue'], availableStartTime: '08:00:00' }],
};

const organization = {
  resourceType: 'Organization',
  identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1999999984' }],
  name: 'Oak Street Family Practice',
  active: true,
  telecom: [{ system: 'phone', value: '217-555-0100', rank: 1 }],
  endpoint: [{ reference: 'Endpoint/ep-1' }],
};

const practitioner = {
  resourceType: 'Practitioner',
  identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
  name: [
    {
      family: 'Welby',
      given: ['Marcus', null],
      _given: [null, { extension: [{ url: 'urn:x', valueString: 'M.' }] }],
    },
  ],
  gender: 'male',
  birthDate: '1960-04',
};

/** Expressions in a fixed order: issues come in the resource's key order, which tests need not fix. */
const where = (issues: { expression: string }[]): string[] => issues.map((i) => i.expression).sort();
const sorted = (expressions: string[]): string[] => [...expressions].sort();

describe('validateResource', () => {
  it('accepts valid registration resources of every type', () => {
    for (const r of [endpoint, subscription, group, role, organization, practitioner]) {
      expect(v.validate(r.resourceType, r)).toEqual([]);
    }
  });

  it('refuses unknown elements, naming each', () => {
    const issues = v.validate('Organization', {
      ...organization,
      colour: 'blue',
      telecom: [{ value: 'x', kind: 1 }],
    });
    expect(where(issues)).toEqual(sorted(['Organization.colour', 'Organization.telecom[0].kind']));
    expect(issues.every((i) => i.code === 'structure')).toBe(true);
  });

  it('refuses primitives of the wrong JSON type or form', () => {
    const issues = v.validate('Organization', {
      ...organization,
      active: 'yes',
      name: 42,
      telecom: [{ system: 'phone', value: 'x', rank: 0 }],
      identifier: [{ system: 'has space', value: '' }],
    });
    expect(where(issues)).toEqual(
      sorted([
        'Organization.identifier[0].system',
        'Organization.identifier[0].value',
        'Organization.active',
        'Organization.name',
        'Organization.telecom[0].rank',
      ]),
    );
    expect(issues.every((i) => i.code === 'value')).toBe(true);
  });

  it('checks dates, instants and whole numbers', () => {
    expect(where(v.validate('Practitioner', { ...practitioner, birthDate: '1960-13-01' }))).toEqual(
      sorted(['Practitioner.birthDate']),
    );
    expect(where(v.validate('Subscription', { ...subscription, end: '2024-01-01' }))).toEqual(
      sorted(['Subscription.end']),
    );
    expect(v.validate('Subscription', { ...subscription, end: '2024-01-01T00:00:00Z' })).toEqual([]);
    expect(where(v.validate('Group', { ...group, quantity: 1.5 }))).toEqual(sorted(['Group.quantity']));
    expect(where(v.validate('Group', { ...group, quantity: -1 }))).toEqual(sorted(['Group.quantity']));
  });

  it('requires the elements R4 requires, per type', () => {
    const { status: _s, address: _a, payloadType: _p, ...bareEndpoint } = endpoint;
    expect(v.validate('Endpoint', bareEndpoint).map((i) => [i.code, i.expression])).toEqual([
      ['required', 'Endpoint.payloadType'],
      ['required', 'Endpoint.status'],
      ['required', 'Endpoint.address'],
    ]);
    const { reason: _r, criteria: _c, ...bareSubscription } = subscription;
    expect(
      where(v.validate('Subscription', { ...bareSubscription, channel: { endpoint: 'https://x.example' } })),
    ).toEqual(sorted(['Subscription.channel.type', 'Subscription.reason', 'Subscription.criteria']));
    expect(
      where(v.validate('Group', { resourceType: 'Group', member: [{ period: { start: '2024' } }] })),
    ).toEqual(sorted(['Group.member[0].entity', 'Group.type', 'Group.actual']));
    expect(where(v.validate('Organization', { ...organization, extension: [{ valueString: 'x' }] }))).toEqual(
      sorted(['Organization.extension[0].url']),
    );
  });

  it('checks the codes of required bindings', () => {
    const issues = v.validate('Endpoint', { ...endpoint, status: 'on' });
    expect(issues.map((i) => [i.code, i.expression])).toEqual([['code-invalid', 'Endpoint.status']]);
    expect(
      where(v.validate('Subscription', { ...subscription, status: 'running', channel: { type: 'pigeon' } })),
    ).toEqual(sorted(['Subscription.status', 'Subscription.channel.type']));
    expect(where(v.validate('Group', { ...group, type: 'household' }))).toEqual(sorted(['Group.type']));
  });

  it('takes references as Type/id or a logical identifier, nothing else', () => {
    const bad = v.validate('PractitionerRole', {
      ...role,
      practitioner: { reference: 'https://other.example/fhir/Practitioner/1' },
      organization: { display: 'just a name' },
      location: [
        { reference: 'Location/l1', type: 'Organization' },
        { reference: 'Nonsense/x' },
        { reference: '#c1' },
      ],
    });
    expect(where(bad)).toEqual(
      sorted([
        'PractitionerRole.practitioner.reference',
        'PractitionerRole.organization',
        'PractitionerRole.location[0].type',
        'PractitionerRole.location[1].reference',
        'PractitionerRole.location[2].reference',
      ]),
    );
  });

  it('refuses arrays where one value belongs, single values where arrays do, and empties', () => {
    const issues = v.validate('Organization', {
      ...organization,
      name: ['a'],
      alias: 'b',
      endpoint: [],
      address: [{}],
    });
    expect(where(issues)).toEqual(
      sorted(['Organization.name', 'Organization.alias', 'Organization.address[0]', 'Organization.endpoint']),
    );
  });

  it('allows one type of a choice element and checks it as that type', () => {
    const characteristic = { code: { text: 'age' }, exclude: false };
    expect(
      v.validate('Group', { ...group, characteristic: [{ ...characteristic, valueBoolean: true }] }),
    ).toEqual([]);
    expect(
      where(
        v.validate('Group', {
          ...group,
          characteristic: [{ ...characteristic, valueBoolean: true, valueQuantity: { value: 1 } }],
        }),
      ),
    ).toEqual(['Group.characteristic[0].valueQuantity']);
    expect(where(v.validate('Group', { ...group, characteristic: [characteristic] }))).toEqual(
      sorted(['Group.characteristic[0].value[x]']),
    );
    expect(
      where(
        v.validate('Organization', { ...organization, extension: [{ url: 'urn:x', valuePositiveInt: 0 }] }),
      ),
    ).toEqual(['Organization.extension[0].valuePositiveInt']);
  });

  it('validates contained resources as their own type, and knows R4 types only', () => {
    const issues = v.validate('Organization', {
      ...organization,
      contained: [{ resourceType: 'Endpoint', id: 'e', status: 'active' }, { resourceType: 'Project' }],
    });
    expect(where(issues)).toEqual(
      sorted([
        'Organization.contained[0].connectionType',
        'Organization.contained[0].payloadType',
        'Organization.contained[0].address',
        'Organization.contained[1]',
      ]),
    );
    expect(v.isResourceType('VisionPrescription')).toBe(true);
    expect(v.isResourceType('Project')).toBe(false);
    expect(where(v.validate('Organization', { ...organization, meta: { project: 'p' } }))).toEqual(
      sorted(['Organization.meta.project']),
    );
  });

  it('refuses a body of another type or no object at all', () => {
    expect(where(v.validate('Organization', { ...endpoint }))).toContain('Organization.resourceType');
    expect(where(v.validate('Organization', []))).toEqual(sorted(['Organization']));
    expect(where(v.validate('NoSuchType', {}))).toEqual(sorted(['NoSuchType']));
  });

  it('is fast once compiled', () => {
    const start = performance.now();
    for (let i = 0; i < 1000; i++) v.validate('Group', group);
    expect(performance.now() - start).toBeLessThan(500);
  });
});
