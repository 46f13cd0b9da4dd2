// The trend of one test across facilities: LOINC joins Mercy's and Northwind's glucose, points are
// oldest first with their facility, other units are left out, and uPlot's columns align by time.
import { describe, expect, it } from 'vitest';
import { buildTimeline } from '../src/timeline/build-timeline';
import { alignTrendColumns } from '../src/timeline/trend-columns';
import { buildTrendSeries } from '../src/timeline/trend-series';
import { GLUCOSE, goldenBundle } from './fixtures/golden-bundle';

describe('trend series', () => {
  const model = buildTimeline(goldenBundle());

  it('joins one test across facilities by LOINC, oldest first', () => {
    const s = buildTrendSeries(model, GLUCOSE);
    expect(s.points.map((p) => [p.value, p.facilityKey])).toEqual([
      [182, 'MERCY'],
      [95, 'NORTHWIND'],
    ]);
    expect(s.unit).toBe('mg/dL');
    expect(s.facilityKeys).toEqual(['MERCY', 'NORTHWIND']);
    expect([s.referenceLow, s.referenceHigh]).toEqual([70, 99]);
    expect(s.points[0]?.result.flag.label).toBe('High');
    expect(s.otherUnits).toBe(0);
  });

  it('leaves out values in another unit and counts them', () => {
    const m = buildTimeline({
      resourceType: 'Bundle',
      entry: [1, 2, 3].map((i) => ({
        resource: {
          resourceType: 'Observation',
          id: `g${i}`,
          code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
          effectiveDateTime: `2024-01-0${i}T10:00:00Z`,
          valueQuantity: i === 3 ? { value: 5.5, unit: 'mmol/L' } : { value: 100 + i, unit: 'mg/dL' },
        },
      })),
    });
    const s = buildTrendSeries(m, GLUCOSE);
    expect(s.points.map((p) => p.value)).toEqual([101, 102]);
    expect(s.otherUnits).toBe(1);
  });

  it('is empty for a test with no numeric results', () => {
    expect(buildTrendSeries(model, 'http://loinc.org|5778-6').points).toEqual([]);
  });

  it('aligns columns for uPlot: one x axis in seconds, one column per facility with gaps', () => {
    const cols = alignTrendColumns(buildTrendSeries(model, GLUCOSE));
    expect(cols.xs).toEqual([
      Date.parse('2024-03-05T12:15:00-05:00') / 1000,
      Date.parse('2024-03-20T10:00:00-06:00') / 1000,
    ]);
    expect(cols.columns).toEqual([
      { facilityKey: 'MERCY', ys: [182, null] },
      { facilityKey: 'NORTHWIND', ys: [null, 95] },
    ]);
  });
});
