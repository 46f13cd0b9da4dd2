/**
 * The mapping language's ways of saying why something was not mapped, and what a write requires:
 * `ignore:` (an event left unmapped on purpose, with its reason), `warnWhenSkipped:` (a group a
 * rule's `when` skipped, as a warning on the message) and `expectStored:` (a precondition on the
 * stored resource, carried to the store as a request extension).
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage, type MapResult } from '../../engine/src/mapping/map-message';
import { isMappingLoadError, type MappingLoadError } from '../../engine/src/mapping/mapping-error';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { readExpectations } from '../../engine/src/fhir/store-directives';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const mappingDir = (files: Record<string, string>): string => createMappingDir(files, dirs);

const message = (event: string, ...segments: string[]): string =>
  [
    `MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||ADT^${event}|C1|P|2.5.1`,
    `EVN|${event}|20240305101200-0500`,
    'PID|1||A1^^^FAC^MR||Doe^Jane||19800214|F',
    ...segments,
  ].join('\r');

function map(set: MappingSet, text: string): MapResult {
  return mapMessage(parseHl7(text), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
}

async function loadError(dir: string): Promise<MappingLoadError> {
  try {
    await loadSet(dir);
  } catch (err) {
    if (isMappingLoadError(err)) return err;
    throw err;
  }
  throw new Error('expected the set to be refused');
}

const MOVE = `
messageType: ADT
events: [A45]
resources:
  - name: patient
    type: Patient
    id: [PID-3.1]
    elements: { identifier: { from: PID-3, type: CX } }
  - name: previous-patient
    type: Patient
    referenceOnly: true
    forEach: [{ segment: MRG, children: [PV1] }, { field: MRG-1 }]
    id: [{ from: $.1, required: true }]
  - name: moved
    type: Encounter
    forEach: [{ segment: MRG, children: [PV1] }]
    when: { all: [{ exists: MRG-1.1 }, { exists: MRG-5.1 }] }
    warnWhenSkipped: MRG-1 and MRG-5 must both be sent
    update: merge
    id: [{ from: MRG-5.1, required: true }]
    expectStored:
      subject: { ref: previous-patient, from: MRG-1 }
    elements:
      subject: { ref: patient }
      status: { value: unknown }
`;

describe('ignore: an event left unmapped on purpose', () => {
  it('archives the event as ignored with the file and its reason, not "no mapping"', async () => {
    const set = await loadSet(
      mappingDir({
        'skip.yaml': 'messageType: ADT\nevents: [A35]\nignore: no Account resources are stored\n',
      }),
    );
    expect(map(set, message('A35', 'MRG|A9^^^FAC'))).toEqual({
      status: 'ignored',
      reason: 'ADT^A35 is not mapped on purpose (mappings/skip.yaml): no Account resources are stored',
      mappingFile: 'mappings/skip.yaml',
      statedReason: 'no Account resources are stored',
    });
    expect(map(set, message('A38'))).toEqual({ status: 'ignored', reason: 'no mapping for ADT^A38' });
  });

  it('refuses a file that ignores its events and still has rules that would never run', async () => {
    const err = await loadError(
      mappingDir({
        'skip.yaml':
          'messageType: ADT\nevents: [A35]\nignore: not yet\nresources:\n  - { name: p, type: Patient, id: [PID-3.1] }\n',
      }),
    );
    expect(err.problems.map((p) => p.message)).toContain(
      'a file with ignore: maps nothing, so its resources: would never run; remove one of the two',
    );
  });

  it('leaves the base A35, A41, A42 and A44 unmapped with a reason each', async () => {
    const set = await loadSet();
    for (const event of ['A35', 'A41', 'A42', 'A44']) {
      const result = map(set, message(event, 'MRG|A9^^^FAC'));
      expect(result).toMatchObject({
        status: 'ignored',
        reason: expect.stringMatching(/not mapped on purpose .*: it (merges|moves)/) as unknown,
      });
    }
  });
});

describe('warnWhenSkipped: a skipped group leaves a warning', () => {
  it('maps the groups that qualify and warns, at the group, about the one that does not', async () => {
    const set = await loadSet(mappingDir({ 'move.yaml': MOVE }));
    const result = map(set, message('A45', 'MRG|B1||||V1', 'PV1|1|O', 'MRG|||||V2', 'PV1|1|O'));
    if (result.status !== 'mapped') throw new Error(result.reason);
    expect(result.bundle.entry.filter((e) => e.resource.resourceType === 'Encounter')).toHaveLength(1);
    expect(result.warnings.filter((w) => w.code === 'rule-skipped')).toEqual([
      {
        severity: 'warning',
        code: 'rule-skipped',
        diagnostics: 'Encounter "moved" not mapped: MRG-1 and MRG-5 must both be sent',
        expression: ['MRG[segment 6]', 'mappings/move.yaml#moved.when'],
      },
    ]);
  });

  it('is refused without a when:, which would never skip anything', async () => {
    const err = await loadError(
      mappingDir({
        'p.yaml':
          'messageType: ADT\nevents: [A01]\nresources:\n  - { name: p, type: Patient, id: [PID-3.1], warnWhenSkipped: never }\n',
      }),
    );
    expect(err.problems.map((p) => p.message).join('\n')).toMatch(/warnWhenSkipped but no when/);
  });
});

describe('expectStored: a precondition on the stored resource', () => {
  it('carries the expected value on the entry request, computed in the group', async () => {
    const set = await loadSet(mappingDir({ 'move.yaml': MOVE }));
    const result = map(set, message('A45', 'MRG|B1||||V1', 'PV1|1|O'));
    if (result.status !== 'mapped') throw new Error(result.reason);
    const patients = result.bundle.entry.filter((e) => e.resource.resourceType === 'Patient');
    const moved = result.bundle.entry.find((e) => e.resource.resourceType === 'Encounter');
    expect(patients).toHaveLength(1);
    expect(moved?.resource['subject']).toEqual({ reference: patients[0]?.fullUrl });
    const [expected] = readExpectations(moved?.request);
    expect(expected?.element).toBe('subject');
    expect(expected?.value).not.toEqual(moved?.resource['subject']);
    expect((expected?.value as { reference: string }).reference).toMatch(/^Patient\/[0-9a-f]+$/);
  });

  it('accepts top-level elements only', async () => {
    const text = MOVE.replace(
      'subject: { ref: previous-patient, from: MRG-1 }',
      'subject.reference: MRG-1.1',
    );
    const err = await loadError(mappingDir({ 'move.yaml': text }));
    expect(err.problems.map((p) => p.message).join('\n')).toMatch(
      /expectStored names top-level elements only/,
    );
  });
});
