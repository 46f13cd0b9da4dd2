/**
 * Quantiles of a Prometheus histogram of this process, for the operations view: the same
 * estimate `histogram_quantile()` makes from the buckets (linear within the bucket the rank falls
 * in), so the console and a Prometheus dashboard agree on what the buckets allow.
 */
import type { Histogram } from 'prom-client';

export interface HistogramQuantiles {
  /** Observations since the process started. */
  readonly count: number;
  /** One estimate per asked quantile, in the histogram's unit; null when nothing was observed. */
  readonly values: readonly (number | null)[];
}

interface Bucket {
  readonly le: number;
  readonly cumulative: number;
}

/**
 * Estimates `quantiles` (0 to 1) from the histogram's buckets. A rank in the open-ended bucket
 * answers the highest finite bound, as Prometheus does: "at least this".
 */
export async function histogramQuantiles(
  histogram: Histogram,
  quantiles: readonly number[],
): Promise<HistogramQuantiles> {
  const metric = await histogram.get();
  const buckets: Bucket[] = [];
  let count = 0;
  for (const v of metric.values) {
    const name = (v as { metricName?: string }).metricName ?? '';
    if (name.endsWith('_count')) count += v.value;
    if (!name.endsWith('_bucket')) continue;
    const le = v.labels['le'];
    buckets.push({ le: le === '+Inf' ? Infinity : Number(le), cumulative: v.value });
  }
  buckets.sort((a, b) => a.le - b.le);
  return { count, values: quantiles.map((q) => estimate(buckets, count, q)) };
}

function estimate(buckets: readonly Bucket[], count: number, q: number): number | null {
  if (count === 0 || buckets.length === 0) return null;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  let highestFinite = 0;
  for (const b of buckets) {
    if (b.le !== Infinity) highestFinite = b.le;
    if (b.cumulative >= rank) {
      if (b.le === Infinity) return highestFinite;
      const inBucket = b.cumulative - below;
      return inBucket === 0 ? b.le : lower + ((b.le - lower) * (rank - below)) / inBucket;
    }
    lower = b.le;
    below = b.cumulative;
  }
  return highestFinite;
}
