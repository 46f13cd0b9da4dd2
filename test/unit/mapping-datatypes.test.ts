/**
 * Datatype conversions: each HL7 datatype into the FHIR types it can fill, including DTM with and
 * without an offset at dateTime, date and instant precision.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Hl7Delimiters } from '../../engine/src/hl7/parse-message';
import type { CodeTable } from '../../engine/src/mapping/code-tables';
import { parseCodeTable } from '../../engine/src/mapping/code-tables';
import type { ConvertContext } from '../../engine/src/mapping/conversion-types';
import { findConverter } from '../../engine/src/mapping/conversions';
import {
  readFhirDateTime,
  toFhirDate,
  toFhirDateTime,
  toFhirInstant,
} from '../../engine/src/mapping/convert-datetime';
import { Hl7Value } from '../../engine/src/mapping/hl7-value';

const d: Hl7Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

function table(name: string, rows: string): CodeTable {
  return parseCodeTable(name, `${name}.csv`, `code,system,target,display\n${rows}`).table;
}

const ctx: ConvertContext = {
  timezone: 'UTC',
  tables: new Map([
    [
      'coding-systems',
      table(
        'coding-systems',
        'LN,urn:ietf:rfc:3986,http://loinc.org,\nSCT,urn:ietf:rfc:3986,http://snomed.info/sct,',
      ),
    ],
    [
      'identifier-systems',
      table(
        'identifier-systems',
        'USSSA,urn:ietf:rfc:3986,http://hl7.org/fhir/sid/us-ssn,\nNC,urn:ietf:rfc:3986,urn:oid:2.16.840.1.113883.4.3.37,',
      ),
    ],
    [
      'v2-0203',
      table(
        'v2-0203',
        'MR,http://terminology.hl7.org/CodeSystem/v2-0203,MR,Medical record number\nDL,http://terminology.hl7.org/CodeSystem/v2-0203,DL,Driver license number',
      ),
    ],
    ['v2-0200', table('v2-0200', 'L,http://hl7.org/fhir/name-use,official,Official')],
    ['v2-0190', table('v2-0190', 'H,http://hl7.org/fhir/address-use,home,Home')],
    ['v2-0201', table('v2-0201', 'WPN,http://hl7.org/fhir/contact-point-use,work,Work')],
    [
      'v2-0202',
      table(
        'v2-0202',
        'CP,http://hl7.org/fhir/contact-point-use,mobile,Mobile\nFX,http://hl7.org/fhir/contact-point-system,fax,Fax',
      ),
    ],
  ]),
};

function convert(hl7: string, fhir: string, raw: string, extra: Partial<ConvertContext> = {}): unknown {
  const f = findConverter(hl7, fhir);
  if (f === undefined) throw new Error(`no converter ${hl7}>${fhir}`);
  return f(new Hl7Value(raw, 0, d), { ...ctx, ...extra });
}

const NY = 'America/New_York';

describe('DTM, DT and TS', () => {
  it('keeps the sender offset exactly as sent, whatever the zone', () => {
    expect(toFhirDateTime('20240305101500-0500', NY)).toBe('2024-03-05T10:15:00-05:00');
    expect(toFhirDateTime('198908181126+0215', NY)).toBe('1989-08-18T11:26:00+02:15');
    expect(toFhirDateTime('20210817151943.4+0200', NY)).toBe('2021-08-17T15:19:43.4+02:00');
    // An offset that disagrees with the zone's rules is still the sender's word.
    expect(readFhirDateTime('20260701120000-0500', NY)).toEqual({
      value: '2026-07-01T12:00:00-05:00',
      zoneAssumed: false,
    });
  });

  it('reads a time without offset in the zone: EST in winter, EDT in summer', () => {
    expect(readFhirDateTime('202611201738', NY)).toEqual({
      value: '2026-11-20T17:38:00-05:00',
      zoneAssumed: true,
    });
    expect(toFhirDateTime('20260704093000', NY)).toBe('2026-07-04T09:30:00-04:00');
    expect(toFhirDateTime('2026112017', NY)).toBe('2026-11-20T17:00:00-05:00');
    expect(toFhirDateTime('202611201738', 'UTC')).toBe('2026-11-20T17:38:00+00:00');
    expect(toFhirDateTime('202611201738', 'Asia/Kolkata')).toBe('2026-11-20T17:38:00+05:30');
  });

  it('moves a time in the spring-forward gap forward by the gap', () => {
    // 02:00-03:00 on 2026-03-08 does not exist in New York: 02:30 is read as 03:30 EDT.
    expect(toFhirDateTime('20260308023000', NY)).toBe('2026-03-08T03:30:00-04:00');
    expect(toFhirDateTime('20260308015959', NY)).toBe('2026-03-08T01:59:59-05:00');
    expect(toFhirDateTime('20260308030000', NY)).toBe('2026-03-08T03:00:00-04:00');
  });

  it('takes the earlier offset for a fall-back time that happens twice', () => {
    // 01:00-02:00 on 2026-11-01 happens at -04:00 and again at -05:00: the first is taken.
    expect(toFhirDateTime('20261101013000', NY)).toBe('2026-11-01T01:30:00-04:00');
    expect(toFhirDateTime('20261101005959', NY)).toBe('2026-11-01T00:59:59-04:00');
    expect(toFhirDateTime('20261101020000', NY)).toBe('2026-11-01T02:00:00-05:00');
  });

  it('answers a minute resolved before the same way, by zone, whatever its seconds', () => {
    // Minutes are remembered once resolved: the second reading of each must not borrow another's.
    for (let i = 0; i < 2; i++) {
      expect(toFhirDateTime('20260308023015', NY)).toBe('2026-03-08T03:30:15-04:00');
      expect(toFhirDateTime('20260308023045', NY)).toBe('2026-03-08T03:30:45-04:00');
      expect(toFhirDateTime('20261101013010', NY)).toBe('2026-11-01T01:30:10-04:00');
      expect(toFhirDateTime('20261101013010', 'Europe/London')).toBe('2026-11-01T01:30:10+00:00');
      expect(toFhirDateTime('202611011330', 'Asia/Kolkata')).toBe('2026-11-01T13:30:00+05:30');
    }
  });

  it('keeps seconds and every digit of the fraction', () => {
    expect(toFhirDateTime('20261120173807.1234', NY)).toBe('2026-11-20T17:38:07.1234-05:00');
    expect(toFhirDateTime('20260704093005.5', NY)).toBe('2026-07-04T09:30:05.5-04:00');
    expect(toFhirInstant('20261120173807.12', NY)).toBe('2026-11-20T17:38:07.12-05:00');
  });

  it('keeps a date (or a year and month) a date, assuming no zone', () => {
    expect(readFhirDateTime('20261120', NY)).toEqual({ value: '2026-11-20', zoneAssumed: false });
    expect(toFhirDateTime('2024', NY)).toBe('2024');
    expect(toFhirDateTime('202403', NY)).toBe('2024-03');
    expect(convert('DT', 'dateTime', '20261120', { timezone: NY })).toBe('2026-11-20');
    expect(convert('DTM', 'date', '202611201738', { timezone: NY })).toBe('2026-11-20');
  });

  it('gives an instant only with minutes', () => {
    expect(toFhirInstant('20240305101500-0500', NY)).toBe('2024-03-05T10:15:00-05:00');
    expect(toFhirInstant('20240305', NY)).toBeUndefined();
    expect(toFhirInstant('2024030510', NY)).toBeUndefined();
    expect(toFhirInstant('202403051015', NY)).toBe('2024-03-05T10:15:00-05:00');
  });

  it('tells the context when a conversion assumed the zone, and only then', () => {
    const noted: string[] = [];
    const noting = { timezone: NY, noteZoneAssumed: () => noted.push('assumed') };
    expect(convert('DTM', 'dateTime', '20260101120000-0500', noting)).toBe('2026-01-01T12:00:00-05:00');
    expect(convert('DTM', 'dateTime', '20260101', noting)).toBe('2026-01-01');
    expect(noted).toEqual([]);
    expect(convert('DTM', 'instant', '202601011200', noting)).toBe('2026-01-01T12:00:00-05:00');
    expect(noted).toEqual(['assumed']);
  });

  it('rejects impossible dates and non-HL7 text', () => {
    expect(toFhirDate('20240230')).toBeUndefined();
    expect(toFhirDate('04/24/2007')).toBeUndefined();
    expect(toFhirDateTime('20241305', NY)).toBeUndefined();
    expect(toFhirDate('19800214')).toBe('1980-02-14');
  });
});

describe('composite datatypes', () => {
  it('CX to Identifier with an OID authority, a known authority and a namespace', () => {
    expect(convert('CX', 'Identifier', 'MRN1^^^MERCY&2.16.840.1.113883.3.1234&ISO^MR')).toEqual({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v2-0203',
            code: 'MR',
            display: 'Medical record number',
          },
        ],
      },
      system: 'urn:oid:2.16.840.1.113883.3.1234',
      value: 'MRN1',
    });
    expect(convert('CX', 'Identifier', '123^^^USSSA^SS')).toMatchObject({
      system: 'http://hl7.org/fhir/sid/us-ssn',
    });
    expect(convert('CX', 'Identifier', '77^^^GOOD HEALTH')).toEqual({
      system: 'urn:care:id:GOOD%20HEALTH',
      value: '77',
    });
  });

  it('DLN to Identifier: typed DL, the issuing state as an authority, the expiry as period.end', () => {
    const dl = {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/v2-0203',
          code: 'DL',
          display: 'Driver license number',
        },
      ],
    };
    expect(convert('DLN', 'Identifier', 'OK4821907^OH^20280623')).toEqual({
      type: dl,
      system: 'urn:care:id:OH',
      value: 'OK4821907',
      period: { end: '2028-06-23' },
    });
    expect(convert('DLN', 'Identifier', 'D123&x^NC&North Carolina&FIPS5_2')).toEqual({
      type: dl,
      system: 'urn:oid:2.16.840.1.113883.4.3.37',
      value: 'D123',
    });
    expect(convert('DLN', 'Identifier', '^OH^20280623')).toBeUndefined();
    expect(convert('DLN', 'string', 'OK4821907^OH')).toBe('OK4821907');
  });

  it('XPN to HumanName with use from table 0200', () => {
    expect(convert('XPN', 'HumanName', 'Doe&&&&Aniston^Jane^Q^Jr^Ms^^L')).toEqual({
      use: 'official',
      family: 'Doe',
      given: ['Jane', 'Q'],
      prefix: ['Ms'],
      suffix: ['Jr'],
    });
  });

  it('XAD to Address: SAD.1-3 and XAD.2 as lines (guide, SAD[Address]), XAD.9 a CWE', () => {
    expect(
      convert('XAD', 'Address', '1000&Hospital Lane^Ste. 123^Ann Arbor^MI^99999^USA^M^^&W'),
    ).toMatchObject({
      line: ['1000', 'Hospital Lane', 'Ste. 123'],
      city: 'Ann Arbor',
      district: 'W',
    });
    expect(convert('XAD', 'Address', '12 Oak St&Oak St&12^Apt 4^Springfield^IL^62701^USA^H')).toEqual({
      use: 'home',
      line: ['12 Oak St', 'Oak St', '12', 'Apt 4'],
      city: 'Springfield',
      state: 'IL',
      postalCode: '62701',
      country: 'USA',
    });
  });

  it('a component holding subcomponents reads as its first valued one, never with separators', () => {
    expect(new Hl7Value('OMU&9.8&ISO', 1, d).text()).toBe('OMU');
    expect(new Hl7Value('&W', 1, d).text()).toBe('W');
    expect(new Hl7Value('HUH AE OMU&9.8&ISO^OMU B^Bed 03', 0, d).part(1)).toBe('HUH AE OMU');
  });

  it('XTN to ContactPoint: the unformatted number (XTN.12) wins over the parts (guide)', () => {
    expect(convert('XTN', 'ContactPoint', '78788788^^CP^5555^^^1111^^^^^2222')).toMatchObject({
      value: '2222',
    });
  });

  it('XTN to ContactPoint: phone parts, email, v2.3 plain number and equipment-as-use', () => {
    expect(convert('XTN', 'ContactPoint', '^WPN^PH^^1^217^5550199^12')).toEqual({
      system: 'phone',
      value: '+1 (217) 5550199 ext. 12',
      use: 'work',
    });
    expect(convert('XTN', 'ContactPoint', '^NET^Internet^a@b.org')).toEqual({
      system: 'email',
      value: 'a@b.org',
    });
    expect(convert('XTN', 'ContactPoint', '(555)555-2004')).toEqual({
      system: 'phone',
      value: '(555)555-2004',
    });
    expect(convert('XTN', 'ContactPoint', '^PRN^CP^^1^505^5550111')).toMatchObject({
      system: 'phone',
      use: 'mobile',
    });
    expect(convert('XTN', 'ContactPoint', '^PRN^FX^^1^505^5550112')).toMatchObject({ system: 'fax' });
  });

  it('XCN to an NPI identifier and a name', () => {
    const xcn = '1234567893^Welby^Marcus^^^Dr^MD^^^^^^NPI';
    expect(convert('XCN', 'Identifier', xcn)).toMatchObject({
      system: 'http://hl7.org/fhir/sid/us-npi',
      value: '1234567893',
    });
    expect(convert('XCN', 'HumanName', xcn)).toEqual({
      family: 'Welby',
      given: ['Marcus'],
      prefix: ['Dr'],
      suffix: ['MD'],
    });
    expect(convert('XCN', 'uri', xcn)).toBe('http://hl7.org/fhir/sid/us-npi');
  });

  it('CWE and CE to CodeableConcept, Coding and code', () => {
    expect(convert('CE', 'CodeableConcept', '2345-7^Glucose^LN^GLU^Glucose^L')).toEqual({
      coding: [
        { system: 'http://loinc.org', code: '2345-7', display: 'Glucose' },
        { code: 'GLU', display: 'Glucose' },
      ],
    });
    expect(convert('CWE', 'Coding', 'M^Married^HL70002')).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v2-0002',
      code: 'M',
      display: 'Married',
    });
    expect(convert('CWE', 'code', 'M^Married')).toBe('M');
    expect(convert('CWE', 'CodeableConcept', '^^^^^^^^Bacterial Culture')).toEqual({
      text: 'Bacterial Culture',
    });
  });

  it('HD to a system URI and an Identifier', () => {
    expect(convert('HD', 'uri', 'MERCY^2.16.840.1.113883.3.1234^ISO')).toBe(
      'urn:oid:2.16.840.1.113883.3.1234',
    );
    expect(convert('HD', 'Identifier', 'MERCY^2.16.840.1.113883.3.1234^ISO')).toEqual({
      system: 'urn:ietf:rfc:3986',
      value: 'urn:oid:2.16.840.1.113883.3.1234',
    });
  });
});

describe('numeric datatypes', () => {
  const unit = new Hl7Value('mg/dL^milligrams per deciliter^UCUM', 0, d);

  it('NM to decimal and to a UCUM Quantity', () => {
    expect(convert('NM', 'decimal', '4.06')).toBe(4.06);
    expect(convert('NM', 'decimal', 'see note')).toBeUndefined();
    expect(convert('NM', 'Quantity', '182', { unit })).toEqual({
      value: 182,
      unit: 'milligrams per deciliter',
      system: 'http://unitsofmeasure.org',
      code: 'mg/dL',
    });
  });

  it('codes a unit UCUM only when the sender said so or the code is valid UCUM', () => {
    const q = (u: string) => convert('NM', 'Quantity', '1', { unit: new Hl7Value(u, 0, d) });
    // No system named: UCUM by the validator, else the code is only the unit's text.
    expect(q('mmol/L')).toEqual({
      value: 1,
      unit: 'mmol/L',
      system: 'http://unitsofmeasure.org',
      code: 'mmol/L',
    });
    expect(q('mm[Hg]^millimetre of mercury')).toEqual({
      value: 1,
      unit: 'millimetre of mercury',
      system: 'http://unitsofmeasure.org',
      code: 'mm[Hg]',
    });
    expect(q('mEq/L')).toEqual({ value: 1, unit: 'mEq/L' });
    expect(q('bpm^beats per minute')).toEqual({ value: 1, unit: 'beats per minute' });
    // The sender's word stands: UCUM said is UCUM, another system is that system.
    expect(q('mEq/L^^UCUM')).toEqual({
      value: 1,
      unit: 'mEq/L',
      system: 'http://unitsofmeasure.org',
      code: 'mEq/L',
    });
    expect(q('mg/dL^^LN')).toEqual({ value: 1, unit: 'mg/dL', system: 'http://loinc.org', code: 'mg/dL' });
  });

  it("codes a feed's spelling of a unit as UCUM through codes/ucum-units.csv", () => {
    const file = path.join(import.meta.dirname, '../../mappings/codes/ucum-units.csv');
    const units = parseCodeTable('ucum-units', file, readFileSync(file, 'utf8')).table;
    const tables = new Map([...ctx.tables, ['ucum-units', units]]);
    const q = (u: string) => convert('NM', 'Quantity', '1', { unit: new Hl7Value(u, 0, d), tables });
    const ucum = 'http://unitsofmeasure.org';
    // A vital sign's unit as the corpus sends it, with ISO+ named: UCUM's /min, the text kept.
    expect(q('beats/min^^ISO')).toEqual({ value: 1, unit: 'beats/min', system: ucum, code: '/min' });
    expect(q('mEq/L')).toEqual({ value: 1, unit: 'mEq/L', system: ucum, code: 'meq/L' });
    // Valid UCUM, but kelvin per microliter: the table's reading wins.
    expect(q('K/uL^thousand per uL')).toEqual({
      value: 1,
      unit: 'thousand per uL',
      system: ucum,
      code: '10*3/uL',
    });
    // The sender's own UCUM is never rewritten.
    expect(q('K/uL^^UCUM')).toEqual({ value: 1, unit: 'K/uL', system: ucum, code: 'K/uL' });
  });

  it('SN to Quantity with comparator, Range and Ratio', () => {
    expect(convert('SN', 'Quantity', '<^0.5')).toEqual({ value: 0.5, comparator: '<' });
    expect(convert('SN', 'Quantity', '^1^-^3')).toBeUndefined();
    expect(convert('SN', 'Range', '^1^-^3')).toEqual({ low: { value: 1 }, high: { value: 3 } });
    expect(convert('SN', 'Ratio', '^1^:^128')).toEqual({
      numerator: { value: 1 },
      denominator: { value: 128 },
    });
    expect(convert('SN', 'string', '>=^10')).toBe('>=10');
  });

  it('reference range text to Observation.referenceRange', () => {
    expect(convert('ST', 'Observation_ReferenceRange', '3.5-5.1')).toEqual({
      low: { value: 3.5 },
      high: { value: 5.1 },
      text: '3.5-5.1',
    });
    expect(convert('ST', 'Observation_ReferenceRange', '<5')).toEqual({ high: { value: 5 }, text: '<5' });
    expect(convert('ST', 'Observation_ReferenceRange', 'negative')).toEqual({ text: 'negative' });
  });
});
