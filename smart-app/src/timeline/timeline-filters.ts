/**
 * Narrowing the timeline by facility, kind of event and date range. An empty choice means "all",
 * so a filter the PCP never touched hides nothing. A span counts as in range when any part of it
 * is: an admission that began before the range and was still going is shown.
 */
import { fhirTime } from './fhir-time';
import type { EventKind, TimelineEvent } from './timeline-types';

export interface TimelineFilters {
  /** Facility keys to show; empty shows every facility. */
  readonly facilities: readonly string[];
  /** Kinds to show; empty shows every kind. */
  readonly kinds: readonly EventKind[];
  /** First day shown, `YYYY-MM-DD` (local), inclusive. */
  readonly from?: string;
  /** Last day shown, `YYYY-MM-DD` (local), inclusive. */
  readonly to?: string;
}

export const NO_FILTERS: TimelineFilters = { facilities: [], kinds: [] };

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether any filter is set. */
export function hasFilters(f: TimelineFilters): boolean {
  return f.facilities.length > 0 || f.kinds.length > 0 || f.from !== undefined || f.to !== undefined;
}

/**
 * The events `filters` keep, in their order.
 * @param now - epoch ms standing in for the end of an ongoing span.
 */
export function applyFilters(
  events: readonly TimelineEvent[],
  filters: TimelineFilters,
  now: number,
): readonly TimelineEvent[] {
  if (!hasFilters(filters)) return events;
  const facilities = new Set(filters.facilities);
  const kinds = new Set(filters.kinds);
  const from = fhirTime(filters.from) ?? Number.NEGATIVE_INFINITY;
  // A day filter includes the whole of its last day.
  const toDay = fhirTime(filters.to);
  const to = toDay === undefined ? Number.POSITIVE_INFINITY : toDay + DAY_MS - 1;
  return events.filter((e) => {
    if (facilities.size > 0 && !facilities.has(e.facilityKey)) return false;
    if (kinds.size > 0 && !kinds.has(e.kind)) return false;
    const start = e.time;
    const end = e.type === 'encounter' ? (e.endTime ?? (e.ongoing ? now : start)) : start;
    return end >= from && start <= to;
  });
}
