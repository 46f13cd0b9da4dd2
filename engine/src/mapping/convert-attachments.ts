/**
 * Documents and images sent inside HL7 (ED, encapsulated data) or pointed at (RP, reference
 * pointer) to FHIR Attachment (guide: ED[Attachment], RP[Attachment]). A FHIR reader needs a MIME
 * type and base64 bytes; HL7 sends a type of data (table 0191), a subtype and one of three encodings.
 */
import type { Hl7Value } from './hl7-value';

/** HL7 table 0191 (type of referenced data) to the MIME top-level type it stands for. */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  AP: 'application',
  APPLICATION: 'application',
  AU: 'audio',
  AUDIO: 'audio',
  IM: 'image',
  IMAGE: 'image',
  SI: 'image',
  NS: 'image',
  TEXT: 'text',
  TX: 'text',
  FT: 'text',
  SD: 'application',
  VIDEO: 'video',
};

/** Subtypes (table 0291) whose MIME type is not `<0191 type>/<subtype in lower case>`. */
const MIME_BY_SUBTYPE: Readonly<Record<string, string>> = {
  PDF: 'application/pdf',
  RTF: 'application/rtf',
  XML: 'application/xml',
  DICOM: 'application/dicom',
  POSTSCRIPT: 'application/postscript',
  'OCTET-STREAM': 'application/octet-stream',
  'X-HL7-CDA-LEVEL-ONE': 'application/x-hl7-cda-level-one+xml',
  JPEG: 'image/jpeg',
  JPG: 'image/jpeg',
  GIF: 'image/gif',
  PNG: 'image/png',
  TIFF: 'image/tiff',
  HTML: 'text/html',
  PLAIN: 'text/plain',
};

const MIME = /^[a-z]+\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX = /^(?:[0-9A-Fa-f]{2})*$/;

/** Text as base64 of its UTF-8 bytes (a TX document's lines, for Attachment.data). */
export function encodeBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * The MIME type of a type of data (0191) and subtype (0291): a subtype that is already a MIME
 * type is kept; an unknown pair gives undefined rather than a made-up type.
 */
export function mimeType(type: string | undefined, subtype: string | undefined): string | undefined {
  if (subtype !== undefined && MIME.test(subtype)) return subtype.toLowerCase();
  const known = subtype !== undefined ? MIME_BY_SUBTYPE[subtype.toUpperCase()] : undefined;
  if (known !== undefined) return known;
  const top = type !== undefined ? MEDIA_TYPES[type.toUpperCase()] : undefined;
  if (top === undefined) return undefined;
  if (subtype === undefined) return top === 'text' ? 'text/plain' : undefined;
  const candidate = `${top}/${subtype.toLowerCase()}`;
  return MIME.test(candidate) ? candidate : undefined;
}

/** ED.5 as base64 per ED.4: Base64 as sent (whitespace removed), Hex decoded, A (text) encoded. */
function edData(encoding: string | undefined, data: string): string | undefined {
  const enc = encoding?.toUpperCase();
  if (enc === 'BASE64') {
    const b64 = data.replace(/\s+/g, '');
    return BASE64.test(b64) && b64.length % 4 === 0 ? b64 : undefined;
  }
  if (enc === 'HEX') {
    const hex = data.replace(/\s+/g, '');
    return HEX.test(hex) ? Buffer.from(hex, 'hex').toString('base64') : undefined;
  }
  return encodeBase64(data);
}

/**
 * ED to Attachment: contentType from ED.2/ED.3, data from ED.5 decoded per ED.4. Data that does not
 * decode as its encoding says is dropped, not stored as bytes no reader could open.
 */
export function edToAttachment(v: Hl7Value): object | undefined {
  const text = v.part(5);
  const data = text !== undefined ? edData(v.part(4), text) : undefined;
  if (data === undefined || data === '') return undefined;
  const contentType = mimeType(v.part(2), v.part(3));
  return { ...(contentType !== undefined ? { contentType } : {}), data };
}

/** RP to Attachment: RP.1 the pointer as url, RP.3/RP.4 the MIME type (guide: RP[Attachment]). */
export function rpToAttachment(v: Hl7Value): object | undefined {
  const url = v.part(1);
  if (url === undefined) return undefined;
  const contentType = mimeType(v.part(3), v.part(4));
  return { ...(contentType !== undefined ? { contentType } : {}), url };
}
