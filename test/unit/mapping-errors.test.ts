/**
 * One mistake, one error, in words: a broken rule file is reported once, not again as a missing
 * rule in every file that uses it, and schema problems say what is expected instead of showing
 * the schema's regular expressions or one complaint per alternative.
 */
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isMappingLoadError, type MappingProblem } from '../../engine/src/mapping/mapping-error';
import { loadSet, MAPPINGS_DIR } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function problemsOf(files: Record<string, string>): Promise<readonly MappingProblem[]> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'mapping-errors-')), 'mappings');
  dirs.push(path.dirname(dir));
  cpSync(path.join(MAPPINGS_DIR, 'codes'), path.join(dir, 'codes'), { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  const err = await loadSet(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMappingLoadError(err)) throw new Error('the set loaded');
  return err.problems;
}

const users = (event: string, extra = ''): string => `messageType: ADT
events: [${event}]
include: [rules/people.yaml]
resources:
  - name: patient
    type: Patient
    id: [PID-3.1]
    elements:
      generalPractitioner: { ref: doctor }
      managingOrganization: { ref: facility }
${extra}`;

const PEOPLE = `resources:
  - name: doctor
    type: Practitioner
    id: [PV1-7.1]
    elements:
      name: { from: PV1-7, type: XCNN }
  - name: facility
    type: Organization
    id: [MSH-4.1]
`;

const shown = (problems: readonly MappingProblem[]): string[] =>
  problems.map((p) => `${p.file}:${p.line ?? ''} ${p.message}`);

describe('one mistake, one error', () => {
  it('reports a broken rule file once, not as a missing rule in each file that uses it', async () => {
    const problems = await problemsOf({
      'adt-a01.yaml': users('A01'),
      'adt-a02.yaml': users('A02'),
      'rules/people.yaml': PEOPLE,
    });
    expect(shown(problems)).toEqual([
      'mappings/rules/people.yaml:6 resources.0.elements.name.type: must be an HL7 data type of two or three capitals, like CWE or XPN',
    ]);
  });

  it('still reports a reference to a rule no file defines', async () => {
    const extra = '      link: { object: { other: { ref: nobody }, type: { value: seealso } } }\n';
    const problems = await problemsOf({ 'adt-a01.yaml': users('A01', extra), 'rules/people.yaml': PEOPLE });
    expect(problems.filter((p) => p.code === 'unknown-rule').map((p) => p.message)).toEqual([
      'no resource rule named "nobody"',
    ]);
  });

  it('blames nothing else when an included file is not even YAML', async () => {
    const problems = await problemsOf({
      'adt-a01.yaml': users('A01'),
      'rules/people.yaml': 'resources:\n  - name: doctor\n   type: [x\n',
    });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.code === 'invalid-yaml' && p.file === 'mappings/rules/people.yaml')).toBe(
      true,
    );
  });

  it('says in words what each field wants, once per mistake, never showing a regular expression', async () => {
    const problems = await problemsOf({
      'adt-a01.yaml': `messageType: ADT
events: [A01]
resources:
  - name: patient
    type: Patient
    id: [PID-3.1]
    forEach: [{ segment: pv1 }]
    elements:
      name: { from: PID5, type: XPN }
      gender: PDI8
      photo: 1
      Colour: { value: x }
      telecom: {}
`,
    });
    expect(shown(problems)).toEqual([
      'mappings/adt-a01.yaml:7 resources.0.forEach.0.segment: must be a segment name of three capitals or digits, like PID or OBX',
      'mappings/adt-a01.yaml:12 resources.0.elements: "Colour" must be a FHIR element name like birthDate, name.family or value[x]',
      'mappings/adt-a01.yaml:9 resources.0.elements.name.from: must be an HL7 location like PID-3, PID-5.1 or PID-3[2].4.1, or $ or $.9.1 for the value from: or forEach binds',
      'mappings/adt-a01.yaml:10 resources.0.elements.gender: must be an HL7 location like PID-3, PID-5.1 or PID-3[2].4.1, or $ or $.9.1 for the value from: or forEach binds',
      'mappings/adt-a01.yaml:11 resources.0.elements.photo: must be text, an object ({ ... }), a list ([ ... ]) or empty (null)',
      'mappings/adt-a01.yaml:13 resources.0.elements.telecom: needs one of from:, value:, template:, context:, ref:, refAll:, object:',
    ]);
    for (const p of problems) expect(p.message).not.toMatch(/pattern|\^\[|\]\{|\\d/);
  });
});
