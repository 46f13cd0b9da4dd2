/**
 * The roster CSV reader: header variants, every row-level refusal with its row number, the NPI
 * check digit, and the limits that refuse an upload as a whole.
 */
import { describe, expect, it } from 'vitest';
import { isValidNpi, parseRosterCsv, type RosterCsvError } from '../../engine/src/notify/roster-csv';

const TODAY = '2025-06-01';
const HEADER = 'family,given,birthDate,gender,postalCode';

function refusal(fn: () => unknown): RosterCsvError {
  try {
    fn();
  } catch (err) {
    return err as RosterCsvError;
  }
  throw new Error('expected a RosterCsvError');
}

describe('parseRosterCsv', () => {
  it('reads the required columns in any order and case, with the optional ones', () => {
    const text = [
      'PostalCode,GIVEN,Family,npi,gender,BIRTHDATE,phone,identifier',
      '62701,Mary Ann,Holloway,1234567893,F,1962-03-17,(217) 555-0142,urn:payer:member|M-1',
      '62702-1234,John,Pryce,,male,1975-11-02,,',
    ].join('\r\n');
    const { rows, invalid } = parseRosterCsv(`\uFEFF${text}\r\n`, TODAY);
    expect(invalid).toEqual([]);
    expect(rows).toEqual([
      {
        row: 1,
        family: 'Holloway',
        given: ['Mary', 'Ann'],
        birthDate: '1962-03-17',
        gender: 'female',
        postalCode: '62701',
        npi: '1234567893',
        phone: '2175550142',
        identifier: { system: 'urn:payer:member', value: 'M-1' },
      },
      {
        row: 2,
        family: 'Pryce',
        given: ['John'],
        birthDate: '1975-11-02',
        gender: 'male',
        postalCode: '62702-1234',
      },
    ]);
  });

  it('takes quoted fields, trims spaces and skips blank lines without renumbering rows', () => {
    const text = `${HEADER}\n"O'Neil, Jr",  Sean ,1980-01-01,m,62701\n\n"Smith",Ann,1990-05-05,unknown,62703\n`;
    const { rows, invalid } = parseRosterCsv(text, TODAY);
    expect(invalid).toEqual([]);
    expect(rows.map((r) => [r.row, r.family, r.given, r.gender])).toEqual([
      [1, "O'Neil, Jr", ['Sean'], 'male'],
      [2, 'Smith', ['Ann'], 'unknown'],
    ]);
  });

  it('reports every bad row with its number and reason, never its values', () => {
    const bad: [string, string][] = [
      [',Ann,1980-01-01,F,62701', 'family is required'],
      ['Doe,,1980-01-01,F,62701', 'given is required'],
      ['D0e,Ann,1980-01-01,F,62701', 'family must be a name (no digits or symbols)'],
      ['---,Ann,1980-01-01,F,62701', 'family must contain letters'],
      ['Doe,Ann,,F,62701', 'birthDate is required'],
      ['Doe,Ann,01/02/1980,F,62701', 'birthDate must be YYYY-MM-DD'],
      ['Doe,Ann,1980-02-30,F,62701', 'birthDate is not a real date'],
      ['Doe,Ann,1981-13-01,F,62701', 'birthDate is not a real date'],
      ['Doe,Ann,2031-01-01,F,62701', 'birthDate is in the future'],
      ['Doe,Ann,1850-01-01,F,62701', 'birthDate is before 1870'],
      ['Doe,Ann,1980-01-01,,62701', 'gender is required'],
      ['Doe,Ann,1980-01-01,X,62701', 'gender must be male, female, other or unknown (or M, F)'],
      ['Doe,Ann,1980-01-01,F,', 'postalCode is required'],
      ['Doe,Ann,1980-01-01,F,6270', 'postalCode must be a US ZIP code: 12345 or 12345-6789'],
      ['Doe,Ann,1980-01-01,F,K1A 0B1', 'postalCode must be a US ZIP code: 12345 or 12345-6789'],
      ['Doe,Ann,1980-01-01,F', 'has 4 fields, the header has 5'],
      ['Doe,Ann,1980-01-01,F,62701,extra', 'has 6 fields, the header has 5'],
      [`Doe,${'A'.repeat(201)},1980-01-01,F,62701`, 'given is longer than 200 characters'],
    ];
    const text = [HEADER, ...bad.map(([line]) => line)].join('\n');
    const { rows, invalid } = parseRosterCsv(text, TODAY);
    expect(rows).toEqual([]);
    expect(invalid).toEqual(bad.map(([, reason], i) => ({ row: i + 1, reason })));
    expect(JSON.stringify(invalid)).not.toMatch(/Doe|Ann|1980/);
  });

  it('checks the optional columns: identifier, NPI (with its check digit) and phone', () => {
    const bad: [string, string][] = [
      ['Doe,Ann,1980-01-01,F,62701,noBar,,', 'identifier must be system|value'],
      ['Doe,Ann,1980-01-01,F,62701,|v,,', 'identifier must be system|value'],
      ['Doe,Ann,1980-01-01,F,62701,urn:x|,,', 'identifier must be system|value'],
      ['Doe,Ann,1980-01-01,F,62701,,123456789,', 'npi must be 10 digits'],
      ['Doe,Ann,1980-01-01,F,62701,,12345678AB,', 'npi must be 10 digits'],
      ['Doe,Ann,1980-01-01,F,62701,,1234567890,', 'npi fails the NPI check digit'],
      ['Doe,Ann,1980-01-01,F,62701,,,555-0142', 'phone must be a 10-digit number'],
      ['Doe,Ann,1980-01-01,F,62701,,,call me', 'phone must be a 10-digit number'],
    ];
    const text = [`${HEADER},identifier,npi,phone`, ...bad.map(([line]) => line)].join('\n');
    const { invalid } = parseRosterCsv(text, TODAY);
    expect(invalid).toEqual(bad.map(([, reason], i) => ({ row: i + 1, reason })));
  });

  it('refuses a header with an unknown, repeated or missing column', () => {
    expect(refusal(() => parseRosterCsv('', TODAY))).toMatchObject({ code: 'roster-header' });
    const unknown = refusal(() => parseRosterCsv(`${HEADER},ssn\nDoe,Ann,1980-01-01,F,62701,123`, TODAY));
    expect(unknown).toMatchObject({ code: 'roster-header' });
    expect(unknown.message).toContain('unknown column at position 6');
    // A roster without its header: the first patient is read as the header, and not echoed back.
    const headless = refusal(() => parseRosterCsv('Holloway,Peggy,1962-03-17,F,62702', TODAY));
    expect(headless.message).toContain('unknown columns at position 1, 2, 3, 4, 5');
    expect(headless.message).not.toMatch(/Holloway|Peggy|1962/);
    const repeated = refusal(() => parseRosterCsv(`${HEADER},Family`, TODAY));
    expect(repeated.message).toContain('repeated column family');
    const missing = refusal(() => parseRosterCsv('family,given,gender', TODAY));
    expect(missing.message).toContain('missing required column birthDate, postalCode');
  });

  it('refuses malformed CSV, too many rows and too many bytes as a whole', () => {
    const malformed = refusal(() => parseRosterCsv(`${HEADER}\n"Doe,Ann,1980-01-01,F,62701`, TODAY));
    expect(malformed).toMatchObject({ code: 'roster-malformed' });
    const rows = Array.from({ length: 4 }, () => 'Doe,Ann,1980-01-01,F,62701');
    expect(parseRosterCsv([HEADER, ...rows].join('\n'), TODAY, { maxRows: 4 }).rows).toHaveLength(4);
    const many = refusal(() => parseRosterCsv([HEADER, ...rows, rows[0]].join('\n'), TODAY, { maxRows: 4 }));
    expect(many).toMatchObject({ code: 'roster-too-large' });
    const big = refusal(() => parseRosterCsv([HEADER, ...rows].join('\n'), TODAY, { maxBytes: 100 }));
    expect(big).toMatchObject({ code: 'roster-too-large' });
  });

  it('accepts a header with no rows as an empty roster', () => {
    expect(parseRosterCsv(`${HEADER}\n`, TODAY)).toEqual({ rows: [], invalid: [] });
  });
});

describe('isValidNpi', () => {
  it('accepts NPIs whose Luhn check over 80840 + NPI holds', () => {
    // CMS's published example, and others computed by hand from the same rule.
    for (const npi of ['1234567893', '1245319599', '1003000126']) expect(isValidNpi(npi), npi).toBe(true);
  });

  it('refuses a wrong check digit, a transposition and anything but 10 digits', () => {
    for (const npi of ['1234567890', '1234567839', '2134567893', '123456789', '12345678930', 'abcdefghij']) {
      expect(isValidNpi(npi), npi).toBe(false);
    }
  });
});
