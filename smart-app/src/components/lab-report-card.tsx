/**
 * One lab report on the timeline: its worst flag and any correction up front, the flagged results
 * listed without opening anything, and the full table on demand.
 */
import { memo, type CSSProperties, type ReactElement } from 'react';
import { formatFhirTime, machineTime } from '../timeline/format-time';
import type { Facility, LabReportEvent } from '../timeline/timeline-types';
import { Badge, FlagBadge } from './badge';
import { Disclosure } from './disclosure';
import { eventDomId } from './event-dom-id';
import { LabResultsTable } from './lab-results-table';
import { ProvenanceLine } from './provenance-line';

export interface LabReportCardProps {
  readonly event: LabReportEvent;
  readonly facility: Facility | undefined;
  readonly isNew: boolean;
  readonly onTrend: (testKey: string) => void;
}

function LabReportCardImpl({ event, facility, isNew, onTrend }: LabReportCardProps): ReactElement {
  const headingId = `${eventDomId(event.id)}-h`;
  const flagged = event.results.filter(
    (r) => r.flag.severity === 'critical' || r.flag.severity === 'abnormal',
  );
  const correctedOnly = event.results.filter((r) => r.corrected && !flagged.includes(r));
  const when = event.effective ?? event.issued;
  const style = { '--facility': facility?.colour } as CSSProperties;
  return (
    <article className="card card-lab" id={eventDomId(event.id)} aria-labelledby={headingId} style={style}>
      <header className="card-head">
        <h3 id={headingId}>
          {event.title}
          <span className="card-facility"> · {facility?.name ?? 'Unknown facility'}</span>
        </h3>
        <span className="badges">
          {isNew ? <Badge tone="new">New</Badge> : null}
          <FlagBadge flag={event.flag} />
          {event.corrected ? <Badge tone="corrected">Corrected</Badge> : null}
          {event.status === 'preliminary' ? <Badge tone="muted">Preliminary</Badge> : null}
        </span>
      </header>
      <p className="span">
        {when !== undefined ? (
          <span>
            Collected <time dateTime={machineTime(when)}>{formatFhirTime(when)}</time>
          </span>
        ) : null}
        <span>
          {' · '}
          {event.results.length === 1 ? '1 result' : `${event.results.length} results`}
          {flagged.length > 0 ? `, ${flagged.length} flagged` : ''}
        </span>
      </p>
      {flagged.length + correctedOnly.length > 0 ? (
        <ul className="flagged" aria-label={`Flagged or corrected results of ${event.title}`}>
          {[...flagged, ...correctedOnly].map((r) => (
            <li key={r.id}>
              <span className="flagged-name">{r.name}</span> {r.value} <FlagBadge flag={r.flag} />
              {r.corrected ? <Badge tone="corrected">Corrected</Badge> : null}
              {r.referenceRange !== undefined ? (
                <span className="range"> (range {r.referenceRange})</span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      <Disclosure className="more" summary={`All results (${event.results.length})`}>
        {() => (
          <LabResultsTable
            label={`${event.title}, ${facility?.name ?? 'unknown facility'}, ${formatFhirTime(when)}`}
            results={event.results}
            onTrend={onTrend}
          />
        )}
      </Disclosure>
      <ProvenanceLine provenance={event.provenance} facility={facility} />
    </article>
  );
}

export const LabReportCard = memo(LabReportCardImpl);
