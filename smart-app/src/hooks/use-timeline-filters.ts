/** The filter bar's state: one object, with a setter per control and a reset. */
import { useCallback, useState } from 'react';
import { NO_FILTERS, type TimelineFilters } from '../timeline/timeline-filters';
import type { EventKind } from '../timeline/timeline-types';

export interface TimelineFilterState {
  readonly filters: TimelineFilters;
  readonly toggleFacility: (key: string) => void;
  readonly toggleKind: (kind: EventKind) => void;
  readonly setFrom: (day: string) => void;
  readonly setTo: (day: string) => void;
  readonly clear: () => void;
}

function toggle<T>(list: readonly T[], value: T): readonly T[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

/** Drops an emptied date rather than keeping `''`, so "no bound" has one spelling. */
function withDay(f: TimelineFilters, field: 'from' | 'to', day: string): TimelineFilters {
  const { [field]: _old, ...rest } = f;
  return day === '' ? rest : { ...rest, [field]: day };
}

export function useTimelineFilters(): TimelineFilterState {
  const [filters, setFilters] = useState<TimelineFilters>(NO_FILTERS);
  return {
    filters,
    toggleFacility: useCallback(
      (key) => setFilters((f) => ({ ...f, facilities: toggle(f.facilities, key) })),
      [],
    ),
    toggleKind: useCallback((kind) => setFilters((f) => ({ ...f, kinds: toggle(f.kinds, kind) })), []),
    setFrom: useCallback((day) => setFilters((f) => withDay(f, 'from', day)), []),
    setTo: useCallback((day) => setFilters((f) => withDay(f, 'to', day)), []),
    clear: useCallback(() => setFilters(NO_FILTERS), []),
  };
}
