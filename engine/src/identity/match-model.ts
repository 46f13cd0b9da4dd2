/**
 * The scoring model, in the spirit of Fellegi-Sunter: each field's agreement level weighs
 * log2(m/u), where m is how often true matches show that level and u how often two different
 * people do. Exact agreement on a name uses the name's frequency in the population as u, so
 * SMITH weighs less than ZBOROWSKI. Fields are not independent within a household (twins share
 * everything but a given name), so three rules sit on top of the sum: a different given name
 * with the same birth date is a twin, and a different given name, birth date or SSN can at most
 * send a pair to review, however much else agrees.
 */
import type { Comparison } from './compare-fields';

/** m and u of one level. */
interface Level {
  readonly m: number;
  readonly u: number;
}

/**
 * The m/u table. m: the error rates seen in registration data (names mistyped in ~3% of
 * records, nicknames ~5%, a moved address ~15%); u: the chance that two random people agree at
 * that level (a birth date 1 in ~29,000; a street address 1 in ~10,000).
 */
export const LEVELS = {
  given: {
    exact: { m: 0.86, u: 0.01 },
    nickname: { m: 0.05, u: 0.002 },
    typo: { m: 0.03, u: 0.002 },
    phonetic: { m: 0.015, u: 0.004 },
    middle: { m: 0.01, u: 0.001 },
    initial: { m: 0.01, u: 0.03 },
    disagree: { m: 0.025, u: 0.95 },
  },
  family: {
    exact: { m: 0.88, u: 0.003 },
    compound: { m: 0.04, u: 0.0005 },
    typo: { m: 0.03, u: 0.001 },
    phonetic: { m: 0.01, u: 0.003 },
    'other-name': { m: 0.01, u: 0.001 },
    disagree: { m: 0.03, u: 0.99 },
  },
  birthDate: {
    exact: { m: 0.94, u: 1 / 29_000 },
    'day-month-swap': { m: 0.02, u: 1 / 29_000 },
    'one-digit': { m: 0.025, u: 1 / 1_000 },
    'year-only': { m: 0.005, u: 1 / 400 },
    disagree: { m: 0.01, u: 0.996 },
  },
  sex: {
    agree: { m: 0.98, u: 0.5 },
    disagree: { m: 0.02, u: 0.5 },
  },
  address: {
    street: { m: 0.75, u: 1 / 10_000 },
    postal: { m: 0.1, u: 1 / 100 },
    disagree: { m: 0.15, u: 0.99 },
  },
  phone: {
    agree: { m: 0.8, u: 1 / 50_000 },
    disagree: { m: 0.2, u: 1 },
  },
  email: {
    agree: { m: 0.85, u: 1 / 1_000_000 },
    disagree: { m: 0.15, u: 1 },
  },
  ssn: {
    agree: { m: 0.97, u: 1 / 10_000_000 },
    'one-digit': { m: 0.02, u: 1 / 100_000 },
    disagree: { m: 0.01, u: 1 },
  },
} as const satisfies { readonly [F in keyof Comparison]-?: Record<NonNullable<Comparison[F]>, Level> };

export type MatchField = keyof Comparison;

/**
 * How common a name is: the share of records carrying it. The model smooths it towards the
 * table's u, so a small store (two records of "Smith") does not make every name look common.
 */
export interface NameFrequencies {
  readonly total: number;
  count(kind: 'given' | 'family', value: string): number;
}

/** Records' worth of prior belief in the table's u when smoothing a name's frequency. */
const SMOOTHING_RECORDS = 2_000;

/** The weight of exact agreement on a name, adjusted for how common it is. */
function nameU(
  kind: 'given' | 'family',
  value: string | undefined,
  freq: NameFrequencies | undefined,
): number {
  const base = LEVELS[kind].exact.u;
  if (freq === undefined || value === undefined) return base;
  return (freq.count(kind, value) + SMOOTHING_RECORDS * base) / (freq.total + SMOOTHING_RECORDS);
}

/** One field's part in a score, as the review queue shows it. */
export interface FieldScore {
  readonly field: MatchField;
  readonly level: string;
  readonly weight: number;
}

/** Why a pair cannot be linked on its score. */
export type Veto =
  /**
   * Same birth date, given names that differ (or are merely alike while the sex differs, as
   * Erin and Aaron): twins, kept apart however much of the household agrees.
   */
  | 'twin'
  /** Given names and birth dates both differ: another member of the household, kept apart. */
  | 'household'
  /** Given names differ but birth dates are one digit apart: at most review. */
  | 'given-name'
  /** Birth dates differ (or one is unknown) while the names agree: at most review (Jr and Sr). */
  | 'birth-date'
  /** Different valid SSNs: at most review. */
  | 'ssn';

/** Vetoes that keep a pair apart whatever its weight; the others only cap it at review. */
export const APART_VETOES: ReadonlySet<Veto> = new Set(['twin', 'household']);

export interface PairScore {
  /** Sum of the fields' log2 likelihood ratios. */
  readonly weight: number;
  readonly fields: readonly FieldScore[];
  readonly veto: Veto | undefined;
}

/** The values exact name agreement was on, for frequency adjustment. */
export interface AgreedNames {
  readonly given: string | undefined;
  readonly family: string | undefined;
}

const FIELDS = Object.keys(LEVELS) as MatchField[];

/** log2(m/u) of every level, computed once: scoring runs for millions of pairs in a relink. */
const WEIGHTS: Readonly<Record<string, Readonly<Record<string, number>>>> = Object.fromEntries(
  FIELDS.map((f) => [
    f,
    Object.fromEntries(
      Object.entries(LEVELS[f] as Record<string, Level>).map(([l, e]) => [l, Math.log2(e.m / e.u)]),
    ),
  ]),
);

/** Scores a comparison vector; `names` are the values agreed on exactly, for frequency. */
export function scoreComparison(c: Comparison, names: AgreedNames, freq?: NameFrequencies): PairScore {
  const fields: FieldScore[] = [];
  let weight = 0;
  for (const f of FIELDS) {
    const level = c[f];
    if (level === undefined) continue;
    let w = WEIGHTS[f]?.[level];
    if (w === undefined) continue;
    if ((f === 'given' || f === 'family') && level === 'exact') {
      w = Math.log2(LEVELS[f].exact.m / nameU(f, names[f], freq));
    }
    weight += w;
    fields.push({ field: f, level, weight: Math.round(w * 100) / 100 });
  }
  return { weight: Math.round(weight * 100) / 100, fields, veto: vetoOf(c) };
}

function vetoOf(c: Comparison): Veto | undefined {
  const sameBirth = c.birthDate === 'exact' || c.birthDate === 'day-month-swap';
  // Boy-girl twins are often named alike: Daniel/Danielle (a typo apart), Sam/Samantha (nicknames).
  const alikeOnly =
    c.given === 'typo' || c.given === 'phonetic' || c.given === 'initial' || c.given === 'nickname';
  if (sameBirth && (c.given === 'disagree' || (alikeOnly && c.sex === 'disagree'))) return 'twin';
  if (c.given === 'disagree') return c.birthDate === 'one-digit' ? 'given-name' : 'household';
  if (c.birthDate === undefined || c.birthDate === 'disagree' || c.birthDate === 'year-only') {
    return 'birth-date';
  }
  if (c.ssn === 'disagree') return 'ssn';
  return undefined;
}

/** What a score says: link, review or keep apart. */
export type PairOutcome = 'link' | 'review' | 'apart';

export interface Thresholds {
  /** Weight at or above which an unvetoed pair is linked (IDENTITY_LINK_THRESHOLD). */
  readonly link: number;
  /** Weight at or above which a pair goes to an analyst (IDENTITY_REVIEW_THRESHOLD). */
  readonly review: number;
}

export function outcomeOf(score: PairScore, t: Thresholds): PairOutcome {
  if (score.veto !== undefined && APART_VETOES.has(score.veto)) return 'apart';
  if (score.weight >= t.link && score.veto === undefined) return 'link';
  return score.weight >= t.review ? 'review' : 'apart';
}

/**
 * The weight as a probability of a match, from 0 to 1, for `$match`'s `search.score`: the
 * posterior with prior odds of one in 2^13 (about one record in 8,000 is a given record's match).
 */
export function matchProbability(weight: number): number {
  return 1 / (1 + 2 ** -(weight - 13));
}
