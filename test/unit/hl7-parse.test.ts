import { describe, expect, it } from 'vitest';
import { readMessageHeader } from '../../engine/src/hl7/message-header';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { readValue, unescapeHl7 } from '../../engine/src/hl7/read-value';
import { decodeMessage } from '../../engine/src/hl7/decode-message';

const ADT = [
  'MSH|^~\\&|EPIC|GHH|CARE|CARE|20261125080000-0500||ADT^A01^ADT_A01|MSG1|P|2.5.1',
  'EVN|A01|20261125080000-0500',
  'PID|1||123^^^GHH^MR~456^^^SSA^SS||Doe^Jane^Q||19800101|F|||1 Main St^^Town^MA^02110',
  'PV1|1|I|ICU^101^A',
].join('\r');

describe('parseHl7', () => {
  it.each([
    ['CR', '\r'],
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('accepts %s segment separators', (_name, sep) => {
    const m = parseHl7(ADT.replaceAll('\r', sep));
    expect(m.segments.map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
    expect(readValue(m, 'PID-5.2')).toBe('Jane');
  });

  it('reads repetitions, components and MSH fields by their HL7 numbers', () => {
    const m = parseHl7(ADT);
    expect(readValue(m, 'MSH-9.2')).toBe('A01');
    expect(readValue(m, 'MSH-10')).toBe('MSG1');
    expect(readValue(m, 'PID-3[2].1')).toBe('456');
    expect(readValue(m, 'PID-3[2].4')).toBe('SSA');
    expect(readValue(m, 'PID-3.1')).toBe('123');
  });

  it('reads the header ingest needs', () => {
    expect(readMessageHeader(parseHl7(ADT))).toMatchObject({
      sender: 'EPIC^GHH',
      controlId: 'MSG1',
      messageType: 'ADT',
      triggerEvent: 'A01',
      version: '2.5.1',
      patientKey: 'GHH|123',
    });
  });

  it('refuses a message without MSH, with bad encoding characters, or without MSH-10', () => {
    expect(() => parseHl7('PID|1||123')).toThrow(expect.objectContaining({ code: 'no-msh' }) as Error);
    expect(() => parseHl7('MSH|^^\\&|A|B')).toThrow(
      expect.objectContaining({ code: 'bad-encoding-characters' }) as Error,
    );
    expect(() => readMessageHeader(parseHl7('MSH|^~\\&|A|B|C|D|2026||ADT^A01||P|2.5'))).toThrow(
      expect.objectContaining({ code: 'missing-control-id' }) as Error,
    );
  });

  it('resolves escape sequences', () => {
    const d = parseHl7(ADT).delimiters;
    expect(unescapeHl7('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g', d)).toBe('a|b^c&d~e\\f\ng');
  });

  it('honours MSH-18 when decoding bytes', () => {
    const latin = Buffer.from(
      'MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5||||||8859/1\rPID|1||1||M\xfcller',
      'latin1',
    );
    expect(decodeMessage(latin).text).toContain('Müller');
    const utf8 = Buffer.from(
      'MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5||||||UNICODE UTF-8\rPID|1||1||Müller',
      'utf8',
    );
    expect(decodeMessage(utf8).text).toContain('Müller');
  });
});
