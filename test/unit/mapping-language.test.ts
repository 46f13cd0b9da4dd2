/**
 * The mapping language end to end on small mapping directories: conditions, repetitions, forEach
 * groups, tables, references, sender overrides, hot reload, and load errors that name file, line
 * and rule.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { BundleEntry, MapResult } from '../../engine/src/mapping/map-message';
import type { MappingLoadError } from '../../engine/src/mapping/mapping-error';
import { isMappingError, isMappingLoadError } from '../../engine/src/mapping/mapping-error';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { watchMappings } from '../../engine/src/mapping/watch-mappings';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
const mappingDir = (files: Record<string, string>): string => createMappingDir(files, dirs);
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ADT = [
  'MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||ADT^A01|C1|P|2.5.1',
  'EVN|A01|20240305101200-0500',
  'PID|1||A1^^^FAC^MR~B2^^^OTHER^PI||Doe^Jane~Roe^Jan||19800214|F',
  'PV1|1|E|ED^1^^FAC||||11^Who^Al~12^Else^Bo',
].join('\r');

function map(set: MappingSet, text = ADT): MapResult {
  return mapMessage(parseHl7(text), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
}

function resources(result: MapResult, type: string): BundleEntry['resource'][] {
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);
}

const PATIENT = `
messageType: ADT
events: [A01]
eventTime: [{ from: EVN-2, type: DTM }]
resources:
  - name: patient
    type: Patient
    required: true
    id: [PID-3.4, PID-3.1]
    elements:
      identifier: { from: PID-3, type: CX }
      name: { from: PID-5, type: XPN }
      gender: { from: PID-8, table: v2-0001 }
      active:
        - { when: { equals: [PID-8, X] }, value: false }
        - { value: true }
      birthDate: PID-7
  - name: doctor
    type: Practitioner
    forEach: [{ field: PV1-7 }]
    id: [$.1]
    elements:
      name: { from: $, type: XCN }
  - name: encounter
    type: Encounter
    when: { exists: PV1-19 }
    id: [PV1-19]
    elements:
      status: { value: in-progress }
      class: { from: PV1-2, table: v2-0004 }
`;

describe('executing a mapping', () => {
  it('fills lists from every repetition and scalars from the first, with tables and conditions', async () => {
    const set = await loadSet(mappingDir({ 'adt.yaml': PATIENT }));
    const result = map(set);
    const [patient] = resources(result, 'Patient');
    expect(patient?.['identifier']).toHaveLength(2);
    expect(patient?.['name']).toEqual([
      { family: 'Doe', given: ['Jane'] },
      { family: 'Roe', given: ['Jan'] },
    ]);
    expect(patient?.['gender']).toBe('female');
    expect(patient?.['active']).toBe(true);
    expect(patient?.['birthDate']).toBe('1980-02-14');
    expect(result.status === 'mapped' && result.eventTime).toBe('2024-03-05T10:12:00-05:00');
  });

  it("adds a list element's keepStored rule only as the fallback, and lets a stored value win then", async () => {
    const mapping = PATIENT.replace(
      'name: { from: PID-5, type: XPN }',
      `name:
        - { from: PID-5, type: XPN }
        - { value: [{ text: unknown }], keepStored: true }`,
    );
    const set = await loadSet(mappingDir({ 'adt.yaml': mapping }));
    const named = map(set);
    const [patient] = resources(named, 'Patient');
    expect(patient?.['name']).toHaveLength(2);
    const request = (r: MapResult): unknown =>
      r.status === 'mapped' ? r.bundle.entry[0]?.request : undefined;
    expect(JSON.stringify(request(named))).not.toContain('keep-stored');
    const nameless = map(set, ADT.replace('Doe^Jane~Roe^Jan', ''));
    expect(resources(nameless, 'Patient')[0]?.['name']).toEqual([{ text: 'unknown' }]);
    expect(request(nameless)).toMatchObject({
      extension: expect.arrayContaining([
        { url: 'urn:care:fhir:keep-stored', valueString: 'name' },
      ]) as unknown,
    });
  });

  it('makes one resource per forEach value, with deterministic ids, and skips a rule whose when fails', async () => {
    const set = await loadSet(mappingDir({ 'adt.yaml': PATIENT }));
    const first = resources(map(set), 'Practitioner');
    expect(first.map((p) => p['name'])).toEqual([
      [{ family: 'Who', given: ['Al'] }],
      [{ family: 'Else', given: ['Bo'] }],
    ]);
    expect(resources(map(set), 'Practitioner').map((p) => p.id)).toEqual(first.map((p) => p.id));
    expect(resources(map(set), 'Encounter')).toHaveLength(0);
  });

  it('returns ignored for a message type it has no mapping for', async () => {
    const set = await loadSet(mappingDir({ 'adt.yaml': PATIENT }));
    expect(map(set, ADT.replace('ADT^A01', 'ADT^A09'))).toEqual({
      status: 'ignored',
      reason: 'no mapping for ADT^A09',
    });
  });

  it('throws a MappingError with an OperationOutcome when a required id is missing', async () => {
    const set = await loadSet(mappingDir({ 'adt.yaml': PATIENT }));
    try {
      map(set, ADT.replace('A1^^^FAC^MR~B2^^^OTHER^PI', ''));
      expect.unreachable();
    } catch (err) {
      expect(isMappingError(err)).toBe(true);
      if (!isMappingError(err)) return;
      expect(err.code).toBe('missing-required');
      expect(err.outcome.issue[0]?.expression).toEqual(['PID-3.4', 'mappings/adt.yaml#patient.id']);
    }
  });
});

describe('base mappings', () => {
  it('groups each OBR with its OBX and NTE children and types OBX-5 by OBX-2', async () => {
    const set = await loadSet();
    const oru = [
      'MSH|^~\\&|LAB|FAC|CARE|CARE|20240305140000-0500||ORU^R01|C2|P|2.5.1',
      'PID|1||A1^^^FAC^MR||Doe^Jane',
      'OBR|1||F1|A^Panel A^LN|||20240305120000-0500',
      'OBX|1|NM|1-1^One^LN||5|mg|||||F',
      'NTE|1||note for one',
      'OBR|2||F2|B^Panel B^LN|||20240305120000-0500',
      'OBX|1|ST|2-2^Two^LN||text||||||C',
    ].join('\r');
    const result = map(set, oru);
    const reports = resources(result, 'DiagnosticReport');
    const observations = resources(result, 'Observation');
    expect(reports).toHaveLength(2);
    expect(reports[0]?.['result']).toEqual([{ reference: `Observation/${observations[0]?.id ?? ''}` }]);
    expect(observations[0]).toMatchObject({
      valueQuantity: { value: 5 },
      note: [{ text: 'note for one' }],
      status: 'final',
    });
    expect(observations[1]).toMatchObject({ valueString: 'text', status: 'corrected' });
    expect(observations[1]?.['note']).toBeUndefined();
  });

  it('applies a sender override chosen by MSH-4', async () => {
    const set = await loadSet();
    const text = ADT.replace('|FAC|CARE', '|NORTHWIND|CARE') + '\rZPD|999^Pcp^Pat';
    const [patient] = resources(map(set, text), 'Patient');
    const pcp = resources(map(set, text), 'Practitioner').find((p) =>
      JSON.stringify(p['name']).includes('Pcp'),
    );
    expect(patient?.['generalPractitioner']).toEqual([{ reference: `Practitioner/${pcp?.id ?? ''}` }]);
    expect(
      set.findMapping({
        messageType: 'ADT',
        triggerEvent: 'A01',
        sender: 'X^NORTHWIND',
        sendingFacility: 'NORTHWIND',
      })?.sender,
    ).toBe('NORTHWIND');
    expect(
      set.findMapping({ messageType: 'ADT', triggerEvent: 'A01', sender: 'X^FAC', sendingFacility: 'FAC' })
        ?.sender,
    ).toBeUndefined();
  });
});

describe('load errors', () => {
  it('lists every problem with file, line and rule', async () => {
    const dir = mappingDir({
      'adt.yaml': `messageType: ADT
events: [A01]
resources:
  - name: patient
    type: Patient
    id: [PID-3.1]
    elements:
      gender: { from: PID-8, table: no-such-table }
  - name: thing
    type: NotAResource
    id: [PID-3.1]
`,
      'bad.yaml': 'messageType: ADT\nevents: [A02\n',
      'extra.yaml':
        'messageType: ADT\nevents: [A03]\nresources:\n  - name: p\n    type: Patient\n    id: [PID-3]\n    colour: red\n',
    });
    const err = await loadSet(dir).catch((e: unknown) => e);
    expect(isMappingLoadError(err)).toBe(true);
    const problems = (err as MappingLoadError).problems;
    const find = (code: string): unknown => problems.find((p) => p.code === code);
    expect(find('unknown-table')).toMatchObject({
      file: 'mappings/adt.yaml',
      line: 8,
      rule: 'patient.gender',
    });
    expect(find('schema-violation')).toMatchObject({ file: 'mappings/extra.yaml', line: 7 });
    expect(find('unknown-fhir-type')).toMatchObject({ file: 'mappings/adt.yaml', line: 10, rule: 'thing' });
    expect(find('invalid-yaml')).toMatchObject({ file: 'mappings/bad.yaml' });
    expect((err as MappingLoadError).message).toContain('mappings/adt.yaml:8 (patient.gender)');
  });

  it('reports a bad HL7 location and an unknown element at their lines', async () => {
    const dir = mappingDir({
      'adt.yaml': `messageType: ADT
events: [A01]
resources:
  - name: patient
    type: Patient
    id: [PID-3.1]
    elements:
      name: { from: PID-5, type: XPN }
      colour: { value: red }
      birthDate: { template: '{PID-0}' }
`,
    });
    const err = (await loadSet(dir).catch((e: unknown) => e)) as MappingLoadError;
    expect(err.problems).toContainEqual(
      expect.objectContaining({ code: 'unknown-element', line: 9, rule: 'patient.colour' }),
    );
    expect(err.problems).toContainEqual(
      expect.objectContaining({ code: 'bad-hl7-path', line: 10, rule: 'patient.birthDate' }),
    );
  });
});

describe('watchMappings', () => {
  it('reloads a valid change and reports an invalid one, keeping the caller on the last good set', async () => {
    const dir = mappingDir({ 'adt.yaml': PATIENT });
    const events: string[] = [];
    const stop = watchMappings(
      dir,
      { onReload: (s) => events.push(`reload ${s.version}`), onError: (e) => events.push(`error ${e.name}`) },
      { debounceMs: 50 },
    );
    try {
      writeFileSync(path.join(dir, 'adt.yaml'), `${PATIENT}\n# edited\n`);
      await expect.poll(() => events.length, { timeout: 5000 }).toBeGreaterThan(0);
      writeFileSync(path.join(dir, 'adt.yaml'), 'messageType: [');
      await expect
        .poll(() => events.some((e) => e === 'error MappingLoadError'), { timeout: 5000 })
        .toBe(true);
      expect(events[0]).toMatch(/^reload /);
    } finally {
      stop();
    }
  });
});
