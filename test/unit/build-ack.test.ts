import { describe, expect, it } from 'vitest';
import { buildAck } from '../../engine/src/hl7/build-ack';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { readValue } from '../../engine/src/hl7/read-value';

describe('buildAck', () => {
  const original = {
    controlId: 'MSG42',
    sendingApplication: 'EPIC',
    sendingFacility: 'GHH',
    triggerEvent: 'A01',
    version: '2.3',
  };

  it('answers in the sender version with MSA-2 = its MSH-10 and a unique MSH-10 of its own', () => {
    const a = parseHl7(buildAck({ code: 'AA', original }));
    const b = parseHl7(buildAck({ code: 'AA', original }));
    expect(readValue(a, 'MSH-12')).toBe('2.3');
    expect(readValue(a, 'MSA-1')).toBe('AA');
    expect(readValue(a, 'MSA-2')).toBe('MSG42');
    expect(readValue(a, 'MSH-9')).toBe('ACK^A01^ACK');
    expect(readValue(a, 'MSH-5')).toBe('EPIC');
    expect(readValue(a, 'MSH-10')).not.toBe(readValue(b, 'MSH-10'));
    expect(readValue(a, 'MSH-10')?.length).toBeLessThanOrEqual(20);
  });

  it('adds an ERR segment to AR and AE in the 2.5+ layout', () => {
    const ack = parseHl7(
      buildAck({
        code: 'AR',
        original: { ...original, version: '2.5.1' },
        error: { code: '204', text: 'unknown | sender', location: 'MSH-4' },
      }),
    );
    expect(readValue(ack, 'ERR-2')).toBe('MSH^1^4');
    expect(readValue(ack, 'ERR-3.1')).toBe('204');
    expect(readValue(ack, 'ERR-4')).toBe('E');
    expect(readValue(ack, 'ERR-8')).toBe('unknown | sender');
  });

  it('uses ERR-1 for versions before 2.5', () => {
    const ack = parseHl7(buildAck({ code: 'AE', original, error: { code: '207', text: 'store down' } }));
    expect(readValue(ack, 'ERR-1.4')).toContain('207');
    expect(readValue(ack, 'MSA-3')).toBe('store down');
  });
});
