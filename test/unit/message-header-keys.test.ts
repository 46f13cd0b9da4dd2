import { describe, expect, it } from 'vitest';
import { readMessageHeader, type MessageHeader } from '../../engine/src/hl7/message-header';
import { parseHl7 } from '../../engine/src/hl7/parse-message';

function msh(trigger: string, structure: string, facility = 'GHH'): string {
  return `MSH|^~\\&|EPIC|${facility}|CARE|CARE|20261125080000-0500||ADT^${trigger}^${structure}|CTRL1|P|2.5.1`;
}

function header(...segments: string[]): MessageHeader {
  return readMessageHeader(parseHl7(segments.join('\r')));
}

function keysOf(h: MessageHeader): { patientKey: string | undefined; otherPatientKeys: readonly string[] } {
  return { patientKey: h.patientKey, otherPatientKeys: h.otherPatientKeys };
}

describe('readMessageHeader: patient keys', () => {
  it.each<[string, string[], string | undefined, string[]]>([
    [
      'a plain A01',
      [
        msh('A01', 'ADT_A01'),
        'EVN|A01|20261125080000-0500',
        'PID|1||123^^^GHH^MR||Doe^Jane||19800101|F',
        'PV1|1|I|ICU^101^A',
      ],
      'GHH|123',
      [],
    ],
    [
      'an A40 with one PID/MRG group',
      [msh('A40', 'ADT_A39'), 'EVN|A40|20261125', 'PID|1||NEW1^^^GHH^MR||Doe^Jane', 'MRG|OLD1^^^GHH^MR'],
      'GHH|NEW1',
      ['GHH|OLD1'],
    ],
    [
      'an A40 where MRG-1 names the same patient as PID-3',
      [msh('A40', 'ADT_A39'), 'PID|1||SAME^^^GHH^MR', 'MRG|SAME^^^GHH^MR'],
      'GHH|SAME',
      [],
    ],
    [
      'a message without PID (no keys)',
      [msh('A01', 'ADT_A01'), 'EVN|A01|20261125080000-0500', 'PV1|1|I|ICU^101^A'],
      undefined,
      [],
    ],
    [
      'PID-3 with repetitions: only the first counts',
      [msh('A01', 'ADT_A01'), 'PID|1||123^^^GHH^MR~456^^^SSA^SS~789^^^GHH^PI'],
      'GHH|123',
      [],
    ],
    [
      'MRG-1 with repetitions: only the first counts',
      [msh('A40', 'ADT_A39'), 'PID|1||NEW1^^^GHH^MR', 'MRG|OLD1^^^GHH^MR~OLD-SSN^^^SSA^SS'],
      'GHH|NEW1',
      ['GHH|OLD1'],
    ],
    [
      'the key takes MSH-4.1, not the identifier’s assigning authority',
      [msh('A01', 'ADT_A01', 'MERCY^1.2.3^ISO'), 'PID|1||MRN777^^^OTHER&9.9&ISO^MR'],
      'MERCY|MRN777',
      [],
    ],
    [
      'escape sequences in the id are decoded',
      [msh('A40', 'ADT_A39'), 'PID|1||A\\S\\1^^^GHH^MR', 'MRG|B\\F\\2\\T\\3^^^GHH^MR'],
      'GHH|A^1',
      ['GHH|B|2&3'],
    ],
    ['surrounding spaces are trimmed', [msh('A01', 'ADT_A01'), 'PID|1|| 123 ^^^GHH^MR'], 'GHH|123', []],
    [
      'an empty or explicitly null MRG-1 adds no key',
      [
        msh('A40', 'ADT_A39'),
        'PID|1||NEW1^^^GHH^MR',
        'MRG|""',
        'PID|2||NEW1^^^GHH^MR',
        'MRG|',
        'PID|3||NEW1^^^GHH^MR',
        'MRG|   ^^^GHH^MR',
      ],
      'GHH|NEW1',
      [],
    ],
  ])('%s', (_name, segments, patientKey, others) => {
    expect(keysOf(header(...segments))).toEqual({ patientKey, otherPatientKeys: others });
  });

  it('an A40 with two groups orders on both survivors and both merged records', () => {
    const h = header(
      msh('A40', 'ADT_A39'),
      'EVN|A40|20261125',
      'PID|1||NEW1^^^GHH^MR||Doe^Jane',
      'MRG|OLD1^^^GHH^MR',
      'PID|2||NEW2^^^GHH^MR||Roe^Rick',
      'MRG|OLD2^^^GHH^MR',
    );
    expect(h.patientKey).toBe('GHH|NEW1');
    // Set semantics: the order of the further keys does not matter to ordering (the locks are
    // taken in one global order), so compare them sorted.
    expect([...h.otherPatientKeys].sort()).toEqual(['GHH|NEW2', 'GHH|OLD1', 'GHH|OLD2']);
  });

  it('deduplicates keys repeated across groups and never repeats the primary key', () => {
    const h = header(
      msh('A40', 'ADT_A39'),
      'PID|1||NEW1^^^GHH^MR',
      'MRG|OLD1^^^GHH^MR',
      'PID|2||NEW1^^^GHH^MR',
      'MRG|OLD1^^^GHH^MR',
      'PID|3||OLD1^^^GHH^MR',
      'MRG|NEW1^^^GHH^MR',
    );
    expect(h.patientKey).toBe('GHH|NEW1');
    expect(h.otherPatientKeys).toEqual(['GHH|OLD1']);
  });

  it('leaves patientKey off the header when there is none (exactOptionalPropertyTypes)', () => {
    const h = header(msh('A01', 'ADT_A01'), 'PV1|1|I');
    expect(h).not.toHaveProperty('patientKey');
    expect(h.otherPatientKeys).toEqual([]);
  });

  it('reads the other header fields alongside the keys', () => {
    expect(header(msh('A40', 'ADT_A39'), 'PID|1||NEW1', 'MRG|OLD1')).toStrictEqual({
      sendingApplication: 'EPIC',
      sendingFacility: 'GHH',
      sender: 'EPIC^GHH',
      controlId: 'CTRL1',
      messageType: 'ADT',
      triggerEvent: 'A40',
      version: '2.5.1',
      patientKey: 'GHH|NEW1',
      otherPatientKeys: ['GHH|OLD1'],
    });
  });
});
