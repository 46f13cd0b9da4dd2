/**
 * The message view's labelled segments: names from the committed V2-to-FHIR dictionary, MSH-1/2
 * as sent, repetitions, components and subcomponents with their positions, escapes decoded, and
 * unknown Z-segments shown without names.
 */
import { describe, expect, it } from 'vitest';
import { componentEntry, fieldDictionary, fieldEntry } from '../../engine/src/hl7/field-dictionary';
import { labelSegments } from '../../engine/src/hl7/label-segments';
import { parseHl7 } from '../../engine/src/hl7/parse-message';

const MESSAGE = [
  'MSH|^~\\&|EPIC|GHH|CARE|CARE|20260101080000||ADT^A01^ADT_A01|C1|P|2.5.1',
  'PID|1||123^^^GHH^MR~456^^^OTHER^PI||Doe&van^Jane^Q||19800101|F|||1 Main St\\F\\Apt 2^^Town\\T\\City^MA',
  'OBX|1|CWE|8302-2^Height^LN||Y^Yes^HL70136',
  'ZPI|custom^value|x',
].join('\r');

const segments = labelSegments(parseHl7(MESSAGE));
const field = (segment: string, position: string) =>
  segments.find((s) => s.name === segment)?.fields.find((f) => f.position === position);

describe('field dictionary', () => {
  it('names fields and components as the reference tables do', () => {
    expect(fieldEntry('PID', 5)).toEqual({ name: 'Patient Name', datatype: 'XPN' });
    expect(componentEntry('XPN', 1)).toEqual({ name: 'Family Name', datatype: 'FN' });
    expect(componentEntry('CX', 1)?.name).toBe('ID Number');
    expect(fieldEntry('ZPI', 1)).toBeUndefined();
  });

  it('says where its names come from and under which licence', () => {
    expect(fieldDictionary().source).toMatch(/V2-to-FHIR.*commit [0-9a-f]{40}.*Apache License 2\.0/);
  });
});

describe('labelSegments', () => {
  it('lists every segment with its position in the message', () => {
    expect(segments.map((s) => [s.name, s.index])).toEqual([
      ['MSH', 1],
      ['PID', 2],
      ['OBX', 3],
      ['ZPI', 4],
    ]);
  });

  it('shows MSH-1 and MSH-2 as sent, with their names', () => {
    expect(field('MSH', 'MSH-1')).toEqual({ position: 'MSH-1', label: 'Field Separator', value: '|' });
    expect(field('MSH', 'MSH-2')).toEqual({
      position: 'MSH-2',
      label: 'Encoding Characters',
      value: '^~\\&',
    });
    expect(field('MSH', 'MSH-9')?.components?.map((c) => [c.position, c.label, c.value])).toEqual([
      ['MSH-9.1', 'Message Code', 'ADT'],
      ['MSH-9.2', 'Trigger Event', 'A01'],
      ['MSH-9.3', 'Message Structure', 'ADT_A01'],
    ]);
  });

  it('labels components and subcomponents, valued ones only', () => {
    const name = field('PID', 'PID-5');
    expect(name).toMatchObject({ label: 'Patient Name', value: 'Doe&van^Jane^Q' });
    expect(name?.components).toEqual([
      {
        position: 'PID-5.1',
        label: 'Family Name',
        value: 'Doe&van',
        subcomponents: [
          { position: 'PID-5.1.1', label: 'Surname', value: 'Doe' },
          { position: 'PID-5.1.2', label: 'Own Surname Prefix', value: 'van' },
        ],
      },
      { position: 'PID-5.2', label: 'Given Name', value: 'Jane' },
      { position: 'PID-5.3', label: 'Second and Further Given Names or Initials Thereof', value: 'Q' },
    ]);
    // Empty fields (PID-2, PID-4) are left out.
    expect(segments[1]?.fields.map((f) => f.position)).toEqual([
      'PID-1',
      'PID-3',
      'PID-5',
      'PID-7',
      'PID-8',
      'PID-11',
    ]);
  });

  it('gives each repetition its own position and components', () => {
    const ids = field('PID', 'PID-3');
    expect(ids?.value).toBe('123^^^GHH^MR~456^^^OTHER^PI');
    expect(ids?.components).toBeUndefined();
    expect(
      ids?.repetitions?.map((r) => [r.position, r.components?.map((c) => `${c.position}=${c.value}`)]),
    ).toEqual([
      ['PID-3[1]', ['PID-3[1].1=123', 'PID-3[1].4=GHH', 'PID-3[1].5=MR']],
      ['PID-3[2]', ['PID-3[2].1=456', 'PID-3[2].4=OTHER', 'PID-3[2].5=PI']],
    ]);
    expect(ids?.repetitions?.[0]?.components?.[0]?.label).toBe('ID Number');
  });

  it('decodes escapes in values without splitting on what they decode to', () => {
    const address = field('PID', 'PID-11');
    expect(address?.value).toBe('1 Main St|Apt 2^^Town&City^MA');
    expect(address?.components?.map((c) => [c.position, c.label, c.value])).toEqual([
      ['PID-11.1', 'Street Address', '1 Main St|Apt 2'],
      ['PID-11.3', 'City', 'Town&City'],
      ['PID-11.4', 'State or Province', 'MA'],
    ]);
  });

  it('types OBX-5 by OBX-2', () => {
    expect(field('OBX', 'OBX-5')?.components?.map((c) => c.label)).toEqual([
      'Identifier',
      'Text',
      'Name of Coding System',
    ]);
  });

  it('shows an unknown Z-segment without names', () => {
    expect(segments[3]).toEqual({
      name: 'ZPI',
      index: 4,
      fields: [
        {
          position: 'ZPI-1',
          value: 'custom^value',
          components: [
            { position: 'ZPI-1.1', value: 'custom' },
            { position: 'ZPI-1.2', value: 'value' },
          ],
        },
        { position: 'ZPI-2', value: 'x' },
      ],
    });
  });
});
