/**
 * The name key the archive indexes and the prefix a search turns into: one normalisation for
 * both, so case, accents and spacing never decide whether a message is found.
 */
import { describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import {
  MAX_NAME_LENGTH,
  nameSearchPrefix,
  patientNameDisplay,
  patientNameKey,
  prefixUpperBound,
  readPatientName,
} from '../../engine/src/hl7/patient-name';

const pid = (field5: string) => parseHl7(`MSH|^~\\&|A|F|||2026||ADT^A01|1|P|2.5.1\rPID|1||X1||${field5}`);

describe('readPatientName', () => {
  it('reads the surname and first given name of the first repetition, unescaped', () => {
    expect(readPatientName(pid('Müller&von^Jo Ann^Q~Alias^Al'))).toEqual({
      family: 'Müller',
      given: 'Jo Ann',
    });
    expect(readPatientName(pid('O\\T\\Brien^Pat'))).toEqual({ family: 'O&Brien', given: 'Pat' });
  });

  it('has no name for an empty or explicitly null PID-5, or no PID', () => {
    expect(readPatientName(pid(''))).toBeUndefined();
    expect(readPatientName(pid('""^""'))).toBeUndefined();
    expect(readPatientName(parseHl7('MSH|^~\\&|A|F|||2026||ADT^A01|1|P|2.5.1'))).toBeUndefined();
  });
});

describe('name key and search prefix', () => {
  it('keys family^given without case, accents or extra spaces', () => {
    expect(patientNameKey({ family: '  Jiménez ', given: 'María  José' })).toBe('jimenez^maria jose');
    expect(patientNameKey({ family: 'Strauß', given: 'Søren' })).toBe('strauss^soren');
    expect(patientNameKey({ family: 'Doe', given: '' })).toBe('doe^');
  });

  it('displays Family, Given as sent', () => {
    expect(patientNameDisplay({ family: 'Jiménez', given: 'María' })).toBe('Jiménez, María');
    expect(patientNameDisplay({ family: '', given: 'María' })).toBe('María');
  });

  it('bounds stored keys, so a long PID-5 cannot fail the archive row', () => {
    expect(patientNameKey({ family: 'x'.repeat(5000), given: 'y' })).toHaveLength(MAX_NAME_LENGTH);
  });

  it('turns `family` and `family, given` into key prefixes', () => {
    expect(nameSearchPrefix('JIMENEZ')).toBe('jimenez');
    expect(nameSearchPrefix('Jiménez, ma')).toBe('jimenez^ma');
    expect(nameSearchPrefix('jiménez,')).toBe('jimenez^');
    expect(nameSearchPrefix(' , Jo')).toBeUndefined();
    expect(nameSearchPrefix('^')).toBeUndefined();
  });

  it('makes each key it should match fall inside [prefix, upper bound)', () => {
    const prefix = nameSearchPrefix('Smith, Jo') ?? '';
    const upper = prefixUpperBound(prefix);
    // The "C" collation compares code points, as these byte-wise comparisons do.
    const inRange = (key: string): boolean =>
      Buffer.compare(Buffer.from(key), Buffer.from(prefix)) >= 0 &&
      Buffer.compare(Buffer.from(key), Buffer.from(upper)) < 0;
    expect(['smith^jo', 'smith^john', 'smith^jo\u{1F600}'].every(inRange)).toBe(true);
    expect(['smith^j', 'smith^jp', 'smithe^jo', 'smit^jo'].some(inRange)).toBe(false);
    expect(prefixUpperBound('a\u{10FFFF}')).toBe('b');
    expect(prefixUpperBound('\u{D7FF}')).toBe('\u{E000}');
  });
});
