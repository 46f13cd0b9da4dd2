// Filters by facility, kind and date range: empty means all; a span is in range when any part of
// it is; the last day of a range is included whole.
import { describe, expect, it } from 'vitest';
import { buildTimeline } from '../src/timeline/build-timeline';
import { applyFilters, hasFilters, NO_FILTERS } from '../src/timeline/timeline-filters';
import {
  CBC_REPORT,
  CMP_REPORT,
  goldenBundle,
  MERCY_ENCOUNTER,
  NORTHWIND_ENCOUNTER,
  NORTHWIND_REPORT,
} from './fixtures/golden-bundle';

const { events } = buildTimeline(goldenBundle());
const now = Date.parse('2024-03-21T00:00:00Z');
const ids = (f: Parameters<typeof applyFilters>[1]): string[] =>
  applyFilters(events, f, now).map((e) => e.id);

describe('timeline filters', () => {
  it('hides nothing when no filter is set', () => {
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(applyFilters(events, NO_FILTERS, now)).toBe(events);
  });

  it('filters by facility', () => {
    expect(ids({ facilities: ['NORTHWIND'], kinds: [] })).toEqual([NORTHWIND_REPORT, NORTHWIND_ENCOUNTER]);
    expect(ids({ facilities: ['NORTHWIND', 'MERCY'], kinds: [] })).toHaveLength(events.length);
  });

  it('filters by kind of event', () => {
    expect(ids({ facilities: [], kinds: ['emergency'] })).toEqual([NORTHWIND_ENCOUNTER]);
    expect(ids({ facilities: [], kinds: ['lab'] })).toEqual([NORTHWIND_REPORT, CBC_REPORT, CMP_REPORT]);
    expect(ids({ facilities: ['MERCY'], kinds: ['inpatient', 'lab'] })).toEqual([
      CBC_REPORT,
      CMP_REPORT,
      MERCY_ENCOUNTER,
    ]);
  });

  it('keeps a stay that overlaps the range although it began before it', () => {
    // Mercy admitted 5 March, discharged 8 March.
    expect(ids({ facilities: ['MERCY'], kinds: [], from: '2024-03-07', to: '2024-03-07' })).toEqual([
      MERCY_ENCOUNTER,
    ]);
  });

  it('includes the whole of the last day, and an ongoing visit up to now', () => {
    expect(ids({ facilities: [], kinds: ['lab'], to: '2024-03-05' })).toEqual([CBC_REPORT, CMP_REPORT]);
    expect(ids({ facilities: [], kinds: [], from: '2024-03-20' })).toEqual([
      NORTHWIND_REPORT,
      NORTHWIND_ENCOUNTER,
    ]);
    expect(ids({ facilities: [], kinds: [], from: '2024-04-01' })).toEqual([]);
  });
});
