/**
 * "Needs attention", above the timeline: unread inbox notices and the last 30 days' results from
 * the hospitals, critical first. Each result links to its place in the timeline.
 */
import { useState, type ReactElement } from 'react';
import { ATTENTION_WINDOW_DAYS, type AttentionList } from '../timeline/attention-list';
import { formatFhirTime, machineTime } from '../timeline/format-time';
import type { Facility } from '../timeline/timeline-types';
import { Badge, FlagBadge } from './badge';
import { eventDomId } from './event-dom-id';

/** Results listed before "Show all". */
const FIRST_RESULTS = 5;

export interface AttentionPanelProps {
  readonly attention: AttentionList;
  readonly facilities: ReadonlyMap<string, Facility>;
  /** Why the inbox could not be read, if it could not. */
  readonly inboxProblem?: string;
  readonly inboxLoading: boolean;
  /** The timeline item showing a resource (`Observation/x` is shown in its report), if any. */
  readonly itemOf: (resource: string) => string | undefined;
}

export function AttentionPanel({
  attention,
  facilities,
  inboxProblem,
  inboxLoading,
  itemOf,
}: AttentionPanelProps): ReactElement {
  const [showAll, setShowAll] = useState(false);
  const { unread, results } = attention;
  const shown = showAll ? results : results.slice(0, FIRST_RESULTS);
  return (
    <section className="attention" aria-labelledby="attention-heading">
      <h2 id="attention-heading">Needs attention</h2>
      <h3>Unread notifications</h3>
      {inboxProblem !== undefined ? (
        <p className="note">Notifications could not be loaded: {inboxProblem}</p>
      ) : inboxLoading ? (
        <p className="note">Loading notifications…</p>
      ) : unread.length === 0 ? (
        <p className="note">No unread notifications.</p>
      ) : (
        <ul className="notices">
          {unread.map((n) => (
            <li key={n.id}>
              {n.urgent ? <Badge tone="critical">Urgent</Badge> : null}
              <span className="notice-text">{n.text}</span>
              {n.sent !== undefined ? (
                <time dateTime={machineTime(n.sent)}>{formatFhirTime(n.sent)}</time>
              ) : null}
              {n.about !== undefined && itemOf(n.about) !== undefined ? (
                <a href={`#${eventDomId(itemOf(n.about) ?? '')}`} className="notice-link">
                  Show in timeline
                </a>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <h3>Results in the last {ATTENTION_WINDOW_DAYS} days</h3>
      {results.length === 0 ? (
        <p className="note">No results from the hospitals in the last {ATTENTION_WINDOW_DAYS} days.</p>
      ) : (
        <>
          <ul className="recent-results">
            {shown.map((e) => (
              <li key={e.id}>
                <a href={`#${eventDomId(e.id)}`}>{e.title}</a>
                <span className="recent-facility">
                  {' '}
                  · {facilities.get(e.facilityKey)?.name ?? 'Unknown facility'}
                </span>
                {e.effective !== undefined ? (
                  <>
                    {' · '}
                    <time dateTime={machineTime(e.effective)}>{formatFhirTime(e.effective)}</time>
                  </>
                ) : null}{' '}
                <FlagBadge flag={e.flag} />
                {e.corrected ? <Badge tone="corrected">Corrected</Badge> : null}
              </li>
            ))}
          </ul>
          {results.length > FIRST_RESULTS ? (
            <button
              type="button"
              className="link-button"
              aria-expanded={showAll}
              onClick={() => setShowAll((v) => !v)}
            >
              {showAll ? 'Show fewer results' : `Show all ${results.length} results`}
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}
