/**
 * The form of an address that matching compares: the street line in USPS abbreviations
 * ("12 Oak Lane" and "12 OAK LN" agree) without the unit ("Apt 4", "#4", "Unit 4", which clerks
 * record inconsistently), plus the 5-digit ZIP. Phones become their last ten digits and e-mail
 * addresses lower case, so formatting never decides a match.
 */

/** USPS Publication 28 suffixes and directionals that feeds spell out or abbreviate. */
const STREET_WORDS: Readonly<Record<string, string>> = {
  ALLEY: 'ALY',
  AVENUE: 'AVE',
  AV: 'AVE',
  BOULEVARD: 'BLVD',
  CIRCLE: 'CIR',
  COURT: 'CT',
  DRIVE: 'DR',
  EXPRESSWAY: 'EXPY',
  HIGHWAY: 'HWY',
  LANE: 'LN',
  PARKWAY: 'PKWY',
  PLACE: 'PL',
  ROAD: 'RD',
  SQUARE: 'SQ',
  STREET: 'ST',
  STR: 'ST',
  TERRACE: 'TER',
  TRAIL: 'TRL',
  WAY: 'WAY',
  NORTH: 'N',
  SOUTH: 'S',
  EAST: 'E',
  WEST: 'W',
  NORTHEAST: 'NE',
  NORTHWEST: 'NW',
  SOUTHEAST: 'SE',
  SOUTHWEST: 'SW',
};

/** Words that start a unit designator; the unit is dropped with the word. */
const UNIT_WORDS = new Set([
  'APT',
  'APARTMENT',
  'UNIT',
  'STE',
  'SUITE',
  'FL',
  'FLOOR',
  'RM',
  'ROOM',
  'BLDG',
  'LOT',
]);

/** A street line in comparable form, or undefined when nothing of a street is left. */
export function normalizeStreet(lines: readonly string[]): string | undefined {
  const words: string[] = [];
  for (const line of lines) {
    const tokens = line
      .toUpperCase()
      .replace(/#\s*\S+/g, ' ')
      .replace(/[^A-Z0-9\s]/g, ' ')
      .split(/\s+/)
      .filter((t) => t !== '');
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as string;
      if (UNIT_WORDS.has(t)) {
        i++; // the unit number
        continue;
      }
      words.push(STREET_WORDS[t] ?? t);
    }
  }
  return words.length === 0 ? undefined : words.join(' ');
}

/** The 5-digit ZIP of `postalCode` ("62701-1234" → "62701"), or undefined. */
export function normalizePostal(postalCode: string | undefined): string | undefined {
  const m = /^\s*(\d{5})(?:[-\s]?\d{4})?\s*$/.exec(postalCode ?? '');
  return m?.[1] ?? (postalCode?.trim() === '' ? undefined : postalCode?.trim().toUpperCase());
}

/** The last ten digits of a phone number (a leading country code 1 drops away), or undefined. */
export function normalizePhone(value: string): string | undefined {
  // An extension is not part of the number that identifies a household.
  const digits = value.split(/\s*(?:ext\.?|x)\s*\d+\s*$/i)[0]?.replace(/\D/g, '') ?? '';
  if (digits.length < 10) return undefined;
  return digits.slice(-10);
}

/** A lower-case e-mail address, or undefined when `value` is not one. */
export function normalizeEmail(value: string): string | undefined {
  const v = value
    .trim()
    .toLowerCase()
    .replace(/^mailto:/, '');
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? v : undefined;
}
