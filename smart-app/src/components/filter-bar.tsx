/**
 * Filters by facility, kind of event and date range. Collapsed behind a summary that counts the
 * active filters, so a 360 px EHR panel keeps its height for the timeline.
 */
import type { ReactElement } from 'react';
import { ENCOUNTER_TITLES } from '../timeline/encounter-span';
import { hasFilters } from '../timeline/timeline-filters';
import type { EventKind, Facility } from '../timeline/timeline-types';
import type { TimelineFilterState } from '../hooks/use-timeline-filters';

const KIND_LABELS: Readonly<Record<EventKind, string>> = {
  inpatient: `${ENCOUNTER_TITLES.inpatient}s`,
  emergency: `${ENCOUNTER_TITLES.emergency}s`,
  observation: `${ENCOUNTER_TITLES.observation}s`,
  outpatient: `${ENCOUNTER_TITLES.outpatient}s`,
  preadmission: `${ENCOUNTER_TITLES.preadmission}s`,
  other: 'Other encounters',
  lab: 'Lab results',
};

export interface FilterBarProps {
  readonly state: TimelineFilterState;
  readonly facilities: readonly Facility[];
  /** Kinds present in the timeline, in display order. */
  readonly kinds: readonly EventKind[];
}

export function FilterBar({ state, facilities, kinds }: FilterBarProps): ReactElement {
  const { filters } = state;
  const active =
    filters.facilities.length +
    filters.kinds.length +
    (filters.from !== undefined ? 1 : 0) +
    (filters.to !== undefined ? 1 : 0);
  return (
    <details className="filters">
      <summary>{active === 0 ? 'Filters' : `Filters (${active} active)`}</summary>
      <div className="filter-groups">
        <fieldset>
          <legend>Facility</legend>
          {facilities.map((f) => (
            <label key={f.key} className="check">
              <input
                type="checkbox"
                checked={filters.facilities.includes(f.key)}
                onChange={() => state.toggleFacility(f.key)}
              />
              <span className="swatch" style={{ backgroundColor: f.colour }} aria-hidden="true" />
              {f.name}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Kind of event</legend>
          {kinds.map((k) => (
            <label key={k} className="check">
              <input
                type="checkbox"
                checked={filters.kinds.includes(k)}
                onChange={() => state.toggleKind(k)}
              />
              {KIND_LABELS[k]}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Date range</legend>
          <label className="date">
            From
            <input
              type="date"
              value={filters.from ?? ''}
              max={filters.to}
              onChange={(e) => state.setFrom(e.target.value)}
            />
          </label>
          <label className="date">
            To
            <input
              type="date"
              value={filters.to ?? ''}
              min={filters.from}
              onChange={(e) => state.setTo(e.target.value)}
            />
          </label>
        </fieldset>
      </div>
      <button type="button" onClick={state.clear} disabled={!hasFilters(filters)}>
        Clear filters
      </button>
    </details>
  );
}
