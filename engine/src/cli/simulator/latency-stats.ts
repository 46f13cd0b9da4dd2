/**
 * ACK latency bookkeeping: every round trip is kept (a run is bounded, and 100,000 doubles is
 * under 1 MB), so percentiles are exact rather than estimated from buckets.
 */

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Collects latencies in milliseconds. */
export interface LatencyRecorder {
  record(ms: number): void;
  summary(): LatencySummary;
}

/**
 * The nearest-rank percentile of an ascending array; 0 for an empty one.
 * @param sorted - values in ascending order.
 * @param p - percentile in (0, 100].
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

/**
 * Summarises a set of latencies.
 * @param values - latencies in milliseconds, any order.
 */
export function summarizeLatencies(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const v of sorted) total += v;
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0),
    mean: sorted.length === 0 ? 0 : total / sorted.length,
  };
}

/** Creates a recorder backed by a growable Float64Array. */
export function createLatencyRecorder(): LatencyRecorder {
  let values = new Float64Array(1024);
  let count = 0;
  return {
    record(ms: number): void {
      if (count === values.length) {
        const grown = new Float64Array(values.length * 2);
        grown.set(values);
        values = grown;
      }
      values[count++] = ms;
    },
    summary: () => summarizeLatencies(values.subarray(0, count)),
  };
}
