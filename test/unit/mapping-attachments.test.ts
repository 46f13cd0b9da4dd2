/**
 * ED and RP to FHIR Attachment: the MIME type from HL7's type and subtype, and ED data decoded
 * per its encoding (Base64 as sent, Hex and text re-encoded), or dropped when it does not decode.
 */
import { describe, expect, it } from 'vitest';
import type { Hl7Delimiters } from '../../engine/src/hl7/parse-message';
import { findConverter } from '../../engine/src/mapping/conversions';
import { mimeType } from '../../engine/src/mapping/convert-attachments';
import { Hl7Value } from '../../engine/src/mapping/hl7-value';

const d: Hl7Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };
const ctx = { tables: new Map(), timezone: 'UTC' };

function convert(hl7: string, fhir: string, raw: string): unknown {
  const converter = findConverter(hl7, fhir);
  if (converter === undefined) throw new Error(`no ${hl7}>${fhir}`);
  return converter(new Hl7Value(raw, 0, d), ctx);
}

describe('ED to Attachment', () => {
  it('keeps Base64 data and types it from ED.2/ED.3', () => {
    expect(convert('ED', 'Attachment', 'LAB^AP^PDF^Base64^JVBE\nRg==')).toEqual({
      contentType: 'application/pdf',
      data: 'JVBERg==',
    });
  });

  it('decodes Hex and encodes text (A) as UTF-8', () => {
    expect(convert('ED', 'Attachment', '^IM^PNG^Hex^89504E47')).toEqual({
      contentType: 'image/png',
      data: Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64'),
    });
    expect(convert('ED', 'Attachment', '^TEXT^^A^Tom \\T\\ Jerry')).toEqual({
      contentType: 'text/plain',
      data: Buffer.from('Tom & Jerry', 'utf8').toString('base64'),
    });
  });

  it('drops data that does not decode as its encoding says', () => {
    expect(convert('ED', 'Attachment', '^AP^PDF^Base64^not*base64')).toBeUndefined();
    expect(convert('ED', 'Attachment', '^AP^PDF^Hex^XYZ')).toBeUndefined();
  });
});

describe('RP to Attachment and MIME types', () => {
  it('points at RP.1 with the type of RP.3/RP.4', () => {
    expect(convert('RP', 'Attachment', 'https://pacs.example/s/1^PACS^IM^JPEG')).toEqual({
      contentType: 'image/jpeg',
      url: 'https://pacs.example/s/1',
    });
  });

  it('keeps a subtype that is a MIME type and gives none for an unknown type', () => {
    expect(mimeType('AP', 'application/dicom')).toBe('application/dicom');
    expect(mimeType('Application', 'XML')).toBe('application/xml');
    expect(mimeType('ZZ', 'weird')).toBeUndefined();
  });

  it('reads an EI assigning authority as a system', () => {
    expect(convert('EI', 'uri', 'P1^LAB')).toBe('urn:care:id:LAB');
    expect(convert('EI', 'uri', 'P1^^2.16.840.1.1^ISO')).toBe('urn:oid:2.16.840.1.1');
  });
});
