/**
 * A trend series as aligned columns (one x axis, one y column per facility, gaps as null): the
 * shape uPlot draws, built here so the chart module only configures drawing.
 */
import type { TrendSeries } from './trend-series';

export interface TrendColumns {
  /** Unix seconds, ascending, unique. */
  readonly xs: readonly number[];
  /** Per facility key, in `series.facilityKeys` order: the value at each x, or null. */
  readonly columns: readonly { readonly facilityKey: string; readonly ys: readonly (number | null)[] }[];
}

/** Aligns `series` by time; two results of one facility at one instant keep the later listed. */
export function alignTrendColumns(series: TrendSeries): TrendColumns {
  const xs = [...new Set(series.points.map((p) => Math.floor(p.time / 1000)))].sort((a, b) => a - b);
  const position = new Map(xs.map((x, i) => [x, i]));
  const columns = series.facilityKeys.map((facilityKey) => {
    const ys: (number | null)[] = xs.map(() => null);
    for (const p of series.points) {
      if (p.facilityKey !== facilityKey) continue;
      const i = position.get(Math.floor(p.time / 1000));
      if (i !== undefined) ys[i] = p.value;
    }
    return { facilityKey, ys };
  });
  return { xs, columns };
}
