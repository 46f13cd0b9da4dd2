/**
 * The loader refuses HL7 locations the standard does not have (a mistyped segment, a field past
 * the segment's last, a component past its data type's last), in plain words at file and line.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7Path } from '../../engine/src/hl7/read-value';
import { locationProblem, segmentProblem } from '../../engine/src/mapping/check-location';
import { isMappingLoadError, type MappingLoadError } from '../../engine/src/mapping/mapping-error';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const mappingDir = (files: Record<string, string>): string => createMappingDir(files, dirs);

function problemOf(text: string): string | undefined {
  const p = parseHl7Path(text);
  if (p === undefined) throw new Error(`${text} does not parse`);
  return locationProblem(p);
}

describe('locationProblem', () => {
  it('names a mistyped segment and suggests the close one', () => {
    expect(problemOf('PDI-5')).toBe(
      'PDI is not an HL7 segment; did you mean PD1? (sender-defined segments start with Z)',
    );
    expect(segmentProblem('QQQ')).toBe('QQQ is not an HL7 segment (sender-defined segments start with Z)');
  });

  it('refuses a field past the segment and a component past the data type, at every depth', () => {
    expect(problemOf('PID-555')).toBe('PID has 40 fields; PID-555 does not exist');
    expect(problemOf('PID-5.44')).toBe('PID-5 is XPN, which has 15 components; PID-5.44 does not exist');
    expect(problemOf('PID-3.4.4')).toBe('PID-3.4 is HD, which has 3 components; PID-3.4.4 does not exist');
    expect(problemOf('PID-8.23')).toBe('PID-8 is CWE, which has 22 components; PID-8.23 does not exist');
  });

  it('knows a primitive has no components beyond the value itself', () => {
    expect(problemOf('PID-7.1')).toBeUndefined();
    expect(problemOf('PID-7.2')).toBe('PID-7 is DTM, a value without components; PID-7.2 does not exist');
    expect(problemOf('PID-5.2.2')).toBe(
      'PID-5.2 is ST, a value without components; PID-5.2.2 does not exist',
    );
  });

  it('accepts later-version fields, Z-segments, and segments the guide names without a field table', () => {
    // PID-40 (Patient Telecommunication Information) is v2.9: older messages leave it empty.
    expect(problemOf('PID-40')).toBeUndefined();
    expect(problemOf('ZPD-99.7')).toBeUndefined();
    expect(problemOf('IN2-3')).toBeUndefined();
    // OBX-5 varies with OBX-2: no component check.
    expect(problemOf('OBX-5.9')).toBeUndefined();
  });
});

describe('loading', () => {
  it('reports each unknown location once, at its file, line and rule', async () => {
    const rules = `resources:
  - name: doctor
    type: Practitioner
    forEach: [{ field: PV1-7 }]
    id: [$.1]
    elements:
      name: { from: $, type: XCN }
      identifier: { from: $.30 }
`;
    const adt = (event: string): string => `messageType: ADT
events: [${event}]
include: [rules/doctor.yaml]
resources:
  - name: patient
    type: Patient
    forEach: [{ segment: PDI }]
    id: [PID-3.1]
    elements:
      birthDate: PID-555
      address: { from: PID-11, object: { city: $.3, country: $.30 } }
      generalPractitioner: { ref: doctor }
`;
    const dir = mappingDir({
      'adt-a01.yaml': adt('A01'),
      'adt-a02.yaml': adt('A02'),
      'rules/doctor.yaml': rules,
    });
    const err = (await loadSet(dir).catch((e: unknown) => e)) as MappingLoadError;
    expect(isMappingLoadError(err)).toBe(true);
    const shown = err.problems.map((p) => `${p.file}:${p.line ?? ''} ${p.rule ?? ''} ${p.message}`);
    expect(shown).toEqual(
      expect.arrayContaining([
        'mappings/rules/doctor.yaml:8 doctor.identifier $.30 is PV1-7.30: PV1-7 is XCN, which has 25 components; PV1-7.30 does not exist',
        'mappings/adt-a01.yaml:7 patient PDI is not an HL7 segment; did you mean PD1? (sender-defined segments start with Z)',
        'mappings/adt-a01.yaml:10 patient.birthDate PID has 40 fields; PID-555 does not exist',
        'mappings/adt-a01.yaml:11 patient.address.country $.30 is PID-11.30: PID-11 is XAD, which has 23 components; PID-11.30 does not exist',
      ]),
    );
    // The shared rule file is compiled for both mappings, and still reported once.
    expect(shown.filter((s) => s.startsWith('mappings/rules/doctor.yaml'))).toHaveLength(1);
    expect(err.problems.every((p) => p.code === 'unknown-hl7-location')).toBe(true);
    expect(err.problems).toHaveLength(7);
  });

  it('finds nothing to refuse in the base mappings and the sender overrides', async () => {
    const set = await loadSet();
    expect(set.senders.length).toBeGreaterThan(0);
  });
});
