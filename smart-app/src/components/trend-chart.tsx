/**
 * The trend chart, drawn by uPlot (canvas: thousands of points stay fast). Loaded lazily, so the
 * timeline's first render never waits for it. One series per facility in the facility's colour,
 * the usual reference range as dashed lines.
 */
import { useEffect, useRef, type ReactElement } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { alignTrendColumns } from '../timeline/trend-columns';
import type { TrendSeries } from '../timeline/trend-series';
import type { Facility } from '../timeline/timeline-types';

export interface TrendChartProps {
  readonly series: TrendSeries;
  readonly facilities: ReadonlyMap<string, Facility>;
}

const HEIGHT = 240;
const RANGE_COLOUR = '#4d5b6a';

function buildPlot(
  series: TrendSeries,
  facilities: ReadonlyMap<string, Facility>,
  width: number,
): {
  opts: uPlot.Options;
  data: uPlot.AlignedData;
} {
  const { xs, columns } = alignTrendColumns(series);
  const lines: uPlot.Series[] = columns.map((c) => {
    const colour = facilities.get(c.facilityKey)?.colour ?? RANGE_COLOUR;
    return {
      label: facilities.get(c.facilityKey)?.name ?? c.facilityKey,
      stroke: colour,
      width: 2,
      spanGaps: true,
      points: { show: true, size: 7, fill: colour },
    };
  });
  const data: (readonly (number | null)[])[] = [xs, ...columns.map((c) => c.ys)];
  for (const [label, value] of [
    ['Range low', series.referenceLow],
    ['Range high', series.referenceHigh],
  ] as const) {
    if (value === undefined) continue;
    lines.push({ label, stroke: RANGE_COLOUR, width: 1, dash: [6, 4], points: { show: false } });
    data.push(xs.map(() => value));
  }
  const opts: uPlot.Options = {
    width,
    height: HEIGHT,
    series: [{ label: 'Time' }, ...lines],
    axes: [{}, { label: series.unit ?? '' }],
    scales: { x: { time: true } },
    legend: { show: true },
  };
  return { opts, data: data as uPlot.AlignedData };
}

export default function TrendChart({ series, facilities }: TrendChartProps): ReactElement {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const { opts, data } = buildPlot(series, facilities, Math.max(el.clientWidth, 280));
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => {
      plot.setSize({ width: Math.max(el.clientWidth, 280), height: HEIGHT });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, facilities]);
  const label = `${series.name} over time: ${series.points.length} results from ${series.facilityKeys.length} ${
    series.facilityKeys.length === 1 ? 'facility' : 'facilities'
  }. The table below lists every value.`;
  return <div ref={host} className="trend-chart" role="img" aria-label={label} />;
}
