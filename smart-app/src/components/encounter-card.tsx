/**
 * One encounter on the timeline: what kind, where, from when to when, where the patient stayed,
 * who attended, how they left and what was diagnosed. The left edge is the facility's colour.
 */
import { memo, type CSSProperties, type ReactElement } from 'react';
import { SPAN_WORDS } from '../timeline/encounter-span';
import { formatDuration, formatFhirTime, machineTime } from '../timeline/format-time';
import { fhirTime } from '../timeline/fhir-time';
import type { EncounterEvent, Facility, LocationStay } from '../timeline/timeline-types';
import { Badge } from './badge';
import { Disclosure } from './disclosure';
import { eventDomId } from './event-dom-id';
import { ProvenanceLine } from './provenance-line';

export interface EncounterCardProps {
  readonly event: EncounterEvent;
  readonly facility: Facility | undefined;
  readonly isNew: boolean;
}

function stayText(s: LocationStay): string {
  return s.unit !== undefined && s.unit !== s.name ? `${s.name} (${s.unit})` : s.name;
}

function Span({ event }: { readonly event: EncounterEvent }): ReactElement {
  const words = SPAN_WORDS[event.kind];
  const start = fhirTime(event.start);
  return (
    <p className="span">
      {event.start !== undefined ? (
        <span>
          {words.start} <time dateTime={machineTime(event.start)}>{formatFhirTime(event.start)}</time>
        </span>
      ) : (
        <span>Start not sent</span>
      )}
      {event.end !== undefined ? (
        <span>
          {' → '}
          {words.end} <time dateTime={machineTime(event.end)}>{formatFhirTime(event.end)}</time>
          {start !== undefined && event.endTime !== undefined
            ? ` (${formatDuration(start, event.endTime)})`
            : ''}
        </span>
      ) : null}
    </p>
  );
}

function EncounterCardImpl({ event, facility, isNew }: EncounterCardProps): ReactElement {
  const headingId = `${eventDomId(event.id)}-h`;
  const current = event.locations.at(-1);
  const style = { '--facility': facility?.colour } as CSSProperties;
  return (
    <article
      className={`card card-${event.kind}`}
      id={eventDomId(event.id)}
      aria-labelledby={headingId}
      style={style}
    >
      <header className="card-head">
        <h3 id={headingId}>
          {event.title}
          <span className="card-facility"> · {facility?.name ?? 'Unknown facility'}</span>
        </h3>
        <span className="badges">
          {isNew ? <Badge tone="new">New</Badge> : null}
          {event.ongoing ? <Badge tone="info">Ongoing</Badge> : null}
          {event.cancelled ? <Badge tone="muted">Cancelled</Badge> : null}
        </span>
      </header>
      <Span event={event} />
      <dl className="facts">
        {current !== undefined ? (
          <div>
            <dt>{event.ongoing ? 'Location' : 'Last location'}</dt>
            <dd>{stayText(current)}</dd>
          </div>
        ) : null}
        {event.attending !== undefined ? (
          <div>
            <dt>Attending</dt>
            <dd>{event.attending}</dd>
          </div>
        ) : null}
        {event.dischargeDisposition !== undefined ? (
          <div>
            <dt>Discharged to</dt>
            <dd>{event.dischargeDisposition}</dd>
          </div>
        ) : null}
        {event.diagnoses.length > 0 ? (
          <div>
            <dt>Diagnoses</dt>
            <dd>{event.diagnoses.join('; ')}</dd>
          </div>
        ) : null}
      </dl>
      {event.locations.length > 1 ? (
        <Disclosure className="more" summary={`Location history (${event.locations.length})`}>
          {() => (
            <ol className="stays">
              {event.locations.map((s, i) => (
                <li key={`${s.name}-${i}`}>
                  {stayText(s)}
                  {s.within.length > 0 ? (
                    <span className="stay-within"> in {s.within.join(' › ')}</span>
                  ) : null}
                  {s.start !== undefined ? <span> from {formatFhirTime(s.start)}</span> : null}
                  {s.end !== undefined ? <span> to {formatFhirTime(s.end)}</span> : null}
                  {s.status === 'active' ? <span> (current)</span> : null}
                </li>
              ))}
            </ol>
          )}
        </Disclosure>
      ) : null}
      <ProvenanceLine provenance={event.provenance} facility={facility} />
    </article>
  );
}

export const EncounterCard = memo(EncounterCardImpl);
