/**
 * The edge schemas of the HTTP API (request-params.ts) and the search bounds of the FHIR query
 * parser: what they let through and what they refuse, without a server.
 */
import { describe, expect, it } from 'vitest';
import {
  decimalInt,
  hasControlCharacter,
  isoInstant,
  issuesOf,
  MAX_MESSAGE_ID,
  messageId,
  safeText,
} from '../../engine/src/http/request-params';
import { parseSearchQuery, SEARCH_LIMITS } from '../../engine/src/store/fhir-search-query';
import { isFhirStoreError } from '../../engine/src/store/fhir-store-error';
import { z } from 'zod';

describe('messageId', () => {
  it.each(['1', '42', String(MAX_MESSAGE_ID)])('accepts %s', (v) => {
    expect(messageId.safeParse(v).success).toBe(true);
  });
  it.each([
    String(MAX_MESSAGE_ID + 1n),
    '99999999999999999999',
    '0',
    '01',
    '-1',
    '+1',
    '1e3',
    '1.0',
    ' 1',
    'abc',
    '',
    '1\u0000',
  ])('refuses %j with one issue', (v) => {
    const r = messageId.safeParse(v);
    expect(r.success).toBe(false);
    expect(r.error?.issues).toHaveLength(1);
  });
  it('refuses a repeated parameter (an array from the query parser)', () => {
    expect(messageId.safeParse(['1', '2']).error?.issues[0]?.message).toBe('must be given at most once');
  });
});

describe('decimalInt', () => {
  const count = decimalInt(1, 1000);
  it('reads plain decimals in range', () => {
    expect(count.parse('1')).toBe(1);
    expect(count.parse('1000')).toBe(1000);
    expect(count.parse('0005')).toBe(5);
  });
  it.each(['0', '1001', '-1', '+5', '1e3', '0x10', '1.5', ' 5', '', 'abc', '99999999999999999999'])(
    'refuses %j',
    (v) => {
      expect(count.safeParse(v).success).toBe(false);
    },
  );
});

describe('isoInstant', () => {
  it('reads dates and date-times with offset', () => {
    expect(isoInstant.parse('2024-02-29').toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(isoInstant.parse('2024-05-01T08:00:00+02:00').toISOString()).toBe('2024-05-01T06:00:00.000Z');
  });
  it.each(['2024-13-45', '2023-02-29', '2024-01-01T25:00:00Z', '2024-01-01T00:00:00', 'abc', '99999-01-01'])(
    'refuses %j',
    (v) => {
      expect(isoInstant.safeParse(v).success).toBe(false);
    },
  );
});

describe('safeText and control characters', () => {
  const text = safeText(8);
  it('accepts unicode and punctuation', () => {
    expect(text.parse('☃ GHH|1^')).toBe('☃ GHH|1^');
  });
  it.each(['a\u0000b', 'a\tb', 'a\nb', 'a\u001fb', 'a\u007fb', '', 'a'.repeat(9)])('refuses %j', (v) => {
    expect(text.safeParse(v).success).toBe(false);
  });
  it('knows C0 and DEL, and nothing else', () => {
    expect(hasControlCharacter('\u0000')).toBe(true);
    expect(hasControlCharacter('\u007f')).toBe(true);
    expect(hasControlCharacter('\u00a0é\u{1f600}')).toBe(false);
  });
  it('turns zod issues into OperationOutcome issues naming each parameter', () => {
    const schema = z.strictObject({ sender: text.optional() });
    const r = schema.safeParse({ sender: 'a\u0000', colour: 'red' });
    expect(issuesOf(r.error!).map((i) => [i.code, i.expression])).toEqual(
      expect.arrayContaining([
        ['invalid', ['sender']],
        ['invalid', ['colour']],
      ]),
    );
  });
});

describe('FHIR search bounds', () => {
  const refusal = (params: [string, string][]): unknown => {
    try {
      parseSearchQuery('Patient', params);
    } catch (err) {
      if (isFhirStoreError(err)) return { code: err.code, expression: err.expression };
      throw err;
    }
    return undefined;
  };
  const repeat = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

  it('accepts a search at every limit', () => {
    expect(
      refusal([
        ...repeat<[string, string]>(SEARCH_LIMITS.criteria, ['name', 'a']),
        ['_sort', repeat(SEARCH_LIMITS.sortKeys, 'birthdate').join(',')],
        ...repeat<[string, string]>(SEARCH_LIMITS.includes, ['_include', 'Patient:general-practitioner']),
      ]),
    ).toBeUndefined();
    expect(refusal([['name', repeat(SEARCH_LIMITS.valuesPerParameter, 'a').join(',')]])).toBeUndefined();
    expect(refusal([['name', 'a'.repeat(SEARCH_LIMITS.valueLength)]])).toBeUndefined();
  });
  it.each<[string, [string, string][], string]>([
    ['too many parameters', repeat(SEARCH_LIMITS.criteria + 1, ['name', 'a']), 'name'],
    ['too many values', [['name', repeat(SEARCH_LIMITS.valuesPerParameter + 1, 'a').join(',')]], 'name'],
    ['too long a value', [['family', 'a'.repeat(SEARCH_LIMITS.valueLength + 1)]], 'family'],
    ['a date before the year 1', [['birthdate', 'lt0001-01-01T00:00:00+14:00']], 'birthdate'],
    ['too many sort keys', [['_sort', repeat(SEARCH_LIMITS.sortKeys + 1, '_id').join(',')]], '_sort'],
    [
      'too many includes',
      repeat(SEARCH_LIMITS.includes + 1, ['_include', 'Patient:general-practitioner']),
      '_include',
    ],
  ])('refuses %s as invalid, naming the parameter', (_what, params, expression) => {
    expect(refusal(params)).toEqual({ code: 'invalid', expression });
  });
});
