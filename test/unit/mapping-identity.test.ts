/**
 * Resource identity in the base mappings: a resource whose identifying value is missing is never
 * given a shared id. A patient without PID-3 must not become every other such patient.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { demographicsOf } from '../../engine/src/identity/demographics';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import type { JsonObject } from '../../engine/src/store/fhir-json';
import { loadSet } from './mapping-test-support';

let set: MappingSet;
beforeAll(async () => {
  set = await loadSet();
});

const map = (segments: string[]) => () =>
  mapMessage(parseHl7(segments.join('\r')), set, {
    messageId: 'm1',
    receivedAt: '2024-03-05T10:00:00Z',
    defaultTimezone: 'UTC',
  });
const MSH = (type: string) => `MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||${type}|C1|P|2.5.1`;

describe('identity rules', () => {
  it('fails a message whose patient has no PID-3.1, naming PID-3.1 and the rule', () => {
    const run = map([
      MSH('ADT^A01'),
      'EVN|A01|20240305101200-0500',
      'PID|1|||||Doe^Jane||19800214|F',
      'PV1|1|I|ED',
    ]);
    expect(run).toThrow(expect.objectContaining({ name: 'MappingError', code: 'missing-required' }) as Error);
    try {
      run();
    } catch (err) {
      const expression = (err as { outcome: { issue: { expression: string[] }[] } }).outcome.issue[0]
        ?.expression;
      expect(expression).toEqual(['PID-3.1', 'mappings/rules/patient.yaml#patient.id']);
    }
  });

  it('gives two patients with different MRNs but the same authority different ids', () => {
    const ids = ['A1', 'A2'].map((mrn) => {
      const result = map([
        MSH('ADT^A04'),
        'EVN|A04|20240305101200-0500',
        `PID|1||${mrn}^^^FAC^MR||Doe^Jane`,
        'PV1|1|O',
      ])();
      if (result.status !== 'mapped') throw new Error('not mapped');
      return result.bundle.entry.find((e) => e.resource.resourceType === 'Patient')?.resource.id;
    });
    expect(ids[0]).toBeDefined();
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('an MRN sent without PID-3.4 gets MSH-4 as its system, its id and facility key unchanged', () => {
    const patientOf = (pid3: string): JsonObject => {
      const result = map([
        MSH('ADT^A04'),
        'EVN|A04|20240305101200-0500',
        `PID|1||${pid3}||Doe^Jane`,
        'PV1|1|O',
      ])();
      if (result.status !== 'mapped') throw new Error('not mapped');
      const found = result.bundle.entry.find((e) => e.resource.resourceType === 'Patient')?.resource;
      if (found === undefined) throw new Error('no Patient');
      return found;
    };
    const bare = patientOf('A1^^^^MR');
    const managing = (bare['managingOrganization'] as { reference: string }).reference;
    expect(bare['identifier']).toEqual([
      expect.objectContaining({ value: 'A1', system: 'urn:care:id:FAC', assigner: { reference: managing } }),
    ]);
    // The id reads PID-3.4, else MSH-4, as it always did: FAC sent as PID-3.4 names the same patient.
    expect(bare['id']).toBe(patientOf('A1^^^FAC^MR')['id']);
    // Identity keys the MRN by its assigner, the facility's Organization: the key a record
    // without a system had, so the facility's records stored before this stay its records.
    expect(demographicsOf(bare).facility).toBe(managing);
    const stored = { ...bare, identifier: [{ type: { coding: [{ code: 'MR' }] }, value: 'A1' }] };
    expect(demographicsOf(stored).facility).toBe(managing);
  });

  it('an A40 writes the merged record’s MRG-1 identifiers as PID-3 wrote them, facility system and all', () => {
    const result = map([
      MSH('ADT^A40'),
      'EVN|A40|20240305101200-0500',
      'PID|1||A1^^^^MR',
      'MRG|A0^^^^MR~S0^^^^SS',
    ])();
    if (result.status !== 'mapped') throw new Error('not mapped');
    const patients = result.bundle.entry.filter((e) => e.resource.resourceType === 'Patient');
    const identifiers = patients.map((e) => e.resource['identifier'] as Record<string, unknown>[]);
    const facility = { system: 'urn:care:id:FAC', assigner: expect.anything() as unknown };
    expect(identifiers).toEqual([
      [expect.objectContaining({ value: 'A1', ...facility })],
      [expect.objectContaining({ value: 'A0', ...facility })],
      [expect.not.objectContaining({ system: expect.anything() as unknown })],
    ]);
  });

  it('fails a result message with an OBX that has no code rather than dropping it', () => {
    const run = map([
      MSH('ORU^R01'),
      'PID|1||A1^^^FAC^MR||Doe^Jane',
      'OBR|1|P1|F1|24323-8^CMP^LN|||20240305120000-0500',
      'OBX|1|NM|||182|mg/dL|70-99|H|||F',
    ]);
    expect(run).toThrow(expect.objectContaining({ code: 'missing-required' }) as Error);
  });

  it('maps an OBX in the patient part of an ORU, and reports one it cannot place instead of dropping it', () => {
    const patientLevel = map([
      MSH('ORU^R01'),
      'PID|1||A1^^^FAC^MR||Doe^Jane',
      'OBX|1|NM|8867-4^Heart rate^LN||72|/min|||||F',
    ])();
    if (patientLevel.status !== 'mapped') throw new Error('not mapped');
    expect(patientLevel.bundle.entry.filter((e) => e.resource.resourceType === 'Observation')).toHaveLength(
      1,
    );
    expect(patientLevel.warnings).toEqual([]);

    const misplaced = map([
      MSH('ORU^R01'),
      'PID|1||A1^^^FAC^MR||Doe^Jane',
      'ORC|RE|P1',
      'OBX|1|NM|2345-7^Glucose^LN||182|mg/dL|70-99|H|||F',
      'OBR|1|P1|F1|24323-8^CMP^LN|||20240305120000-0500',
    ])();
    if (misplaced.status !== 'mapped') throw new Error('not mapped');
    expect(misplaced.warnings).toMatchObject([
      {
        severity: 'warning',
        code: 'segment-not-mapped',
        expression: ['OBX[segment 4]', expect.stringContaining('observation.yaml')],
      },
    ]);
  });
});
