/** Two records' comparison vector, scored: the one function every matching path calls. */
import { compareRecords } from './compare-fields';
import type { Demographics } from './demographics';
import { scoreComparison, type NameFrequencies, type PairScore } from './match-model';

export function scorePair(a: Demographics, b: Demographics, freq?: NameFrequencies): PairScore {
  const c = compareRecords(a, b);
  return scoreComparison(
    c,
    {
      given: c.given === 'exact' ? a.given[0] : undefined,
      family: c.family === 'exact' ? a.families[0] : undefined,
    },
    freq,
  );
}
