/**
 * `defaults:` on a rule: elements set on each converted value that lacks them, so a field's
 * meaning (PID-13 is the home phone) fills what its datatype left open, and what the value itself
 * says (XTN-2) still wins. A default the converted type cannot hold fails the load.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { MappingLoadError } from '../../engine/src/mapping/mapping-error';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ADT = [
  'MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||ADT^A01|C1|P|2.5.1',
  'EVN|A01|20240305101200-0500',
  'PID|1||A1^^^FAC^MR||Doe^Jane||19800214|F|||||^^PH^^1^217^5550100~^PRS^CP^^1^217^5550142~^NET^Internet^jane@example.com|^^PH^^1^217^5550199',
].join('\r');

const patient = (telecom: string): string => `
messageType: ADT
events: [A01]
eventTime: [{ from: EVN-2, type: DTM }]
resources:
  - name: patient
    type: Patient
    id: [PID-3.1]
    elements:
      telecom:
${telecom}
`;

function telecomOf(set: MappingSet): unknown {
  const result = mapMessage(parseHl7(ADT), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry.find((e) => e.resource.resourceType === 'Patient')?.resource['telecom'];
}

async function loadErrors(telecom: string): Promise<string[]> {
  const dir = createMappingDir({ 'adt.yaml': patient(telecom) }, dirs);
  const err = (await loadSet(dir).catch((e: unknown) => e)) as MappingLoadError;
  return err.problems.map((p) => `${p.line ?? ''} ${p.message}`);
}

describe('defaults: on a rule', () => {
  it('fills an element each converted value lacks, and a value that has it keeps its own', async () => {
    const dir = createMappingDir(
      {
        'adt.yaml': patient(`        - { from: PID-13, type: XTN, defaults: { use: home } }
        - { from: PID-14, type: XTN, defaults: { use: work } }`),
      },
      dirs,
    );
    expect(telecomOf(await loadSet(dir))).toEqual([
      { system: 'phone', value: '+1 (217) 5550100', use: 'home' },
      // XTN-3 CP (codes/v2-0202.csv): the value says mobile, which the field's default does not override.
      { system: 'phone', value: '+1 (217) 5550142', use: 'mobile' },
      { system: 'email', value: 'jane@example.com', use: 'home' },
      { system: 'phone', value: '+1 (217) 5550199', use: 'work' },
    ]);
  });

  it('with defaultsWhen, completes only the values the condition holds for, $ being each value', async () => {
    const dir = createMappingDir(
      {
        'adt.yaml': patient(
          '        - { from: PID-13, type: XTN, defaults: { use: home }, defaultsWhen: { missing: $.2 } }',
        ),
      },
      dirs,
    );
    expect(telecomOf(await loadSet(dir))).toEqual([
      { system: 'phone', value: '+1 (217) 5550100', use: 'home' },
      { system: 'phone', value: '+1 (217) 5550142', use: 'mobile' },
      // XTN-2 NET is sent, and the guide's use map gives it no use: the default does not apply.
      { system: 'email', value: 'jane@example.com' },
    ]);
  });

  it('fails the load on a default the converted type has no such element or code for', async () => {
    const messages =
      await loadErrors(`        - { from: PID-13, type: XTN, defaults: { use: house, kind: x, period: x } }
        - { from: PID-14, object: { value: $.1 }, defaults: { use: work } }
        - { from: PID-40, type: XTN, defaultsWhen: { missing: $.2 } }
        - { from: PID-40, type: XTN, defaults: { use: work }, defaultsWhen: { missing: PID-99 } }`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^11 defaults: "house" is not a code of ContactPoint.use \(home, work/),
        expect.stringMatching(/^11 defaults: ContactPoint has no element "kind"/),
        expect.stringMatching(/^11 defaults: ContactPoint.period is not a single primitive element/),
        expect.stringMatching(/^12 defaults: needs from: with a datatype conversion/),
        expect.stringMatching(/^13 defaultsWhen: says which values get the defaults: it needs defaults:/),
        expect.stringMatching(/^14 .*PID-99/),
      ]),
    );
  });

  it('fails the load on defaults for a value that has no elements', async () => {
    const dir = createMappingDir(
      {
        'adt.yaml': patient('        - { from: PID-13, type: XTN }').replace(
          '      telecom:',
          '      gender: { from: PID-8, table: v2-0001, defaults: { use: home } }\n      telecom:',
        ),
      },
      dirs,
    );
    const err = (await loadSet(dir).catch((e: unknown) => e)) as MappingLoadError;
    expect(err.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^defaults: code has no elements/),
    ]);
  });
});
