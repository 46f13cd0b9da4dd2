/**
 * The timeline itself: every (filtered) event, newest first, each with its facility colour. Long
 * timelines render the newest events first and fill in the rest right after (use-progressive-count).
 */
import type { ReactElement } from 'react';
import { useProgressiveCount } from '../hooks/use-progressive-count';
import { isNewSince } from '../timeline/last-look';
import type { Facility, TimelineEvent } from '../timeline/timeline-types';
import { EncounterCard } from './encounter-card';
import { LabReportCard } from './lab-report-card';

export interface TimelineListProps {
  readonly events: readonly TimelineEvent[];
  readonly facilities: ReadonlyMap<string, Facility>;
  readonly lastLook: string | undefined;
  readonly onTrend: (testKey: string) => void;
}

export function TimelineList({ events, facilities, lastLook, onTrend }: TimelineListProps): ReactElement {
  const shown = useProgressiveCount(events.length);
  return (
    <ol className="timeline" aria-busy={shown < events.length}>
      {events.slice(0, shown).map((e) => {
        const facility = facilities.get(e.facilityKey);
        const isNew = isNewSince(e.provenance.receivedAt, lastLook);
        return (
          <li key={e.id} className="timeline-item">
            {e.type === 'encounter' ? (
              <EncounterCard event={e} facility={facility} isNew={isNew} />
            ) : (
              <LabReportCard event={e} facility={facility} isNew={isNew} onTrend={onTrend} />
            )}
          </li>
        );
      })}
    </ol>
  );
}
