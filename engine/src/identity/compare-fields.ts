/**
 * How two records agree, field by field, as discrete levels (the comparison vectors of
 * Fellegi-Sunter). The string measures come from libraries: Jaro-Winkler from talisman,
 * Levenshtein from fastest-levenshtein, Double Metaphone from double-metaphone. This file only
 * decides which level a pair of values falls in; what a level weighs is the match model's.
 */
import { distance } from 'fastest-levenshtein';
import jaroWinkler from 'talisman/metrics/jaro-winkler.js';
import type { Demographics } from './demographics';
import { areNicknames, nicknameForms, nicknameRoots, soundAlike } from './name-forms';

export type GivenLevel = 'exact' | 'nickname' | 'typo' | 'phonetic' | 'middle' | 'initial' | 'disagree';
export type FamilyLevel = 'exact' | 'compound' | 'typo' | 'phonetic' | 'other-name' | 'disagree';
export type BirthDateLevel = 'exact' | 'day-month-swap' | 'one-digit' | 'year-only' | 'disagree';
export type SexLevel = 'agree' | 'disagree';
export type AddressLevel = 'street' | 'postal' | 'disagree';
export type AgreeLevel = 'agree' | 'disagree';
export type SsnLevel = 'agree' | 'one-digit' | 'disagree';

/** Each field's level; a field either record lacks is absent (it says nothing either way). */
export interface Comparison {
  readonly given?: GivenLevel;
  readonly family?: FamilyLevel;
  readonly birthDate?: BirthDateLevel;
  readonly sex?: SexLevel;
  readonly address?: AddressLevel;
  readonly phone?: AgreeLevel;
  readonly email?: AgreeLevel;
  readonly ssn?: SsnLevel;
}

/** One character off, or two adjacent characters swapped, on names long enough to mean it. */
function isTypo(a: string, b: string, jwFloor: number): boolean {
  if (Math.min(a.length, b.length) < 3) return false;
  // Most pairs compared are two different names: a length gap of three or more is neither one
  // edit nor (at these floors) Jaro-Winkler-close, and skips the string measures.
  if (Math.abs(a.length - b.length) > 2) return false;
  return distance(a, b) <= 1 || isAdjacentSwap(a, b) || jaroWinkler(a, b) >= jwFloor;
}

/** Same length, and differing at exactly two adjacent positions that hold each other's characters. */
function isAdjacentSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let first = -1;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    if (a.charCodeAt(i) === b.charCodeAt(i)) continue;
    if (++count > 2) return false;
    if (first < 0) first = i;
  }
  return (
    count === 2 && a[first] === b[first + 1] && a[first + 1] === b[first] && a[first + 1] !== b[first + 1]
  );
}

/** A mistyped short or formal form of the other name ("ROBRT" for Bob, "MKIEY" for Michael). */
const FORMS = new Map<string, readonly string[]>();

/** A name's formal forms and all their short forms, cached: names repeat across millions of pairs. */
function formsOf(n: string): readonly string[] {
  let out = FORMS.get(n);
  if (out === undefined) {
    const roots = nicknameRoots(n);
    out = [...new Set([n, ...roots, ...roots.flatMap(nicknameForms)])];
    if (FORMS.size < 100_000) FORMS.set(n, out);
  }
  return out;
}

/**
 * A mistyped short or formal form of the other name ("ROBRT" for Bob, "MKIEY" for Michael).
 * Only a name in no nickname group can be the typo: two known names that are not nicknames
 * of each other are two names.
 */
function isTypoOfNickname(x: string, y: string): boolean {
  const xKnown = formsOf(x).length > 1;
  const yKnown = formsOf(y).length > 1;
  if (xKnown === yKnown) return false;
  const [typo, known] = xKnown ? [y, x] : [x, y];
  return formsOf(known).some(
    (f) => f !== known && f.length >= 3 && Math.abs(f.length - typo.length) <= 1 && distance(f, typo) <= 1,
  );
}

export function compareGiven(a: Demographics, b: Demographics): GivenLevel | undefined {
  const x = a.given[0];
  const y = b.given[0];
  if (x === undefined || y === undefined) return undefined;
  if (x === y) return 'exact';
  if (x.length === 1 || y.length === 1) return x[0] === y[0] ? 'initial' : 'disagree';
  if (areNicknames(x, y)) return 'nickname';
  if (isTypo(x, y, 0.92) || isTypoOfNickname(x, y)) return 'typo';
  if (soundAlike(a.givenPhonetic, b.givenPhonetic)) return 'phonetic';
  // Registered by the middle name at one facility ("J Robert Smith" goes by Robert).
  if (a.given.slice(1).includes(y) || b.given.slice(1).includes(x)) return 'middle';
  return 'disagree';
}

export function compareFamily(a: Demographics, b: Demographics): FamilyLevel | undefined {
  const x = a.families[0];
  const y = b.families[0];
  if (x === undefined || y === undefined) return undefined;
  if (x === y) return 'exact';
  // One record has both parts of a compound name, the other one of them.
  const parts = new Set(a.familyParts);
  if (b.familyParts.some((p) => parts.has(p)) || x.startsWith(y) || y.startsWith(x)) {
    if (Math.min(x.length, y.length) >= 3) return 'compound';
  }
  if (isTypo(x, y, 0.94)) return 'typo';
  if (soundAlike(a.familyPhonetic, b.familyPhonetic)) return 'phonetic';
  // A maiden or other recorded name of one is the current name of the other.
  const other = new Set(a.families);
  if (b.families.some((f) => other.has(f))) return 'other-name';
  return 'disagree';
}

function digitsDifferingAt(a: string, b: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/** `YYYY-MM-DD` strings compared position by position (no splitting: this runs per pair). */
export function compareBirthDate(a: Demographics, b: Demographics): BirthDateLevel | undefined {
  const x = a.birthDate;
  const y = b.birthDate;
  if (x === undefined || y === undefined) return undefined;
  if (x === y) return 'exact';
  // Day and month swapped: YYYY-MM-DD against YYYY-DD-MM.
  if (x.startsWith(y.slice(0, 5)) && x.slice(5, 7) === y.slice(8, 10) && x.slice(8, 10) === y.slice(5, 7)) {
    return 'day-month-swap';
  }
  let first = -1;
  let count = 0;
  for (let i = 0; i < 10; i++) {
    if (x.charCodeAt(i) === y.charCodeAt(i)) continue;
    if (++count > 2) break;
    if (first < 0) first = i;
  }
  if (count === 1) return 'one-digit';
  // Two adjacent digits swapped within one part ("1980" for "1908").
  if (count === 2 && x[first] === y[first + 1] && x[first + 1] === y[first] && x[first + 1] !== '-') {
    return 'one-digit';
  }
  if (x.slice(4) === y.slice(4)) return 'year-only';
  return 'disagree';
}

export function compareAddress(a: Demographics, b: Demographics): AddressLevel | undefined {
  if (
    (a.street === undefined && a.postal === undefined) ||
    (b.street === undefined && b.postal === undefined)
  ) {
    return undefined;
  }
  const postalOk = a.postal === undefined || b.postal === undefined || a.postal === b.postal;
  if (a.street !== undefined && a.street === b.street && postalOk) return 'street';
  if (a.postal !== undefined && a.postal === b.postal) return 'postal';
  return 'disagree';
}

function compareSsn(a: Demographics, b: Demographics): SsnLevel | undefined {
  if (a.ssn === undefined || b.ssn === undefined) return undefined;
  if (a.ssn === b.ssn) return 'agree';
  return digitsDifferingAt(a.ssn, b.ssn).length === 1 ? 'one-digit' : 'disagree';
}

function compareSets(a: readonly string[], b: readonly string[]): AgreeLevel | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  return a.some((v) => b.includes(v)) ? 'agree' : 'disagree';
}

/** The comparison vector of two records. */
export function compareRecords(a: Demographics, b: Demographics): Comparison {
  const out: { -readonly [K in keyof Comparison]: Comparison[K] } = {};
  const given = compareGiven(a, b);
  if (given !== undefined) out.given = given;
  const family = compareFamily(a, b);
  if (family !== undefined) out.family = family;
  const birthDate = compareBirthDate(a, b);
  if (birthDate !== undefined) out.birthDate = birthDate;
  if (a.sex !== undefined && b.sex !== undefined) out.sex = a.sex === b.sex ? 'agree' : 'disagree';
  const address = compareAddress(a, b);
  if (address !== undefined) out.address = address;
  const phone = compareSets(a.phones, b.phones);
  if (phone !== undefined) out.phone = phone;
  const email = compareSets(a.email === undefined ? [] : [a.email], b.email === undefined ? [] : [b.email]);
  if (email !== undefined) out.email = email;
  const ssn = compareSsn(a, b);
  if (ssn !== undefined) out.ssn = ssn;
  return out;
}
