// "New since my last look": kept per EHR and patient, nothing is new on a first look, and storage
// that refuses (a sandboxed frame) means no marks rather than an error.
import { describe, expect, it } from 'vitest';
import { buildTimeline } from '../src/timeline/build-timeline';
import {
  countNewSince,
  isNewSince,
  lastLookKey,
  readLastLook,
  writeLastLook,
} from '../src/timeline/last-look';
import { goldenBundle } from './fixtures/golden-bundle';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
}

describe('new since last look', () => {
  const { events } = buildTimeline(goldenBundle());

  it('marks what the engine received after the last look', () => {
    // Received: both Mercy reports 5 March 18:31, the Mercy stay (last updated by its A03) 8 March,
    // and Northwind's visit and report 20 March.
    expect(countNewSince(events, '2024-03-10T00:00:00Z')).toBe(2);
    expect(countNewSince(events, '2024-03-05T16:00:00Z')).toBe(5);
    expect(countNewSince(events, '2024-03-06T00:00:00Z')).toBe(3);
    expect(countNewSince(events, '2024-04-01T00:00:00Z')).toBe(0);
    expect(isNewSince('2024-03-20T16:46:00Z', '2024-03-20T16:46:00Z')).toBe(false);
  });

  it('marks nothing on a first look', () => {
    expect(countNewSince(events, undefined)).toBe(0);
    expect(isNewSince('2024-03-20T16:46:00Z', undefined)).toBe(false);
  });

  it('keeps one look per EHR and patient', () => {
    const s = memoryStorage();
    const a = lastLookKey('https://ehr.example/fhir', 'p1');
    const b = lastLookKey('https://other.example/fhir', 'p1');
    expect(writeLastLook(s, a, '2024-03-10T00:00:00.000Z')).toBe(true);
    expect(readLastLook(s, a)).toBe('2024-03-10T00:00:00.000Z');
    expect(readLastLook(s, b)).toBeUndefined();
  });

  it('answers "no last look" when storage refuses or holds junk', () => {
    const refusing = {
      getItem: (): string | null => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: (): void => {
        throw new DOMException('denied', 'SecurityError');
      },
    };
    expect(readLastLook(refusing, 'k')).toBeUndefined();
    expect(writeLastLook(refusing, 'k', '2024-01-01T00:00:00Z')).toBe(false);
    const s = memoryStorage();
    s.setItem('k', 'not a time');
    expect(readLastLook(s, 'k')).toBeUndefined();
  });
});
