/**
 * Nothing is dropped in silence: every segment of a message that no rule read, no forEach
 * iterated, no `covers:` already listed and no `ignoreSegments:` names is a warning on the
 * mapped message with its place in the message.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage, type MapResult } from '../../engine/src/mapping/map-message';
import { isMappingLoadError } from '../../engine/src/mapping/mapping-error';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const mappingDir = (files: Record<string, string>): string => createMappingDir(files, dirs);

const ADT = [
  'MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||ADT^A01|C1|P|2.5.1',
  'EVN|A01|20240305101200-0500',
  'PID|1||A1^^^FAC^MR||Doe^Jane||19800214|F',
  'ZXY|1|loyalty card 42',
  'DG1|1||I10^Hypertension^I10',
  'DG1|2||E11^Diabetes^I10',
  'PR1|1||0UT90ZZ^Resection^ICD10PCS',
  'PV1|1|E',
  'PV1|2|I',
].join('\r');

function mappingWith(extra = ''): string {
  return `messageType: ADT
events: [A01]
${extra}resources:
  - name: patient
    type: Patient
    id: [PID-3.1]
    elements:
      gender: { from: PID-8, table: v2-0001 }
  - name: condition
    type: Condition
    forEach: [{ segment: DG1 }]
    id: [DG1-3.1]
    elements:
      code: { from: DG1-3, type: CWE }
  - name: encounter
    type: Encounter
    id: [PID-3.1]
    elements:
      status: { value: in-progress }
      class: { from: PV1-2, table: v2-0004 }
`;
}

function map(set: MappingSet, text = ADT): Extract<MapResult, { status: 'mapped' }> {
  const result = mapMessage(parseHl7(text), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result;
}

describe('unmapped segments', () => {
  it('lists each segment no rule read, with its place; the header, iterated and read segments are not listed', async () => {
    const result = map(await loadSet(mappingDir({ 'adt.yaml': mappingWith() })));
    expect(result.warnings).toEqual(
      [
        ['ZXY', 4],
        ['PR1', 7],
        // Only the first PV1 answers PV1-2 at the message level: the second is read by nothing.
        ['PV1', 9],
      ].map(([name, n]) => ({
        severity: 'warning',
        code: 'segment-not-mapped',
        diagnostics: `segment ${String(name)} (segment ${String(n)} of the message) is not mapped: no rule of mappings/adt.yaml reads it (list it under ignoreSegments: with a reason if that is intended)`,
        expression: [`${String(name)}[segment ${String(n)}]`, 'mappings/adt.yaml'],
      })),
    );
    expect(result.unmappedSegments).toEqual(['ZXY', 'PR1', 'PV1']);
  });

  it('leaves out what ignoreSegments names; a sender file adds to its base', async () => {
    const set = await loadSet(
      mappingDir({
        'adt.yaml': mappingWith('ignoreSegments:\n  ZXY: loyalty programme, not clinical\n'),
        'senders/FAC/adt.yaml':
          'messageType: ADT\nignoreSegments:\n  PR1: FAC sends procedures again in its own feed\n',
      }),
    );
    expect(map(set).unmappedSegments).toEqual(['PV1']);
    const other = ADT.replace('|APP|FAC|', '|APP|ELSEWHERE|');
    expect(map(set, other).unmappedSegments).toEqual(['PR1', 'PV1']);
  });

  it('does not list twice an OBX that covers: already reports outside every group', async () => {
    const set = await loadSet();
    const oru = [
      'MSH|^~\\&|LAB|MERCY|CARE|CARE|20240305140000-0500||ORU^R01^ORU_R01|ORU-9|P|2.5.1',
      'PID|1||MRN123^^^MERCY^MR||Doe^Jane||19800214|F',
      'ORC|RE|PL778^MERCY',
      'OBX|1|NM|2345-7^Glucose^LN||98|mg/dL|||||F',
      'OBR|1|PL778^MERCY|FL990^MERCYLAB|24323-8^Panel^LN|||20240305120000-0500||||||||||||||20240305133000-0500|||F',
      'OBX|2|NM|2345-7^Glucose^LN||99|mg/dL|||||F',
    ].join('\r');
    const result = map(set, oru);
    expect(result.warnings.filter((w) => w.expression?.[0] === 'OBX[segment 4]')).toHaveLength(1);
    expect(result.unmappedSegments.filter((s) => s === 'OBX')).toEqual(['OBX']);
  });

  it('refuses an ignoreSegments name that is no segment, and ignoreSegments in a rule file', async () => {
    const err = await loadSet(
      mappingDir({
        'adt.yaml': mappingWith('ignoreSegments:\n  PDI: typo\n'),
        'rules/shared.yaml': 'ignoreSegments:\n  ZXY: not here\n',
      }),
    ).catch((e: unknown) => e);
    expect(isMappingLoadError(err)).toBe(true);
    expect(
      isMappingLoadError(err) ? err.problems.map((p) => `${p.file}:${p.line ?? ''} ${p.message}`) : [],
    ).toEqual([
      'mappings/adt.yaml:4 PDI is not an HL7 segment; did you mean PD1? (sender-defined segments start with Z)',
      'mappings/rules/shared.yaml:2 ignoreSegments: belongs in a mapping file (one with messageType:)',
    ]);
  });
});

describe('segments that collapse into one resource', () => {
  it('says which OBX was not mapped because an earlier one of its order has the same code and sub-id', async () => {
    const set = await loadSet();
    const oru = [
      'MSH|^~\\&|LAB|FAC|CARE|CARE|20240305101500-0500||ORU^R01|DUP1|P|2.5.1',
      'PID|1||A1^^^FAC^MR',
      'OBR|1|P1|F1|24323-8^Metabolic panel^LN|||20240305100000-0500||||||||||||||20240305110000-0500|||F',
      'OBX|1|NM|2951-2^Sodium^LN||140|mmol/L|||||F',
      'OBX|2|NM|2951-2^Sodium^LN||141|mmol/L|||||F',
      'OBX|3|NM|2951-2^Sodium^LN|2|139|mmol/L|||||F',
    ].join('\r');
    const result = mapMessage(parseHl7(oru), set, {
      messageId: 'm1',
      receivedAt: '2024-01-01T00:00:00Z',
      defaultTimezone: 'UTC',
    });
    if (result.status !== 'mapped') throw new Error(result.reason);
    const observations = result.bundle.entry.filter((e) => e.resource.resourceType === 'Observation');
    // OBX-4 tells the third apart; the second has nothing to: it is named, not dropped in silence.
    expect(observations).toHaveLength(2);
    const collapsed = result.warnings.filter((w) => w.code === 'segment-collapsed');
    expect(collapsed).toHaveLength(1);
    expect(collapsed[0]?.expression?.[0]).toBe('OBX[segment 5]');
    expect(collapsed[0]?.diagnostics).toContain('same Observation as OBX (segment 4)');
  });
});
