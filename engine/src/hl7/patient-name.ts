/**
 * The patient's name as the archive indexes it, so an analyst finds "Müller, Jo" by typing
 * `muller, jo`: one normalisation for the stored key and for the search, accents and case
 * dropped, family and given joined by `^` so a prefix can stop inside either part.
 */
import type { Hl7Message } from './parse-message';
import { getComponent, getRepetitions, getSubcomponent, unescapeHl7 } from './read-value';

/** PID-5's first repetition: the surname (PID-5.1.1) and the first given name (PID-5.2). */
export interface PatientName {
  readonly family: string;
  readonly given: string;
}

/**
 * Longest stored key and display name: a btree entry must stay far below PostgreSQL's ~2,700-byte
 * limit, or a sender's odd PID-5 would make the archive refuse the whole message.
 */
export const MAX_NAME_LENGTH = 200;

/** Letters NFKD leaves whole but a person typing without them would write this way. */
const FOLDED: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  ø: 'o',
  œ: 'oe',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  ı: 'i',
  þ: 'th',
};

/** The name in the first PID's first PID-5 repetition; undefined when both parts are empty. */
export function readPatientName(message: Hl7Message): PatientName | undefined {
  const pid = message.segments.find((s) => s.name === 'PID');
  if (pid === undefined) return undefined;
  const d = message.delimiters;
  const first = getRepetitions(pid, 5, d)[0];
  if (first === undefined) return undefined;
  const part = (raw: string): string => {
    const v = unescapeHl7(raw, d).trim();
    // `""` is HL7's explicit null.
    return v === '""' ? '' : v;
  };
  const family = part(getSubcomponent(getComponent(first, 1, d), 1, d));
  const given = part(getSubcomponent(getComponent(first, 2, d), 1, d));
  return family === '' && given === '' ? undefined : { family, given };
}

/** Lower case, accents and `^` removed, spaces collapsed. */
export function normalizeNamePart(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæøœđðłıþ]/g, (c) => FOLDED[c] ?? c)
    .replace(/\^/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `family^given`, normalised: what `messages.patient_name_key` holds. */
export function patientNameKey(n: PatientName): string {
  return `${normalizeNamePart(n.family)}^${normalizeNamePart(n.given)}`.slice(0, MAX_NAME_LENGTH);
}

/** `Family, Given` as sent (or the one part there is): what `messages.patient_name` holds. */
export function patientNameDisplay(n: PatientName): string {
  return [n.family, n.given]
    .filter((p) => p !== '')
    .join(', ')
    .slice(0, MAX_NAME_LENGTH);
}

/**
 * The key prefix a search means: `smith` → `smith` (any family starting so), `smith, jo` →
 * `smith^jo` (family Smith, given starting Jo), `smith,` → `smith^` (family exactly Smith).
 * Undefined when no family is left after normalising.
 */
export function nameSearchPrefix(query: string): string | undefined {
  const comma = query.indexOf(',');
  const family = normalizeNamePart(comma < 0 ? query : query.slice(0, comma));
  if (family === '') return undefined;
  if (comma < 0) return family.slice(0, MAX_NAME_LENGTH);
  return `${family}^${normalizeNamePart(query.slice(comma + 1))}`.slice(0, MAX_NAME_LENGTH);
}

/**
 * The smallest string above every string starting with `prefix`, in code point order (the "C"
 * collation of the key column): the exclusive upper bound of a prefix range scan.
 */
export function prefixUpperBound(prefix: string): string {
  // Code points, not UTF-16 units: the bound must not split a surrogate pair.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  const points = [...prefix];
  while (points.length > 0) {
    const last = (points.pop() ?? '').codePointAt(0) ?? 0;
    if (last < 0x10ffff) {
      // Skip the surrogate range, which no text holds.
      const next = last + 1 >= 0xd800 && last + 1 <= 0xdfff ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  // Only U+10FFFF characters: nothing is above them; the caller's range then has no upper bound.
  return '';
}
