import { describe, expect, it } from 'vitest';
import { pairwiseQuality } from '../../engine/src/cli/bench/pairwise-quality';

describe('pairwiseQuality', () => {
  it('counts predicted, correct and true pairs', () => {
    // Truth: x has 3 records, y has 2. Linked: {x1, x2, y1} and {x3}, {y2}.
    const q = pairwiseQuality([
      { person: 'P', truth: 'x' },
      { person: 'P', truth: 'x' },
      { person: 'P', truth: 'y' },
      { person: 'Q', truth: 'x' },
      { person: 'R', truth: 'y' },
    ]);
    expect(q).toEqual({ truePairs: 4, predictedPairs: 3, correctPairs: 1, precision: 1 / 3, recall: 1 / 4 });
  });

  it('is perfect on nothing linked and nothing to link', () => {
    expect(pairwiseQuality([{ person: 'P', truth: 'x' }])).toMatchObject({ precision: 1, recall: 1 });
  });
});
