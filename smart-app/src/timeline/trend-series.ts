/**
 * One test's numeric results over time across every facility, for the trend chart. Points keep
 * their facility, flag and correction, so the chart colours by hospital and the table beside it
 * says which values were flagged or corrected. Results in another unit are left out rather than
 * plotted on the wrong scale.
 */
import type { LabResult, TimelineModel } from './timeline-types';
import { fhirTime } from './fhir-time';

export interface TrendPoint {
  /** Epoch ms. */
  readonly time: number;
  readonly value: number;
  readonly facilityKey: string;
  readonly result: LabResult;
}

export interface TrendSeries {
  readonly testKey: string;
  readonly name: string;
  readonly unit?: string;
  /** Oldest first. */
  readonly points: readonly TrendPoint[];
  /** Facilities with points, in first-seen order. */
  readonly facilityKeys: readonly string[];
  /** The reference range most results share, to draw as a band. */
  readonly referenceLow?: number;
  readonly referenceHigh?: number;
  /** Results of this test left out because their unit differs from `unit`. */
  readonly otherUnits: number;
}

function mostCommon<T>(values: readonly T[]): T | undefined {
  const counts = new Map<T, number>();
  let best: T | undefined;
  let bestCount = 0;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/** The series of `testKey` (see `testKeyOf`) in `model`. */
export function buildTrendSeries(model: TimelineModel, testKey: string): TrendSeries {
  const candidates: { result: LabResult; time: number; facilityKey: string }[] = [];
  for (const e of model.events) {
    if (e.type !== 'lab') continue;
    for (const r of e.results) {
      if (r.testKey !== testKey || r.numericValue === undefined) continue;
      const time = fhirTime(r.time) ?? e.time;
      candidates.push({ result: r, time, facilityKey: e.facilityKey });
    }
  }
  // The unit most results use is the scale; the rest are counted, not silently mixed in.
  const unit = mostCommon(candidates.map((c) => c.result.unit ?? ''));
  const kept = candidates.filter((c) => (c.result.unit ?? '') === unit);
  const points = kept
    .map((c) => ({
      time: c.time,
      value: c.result.numericValue ?? 0,
      facilityKey: c.facilityKey,
      result: c.result,
    }))
    .sort((a, b) => a.time - b.time || a.result.id.localeCompare(b.result.id));
  const facilityKeys = [...new Set(points.map((p) => p.facilityKey))];
  const low = mostCommon(
    kept.flatMap((c) => (c.result.referenceLow !== undefined ? [c.result.referenceLow] : [])),
  );
  const high = mostCommon(
    kept.flatMap((c) => (c.result.referenceHigh !== undefined ? [c.result.referenceHigh] : [])),
  );
  const name = kept.at(-1)?.result.name ?? model.tests.find((t) => t.key === testKey)?.name ?? testKey;
  return {
    testKey,
    name,
    ...(unit !== undefined && unit !== '' ? { unit } : {}),
    points,
    facilityKeys,
    ...(low !== undefined ? { referenceLow: low } : {}),
    ...(high !== undefined ? { referenceHigh: high } : {}),
    otherUnits: candidates.length - kept.length,
  };
}
