/**
 * Pairwise precision and recall of a linkage against the truth: every pair of records put in one
 * person is a predicted link, correct when both records are the same true person. The identity
 * benchmark and the threshold sweep judge by this one definition.
 */

export interface PairwiseQuality {
  readonly truePairs: number;
  readonly predictedPairs: number;
  readonly correctPairs: number;
  readonly precision: number;
  readonly recall: number;
}

const pairs = (n: number): number => (n * (n - 1)) / 2;

/** @param records - each record's person as linked and its true person. */
export function pairwiseQuality(
  records: Iterable<{ readonly person: string; readonly truth: string }>,
): PairwiseQuality {
  const byPerson = new Map<string, Map<string, number>>();
  const perTruth = new Map<string, number>();
  for (const { person, truth } of records) {
    const inner = byPerson.get(person) ?? new Map<string, number>();
    inner.set(truth, (inner.get(truth) ?? 0) + 1);
    byPerson.set(person, inner);
    perTruth.set(truth, (perTruth.get(truth) ?? 0) + 1);
  }
  let predictedPairs = 0;
  let correctPairs = 0;
  for (const inner of byPerson.values()) {
    let size = 0;
    for (const n of inner.values()) {
      size += n;
      correctPairs += pairs(n);
    }
    predictedPairs += pairs(size);
  }
  let truePairs = 0;
  for (const n of perTruth.values()) truePairs += pairs(n);
  return {
    truePairs,
    predictedPairs,
    correctPairs,
    precision: predictedPairs === 0 ? 1 : correctPairs / predictedPairs,
    recall: truePairs === 0 ? 1 : correctPairs / truePairs,
  };
}
