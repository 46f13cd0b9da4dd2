/**
 * A small, fast HL7 v2 reader. Segments are split into fields once; components, repetitions and
 * escapes are resolved only when a mapping asks for them, because most of a message is never read.
 */
import { Hl7ErrorCode, Hl7ParseError } from './hl7-error';

export interface Hl7Delimiters {
  readonly field: string;
  readonly component: string;
  readonly repetition: string;
  readonly escape: string;
  readonly subcomponent: string;
}

/**
 * One segment. `fields[n]` is the raw text of field n, so `fields[3]` of PID is PID-3.
 * For MSH, `fields[1]` is the field separator and `fields[2]` the encoding characters, so
 * MSH-n also lives at `fields[n]`.
 */
export interface Hl7Segment {
  readonly name: string;
  readonly fields: readonly string[];
  /** 1-based position of the segment in the message, for error locations. */
  readonly index: number;
}

export interface Hl7Message {
  readonly delimiters: Hl7Delimiters;
  readonly segments: readonly Hl7Segment[];
}

const SEGMENT_SPLIT = /\r\n|\r|\n/;
const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;

/**
 * Parses HL7 v2 text. Accepts CR, LF or CRLF between segments and ignores blank lines.
 * @throws Hl7ParseError when there is no MSH or its encoding characters are unusable.
 */
export function parseHl7(text: string): Hl7Message {
  const start = text.indexOf('MSH');
  if (start < 0 || text.slice(0, start).trim() !== '') {
    throw new Hl7ParseError(Hl7ErrorCode.NoMsh, 'the message does not start with an MSH segment', 'MSH');
  }
  const delimiters = readDelimiters(text.slice(start));
  const lines = text.slice(start).split(SEGMENT_SPLIT);
  const segments: Hl7Segment[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const parts = line.split(delimiters.field);
    const name = parts[0] ?? '';
    if (!SEGMENT_NAME.test(name)) {
      throw new Hl7ParseError(
        Hl7ErrorCode.BadSegment,
        `segment ${segments.length + 1} has no valid segment name`,
        `segment ${segments.length + 1}`,
      );
    }
    // MSH-1 is the separator itself, so shift MSH fields by one to keep fields[n] = MSH-n.
    const fields = name === 'MSH' ? ['MSH', delimiters.field, ...parts.slice(1)] : parts;
    segments.push({ name, fields, index: segments.length + 1 });
  }
  return { delimiters, segments };
}

function readDelimiters(msh: string): Hl7Delimiters {
  const field = msh.charAt(3);
  // MSH-2 ends at the next field separator of the MSH line itself: read further and a message
  // that never repeats MSH-1 would put its patient segments into the error text.
  const line = msh.split(/\r|\n/, 1)[0] ?? '';
  const sep = field === '' ? -1 : line.indexOf(field, 4);
  const enc = line.slice(4, sep >= 0 ? sep : undefined);
  const shown = JSON.stringify(enc.slice(0, 8));
  const bad = (why: string): Hl7ParseError =>
    new Hl7ParseError(Hl7ErrorCode.BadEncodingCharacters, `MSH-1/MSH-2 encoding characters ${why}`, 'MSH-2');
  if (field === '' || /[A-Za-z0-9\r\n]/.test(field)) throw bad('are missing or alphanumeric');
  if (enc.length < 4 || enc.length > 5) throw bad(`must be 4 or 5 characters, got ${shown}`);
  const chars = [field, enc.charAt(0), enc.charAt(1), enc.charAt(2), enc.charAt(3)];
  if (new Set(chars).size !== chars.length || /[A-Za-z0-9\s]/.test(enc)) {
    throw bad(`must be distinct punctuation, got ${shown}`);
  }
  return {
    field,
    component: enc.charAt(0),
    repetition: enc.charAt(1),
    escape: enc.charAt(2),
    subcomponent: enc.charAt(3),
  };
}
