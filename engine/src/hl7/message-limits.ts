/**
 * Bounds a message must stay within before it is archived as `received`, checked on the ACK path
 * so that a message the engine can never store or process gets AR at once, not AE (which makes
 * the sender resend it for ever and stalls its queue behind it).
 *
 * - Field lengths: the header values the archive indexes (sender, MSH-10, patient keys) and the
 *   rest of the routing header, against HL7 lengths. With these bounds no index key can reach
 *   PostgreSQL's btree limit (2,704 bytes): the longest, `(MSH-3.1^MSH-4.1, MSH-10, hash)`, is at
 *   most 227 + 1 + 227 + 199 UTF-16 units of at most 3 UTF-8 bytes each plus 64, 2,026 bytes.
 * - Shape: segments per message and repetitions per field (MLLP_MAX_SEGMENTS,
 *   MLLP_MAX_REPETITIONS). The segment count is read from the text before it is parsed, because
 *   parsing 200,000 tiny segments takes a quarter of a second of the event loop that every
 *   connection's ACKs share; repetitions are counted per field in one pass, without splitting.
 */
import type { Hl7Message } from './parse-message';

export interface MessageLimits {
  /** Segments per message above which a message is refused. */
  readonly maxSegments: number;
  /** Repetitions per field above which a message is refused. */
  readonly maxRepetitions: number;
}

/** The defaults of MLLP_MAX_SEGMENTS and MLLP_MAX_REPETITIONS. */
export const DEFAULT_MESSAGE_LIMITS: MessageLimits = { maxSegments: 5_000, maxRepetitions: 1_000 };

/**
 * Longest value accepted per field, in characters of the decoded text. HL7 v2.5 lengths, except
 * MSH-10: v2.5 gives ST 20, which real senders exceed (GUIDs, 48-character IDs in the corpus);
 * v2.7 raised it to 199.
 */
export const FIELD_LENGTH_LIMITS = {
  /** HD: IS 20 + ST 199 + ID 6 and two separators. */
  'MSH-3': 227,
  'MSH-4': 227,
  /** MSG: ID 3 + ID 3 + ID 7 and two separators. */
  'MSH-9': 15,
  /** ST, v2.7 length. */
  'MSH-10': 199,
  /** VID. */
  'MSH-12': 60,
  /** CX.1 of the first repetition, which becomes a patient (order) key: ST's 199. */
  'PID-3.1': 199,
  'MRG-1.1': 199,
} as const;

export type LimitFault = 'value-too-long' | 'too-many-segments' | 'too-many-repetitions';

export interface LimitViolation {
  readonly fault: LimitFault;
  /** What to fix, for the sender's analyst (ERR-8): names and counts, never values. */
  readonly text: string;
  /** HL7 location, e.g. `MSH-10` or `PID-5`; absent when the message as a whole is at fault. */
  readonly location?: string;
}

/**
 * Whether the text holds more than `maxSegments` segments (non-blank lines, as the parser counts
 * them). Stops counting at the first segment over the limit.
 *
 * One `charCodeAt` pass: a loop of `indexOf(separator, from)` over a large string went quadratic
 * once V8 optimised it (seconds for 60,000 segments), and this runs on every ACK.
 */
export function checkSegmentCount(text: string, maxSegments: number): LimitViolation | undefined {
  let count = 0;
  let content = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CR || c === LF) {
      if (content && ++count > maxSegments) return tooManySegments(maxSegments);
      content = false;
    } else if (!content && !isWhitespace(c)) {
      content = true;
    }
  }
  if (content && ++count > maxSegments) return tooManySegments(maxSegments);
  return undefined;
}

const CR = 0x0d;
const LF = 0x0a;

function tooManySegments(maxSegments: number): LimitViolation {
  return {
    fault: 'too-many-segments',
    text: `message has more than ${maxSegments} segments, this interface's limit`,
  };
}

/** What `String.prototype.trim` removes (the parser skips lines that trim to nothing). */
function isWhitespace(c: number): boolean {
  if (c > 0x20 && c < 0x7f) return false;
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** The first header value longer than FIELD_LENGTH_LIMITS allows, or undefined. */
export function checkFieldLengths(message: Hl7Message): LimitViolation | undefined {
  const msh = message.segments[0];
  if (msh === undefined) return undefined;
  const d = message.delimiters;
  for (const field of [3, 4, 9, 10, 12] as const) {
    const location = `MSH-${field}` as const;
    const value = withoutTrailingDelimiters(msh.fields[field] ?? '', d.component, d.subcomponent);
    const violation = tooLong(location, value.length, FIELD_LENGTH_LIMITS[location]);
    if (violation !== undefined) return violation;
  }
  for (const [name, field, limit] of [
    ['PID', 3, FIELD_LENGTH_LIMITS['PID-3.1']],
    ['MRG', 1, FIELD_LENGTH_LIMITS['MRG-1.1']],
  ] as const) {
    for (const s of message.segments) {
      if (s.name !== name) continue;
      const value = s.fields[field] ?? '';
      // The first repetition's first component, as the patient key reads it, found without a split.
      const length = firstIndexOf(value, [d.repetition, d.component, d.subcomponent]);
      const violation = tooLong(`${name}-${field}`, length, limit);
      if (violation !== undefined) return violation;
    }
  }
  return undefined;
}

function tooLong(location: string, length: number, max: number): LimitViolation | undefined {
  if (length <= max) return undefined;
  return {
    fault: 'value-too-long',
    location,
    text: `${location} is ${length} characters long; the limit is ${max}`,
  };
}

/**
 * HL7 lets a sender omit trailing empty components, so `ADT^A01^ADT_A01^^` is `ADT^A01^ADT_A01`
 * and must not fail a limit the shorter form meets.
 */
function withoutTrailingDelimiters(value: string, component: string, subcomponent: string): string {
  let end = value.length;
  while (end > 0 && (value.charAt(end - 1) === component || value.charAt(end - 1) === subcomponent)) end--;
  return value.slice(0, end);
}

function firstIndexOf(value: string, chars: readonly string[]): number {
  let first = value.length;
  for (const c of chars) {
    const at = value.indexOf(c);
    if (at >= 0 && at < first) first = at;
  }
  return first;
}

/** The first field with more than `maxRepetitions` repetitions, or undefined. */
export function checkRepetitions(message: Hl7Message, maxRepetitions: number): LimitViolation | undefined {
  const rep = message.delimiters.repetition;
  for (const s of message.segments) {
    // MSH-1 is the field separator and MSH-2 holds the repetition character itself.
    const from = s.name === 'MSH' ? 3 : 1;
    for (let f = from; f < s.fields.length; f++) {
      const value = s.fields[f] ?? '';
      // More than max repetitions takes at least max separators, so a shorter field cannot.
      if (value.length < maxRepetitions) continue;
      if (countOf(value, rep, maxRepetitions) >= maxRepetitions) {
        return {
          fault: 'too-many-repetitions',
          location: `${s.name}-${f}`,
          text: `${s.name}-${f} (segment ${s.index}) has more than ${maxRepetitions} repetitions, this interface's limit`,
        };
      }
    }
  }
  return undefined;
}

/** Occurrences of `c` in `value`, counting no further than `stopAt` (a charCodeAt loop, as above). */
function countOf(value: string, c: string, stopAt: number): number {
  const code = c.charCodeAt(0);
  let count = 0;
  for (let i = 0; i < value.length && count < stopAt; i++) {
    if (value.charCodeAt(i) === code) count++;
  }
  return count;
}
