/**
 * The trend of one test across facilities: a test picker, the uPlot chart (loaded on first use)
 * and the values as a table. Takes focus when opened so a keyboard user lands on it.
 */
import { lazy, Suspense, useEffect, useMemo, useRef, type ReactElement } from 'react';
import { buildTrendSeries } from '../timeline/trend-series';
import type { Facility, TimelineModel } from '../timeline/timeline-types';
import { ChartErrorBoundary } from './chart-error-boundary';
import { TrendTable } from './trend-table';

const TrendChart = lazy(() => import('./trend-chart'));

export interface TrendPanelProps {
  readonly model: TimelineModel;
  readonly facilities: ReadonlyMap<string, Facility>;
  readonly testKey: string;
  readonly onChange: (testKey: string) => void;
  readonly onClose: () => void;
}

export function TrendPanel({ model, facilities, testKey, onChange, onClose }: TrendPanelProps): ReactElement {
  const series = useMemo(() => buildTrendSeries(model, testKey), [model, testKey]);
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    panel.current?.focus();
  }, [testKey]);
  return (
    <section className="trend" aria-labelledby="trend-heading" ref={panel} tabIndex={-1}>
      <div className="trend-head">
        <h2 id="trend-heading">
          Trend: {series.name}
          {series.unit !== undefined ? ` (${series.unit})` : ''}
        </h2>
        <button type="button" onClick={onClose}>
          Close trend
        </button>
      </div>
      <label className="trend-picker">
        Test
        <select value={testKey} onChange={(e) => onChange(e.target.value)}>
          {model.tests.map((t) => (
            <option key={t.key} value={t.key}>
              {t.name} ({t.count})
            </option>
          ))}
        </select>
      </label>
      {series.points.length === 0 ? (
        <p className="note">No numeric results for this test.</p>
      ) : (
        <ChartErrorBoundary>
          <Suspense fallback={<p role="status">Loading the chart…</p>}>
            <TrendChart series={series} facilities={facilities} />
          </Suspense>
        </ChartErrorBoundary>
      )}
      {series.otherUnits > 0 ? (
        <p className="note">
          {series.otherUnits} {series.otherUnits === 1 ? 'result is' : 'results are'} in another unit and not
          plotted.
        </p>
      ) : null}
      <TrendTable series={series} facilities={facilities} />
    </section>
  );
}
