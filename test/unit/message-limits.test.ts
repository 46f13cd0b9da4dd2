/**
 * The limits checked on the ACK path: header lengths (HL7 lengths, bounded under the store's
 * index limit), segments per message and repetitions per field. Cheap enough for every message.
 */
import { describe, expect, it } from 'vitest';
import {
  checkFieldLengths,
  checkRepetitions,
  checkSegmentCount,
  FIELD_LENGTH_LIMITS,
} from '../../engine/src/hl7/message-limits';
import { parseHl7 } from '../../engine/src/hl7/parse-message';

function msh(
  o: { app?: string; facility?: string; type?: string; controlId?: string; version?: string } = {},
): string {
  return `MSH|^~\\&|${o.app ?? 'EPIC'}|${o.facility ?? 'GHH'}|CARE|CARE|20261125080000-0500||${o.type ?? 'ADT^A01^ADT_A01'}|${o.controlId ?? 'C1'}|P|${o.version ?? '2.5.1'}`;
}
const parse = (...segments: string[]) => parseHl7(segments.join('\r'));

describe('checkSegmentCount', () => {
  const lines = (n: number): string[] => [msh(), ...Array.from({ length: n - 1 }, (_, i) => `NTE|${i}`)];

  it.each([
    ['CR', '\r'],
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ])('counts segments separated by %s, up to the limit and no further', (_what, sep) => {
    expect(checkSegmentCount(lines(10).join(sep), 10)).toBeUndefined();
    expect(checkSegmentCount(lines(10).join(sep) + sep, 10)).toBeUndefined();
    expect(checkSegmentCount(lines(11).join(sep), 10)).toEqual({
      fault: 'too-many-segments',
      text: "message has more than 10 segments, this interface's limit",
    });
  });

  it('does not count blank lines, as the parser skips them', () => {
    const text = ['', msh(), ' ', '\t', 'PID|1', '\u00a0', ''].join('\r\n');
    expect(parseHl7(text).segments).toHaveLength(2);
    expect(checkSegmentCount(text, 2)).toBeUndefined();
    expect(checkSegmentCount(text, 1)?.fault).toBe('too-many-segments');
  });

  it('reads a megabyte of tiny segments in a few milliseconds, with or without a limit hit', () => {
    const text = [msh(), ...Array.from({ length: 250_000 }, () => 'Z|1')].join('\r');
    const runs: number[] = [];
    for (let k = 0; k < 10; k++) {
      const started = performance.now();
      checkSegmentCount(text, 5_000);
      checkSegmentCount(text, Number.MAX_SAFE_INTEGER);
      runs.push(performance.now() - started);
    }
    // Loose: a quadratic scan takes seconds here (it did, with indexOf once V8 optimised it).
    expect(Math.max(...runs)).toBeLessThan(500);
  });
});

describe('checkRepetitions', () => {
  const names = (n: number): string => Array.from({ length: n }, (_, i) => `Doe${i}^Jane`).join('~');

  it('allows up to the limit and names the first field over it', () => {
    expect(checkRepetitions(parse(msh(), `PID|1||123^^^GHH^MR||${names(1000)}`), 1000)).toBeUndefined();
    expect(checkRepetitions(parse(msh(), 'EVN|A01', `PID|1||123^^^GHH^MR||${names(1001)}`), 1000)).toEqual({
      fault: 'too-many-repetitions',
      location: 'PID-5',
      text: "PID-5 (segment 3) has more than 1000 repetitions, this interface's limit",
    });
  });

  it('counts empty repetitions, and the repetition character MSH-1/MSH-2 declare', () => {
    expect(checkRepetitions(parse(msh(), `PID|1||${'~'.repeat(1000)}`), 1000)?.location).toBe('PID-3');
    expect(checkRepetitions(parse(msh(), `PID|1||${'~'.repeat(999)}`), 1000)).toBeUndefined();
    const hashRep = parseHl7(`MSH|^#\\&|EPIC|GHH|||2026||ADT^A01|C|P|2.5\rPID|1||${'a#'.repeat(5)}a`);
    expect(checkRepetitions(hashRep, 5)?.location).toBe('PID-3');
  });

  it('does not count the encoding characters in MSH-2', () => {
    expect(checkRepetitions(parse(msh()), 1)).toBeUndefined();
  });

  it('checks 40,000 repetitions in well under a millisecond per thousand', () => {
    const message = parse(msh(), `PID|1||123^^^GHH^MR||${names(40_000)}`);
    const started = performance.now();
    for (let k = 0; k < 20; k++) checkRepetitions(message, 1_000);
    for (let k = 0; k < 20; k++) checkRepetitions(message, Number.MAX_SAFE_INTEGER);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('checkFieldLengths', () => {
  const random = (n: number): string => 'x'.repeat(n);

  it('accepts values at their limits', () => {
    const m = parse(
      msh({ app: random(227), facility: random(227), controlId: random(199), version: random(60) }),
      `PID|1||${random(199)}^^^GHH^MR`,
      `MRG|${random(199)}`,
    );
    expect(checkFieldLengths(m)).toBeUndefined();
  });

  it.each([
    ['MSH-3', msh({ app: random(228) }), 228],
    ['MSH-4', msh({ facility: `GHH^${random(7500)}` }), 7504],
    ['MSH-9', msh({ type: 'ADT^A01^ADT_A01X' }), 16],
    ['MSH-10', msh({ controlId: random(5000) }), 5000],
    ['MSH-12', msh({ version: random(61) }), 61],
  ])('refuses %s over its limit, naming it and its length, never its value', (location, header, length) => {
    const v = checkFieldLengths(parse(header, 'PID|1||123'));
    const max = FIELD_LENGTH_LIMITS[location as keyof typeof FIELD_LENGTH_LIMITS];
    expect(v).toEqual({
      fault: 'value-too-long',
      location,
      text: `${location} is ${length} characters long; the limit is ${max}`,
    });
  });

  it('reads the patient identifier that becomes an order key: PID-3.1 and MRG-1.1 of any group', () => {
    expect(checkFieldLengths(parse(msh(), `PID|1||${random(200)}^^^GHH^MR`))?.location).toBe('PID-3');
    expect(
      checkFieldLengths(parse(msh(), 'PID|1||1', 'MRG|2', 'PID|2||3', `MRG|${random(200)}`))?.location,
    ).toBe('MRG-1');
    // Long values elsewhere in the identifier, or in a later repetition, are not keys.
    expect(checkFieldLengths(parse(msh(), `PID|1||123^^^${random(300)}~${random(300)}`))).toBeUndefined();
  });

  it('ignores trailing empty components, which HL7 lets a sender omit', () => {
    expect(checkFieldLengths(parse(msh({ type: 'ADT^A01^ADT_A01^^&' })))).toBeUndefined();
  });
});
