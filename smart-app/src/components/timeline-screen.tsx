/**
 * The PCP's cross-facility timeline for the launched patient: banner (when the EHR asks), what
 * needs attention, facility legend, filters, an optional trend, and every encounter and result,
 * newest first. Data comes through a TimelineSource, so tests render it from a fixture Bundle.
 */
import { useCallback, useMemo, useState, type ReactElement } from 'react';
import type { PatientMatch } from '../engine/exchange-response';
import type { TimelineSource } from '../engine/timeline-source';
import type { Patient } from '../fhir/fhir-resources';
import { useEhrPatient } from '../hooks/use-ehr-patient';
import { useLastLook } from '../hooks/use-last-look';
import { useEverything, useInbox } from '../hooks/use-timeline-data';
import { useTimelineFilters } from '../hooks/use-timeline-filters';
import { buildAttentionList } from '../timeline/attention-list';
import { buildTimeline } from '../timeline/build-timeline';
import { formatFhirTime } from '../timeline/format-time';
import { inboxNotices } from '../timeline/inbox-notices';
import { countNewSince, lastLookKey, type LastLookStorage } from '../timeline/last-look';
import { applyFilters } from '../timeline/timeline-filters';
import type { EventKind } from '../timeline/timeline-types';
import { AttentionPanel } from './attention-panel';
import { FacilityLegend } from './facility-legend';
import { FilterBar } from './filter-bar';
import { bannerFromEhr, bannerFromRecord, PatientBanner } from './patient-banner';
import { endsSession, SessionProblem } from './session-problem';
import { StatusPanel } from './status-panel';
import { TimelineList } from './timeline-list';
import { TrendPanel } from './trend-panel';

export interface TimelineScreenProps {
  readonly source: TimelineSource;
  /** The engine Patient to read; undefined when the exchange matched nobody. */
  readonly patient: string | undefined;
  readonly match: PatientMatch;
  /** The EHR's `iss` (the last look is kept per EHR and patient). */
  readonly issuer: string;
  readonly needPatientBanner: boolean;
  readonly readEhrPatient?: () => Promise<Patient>;
  /** Epoch ms for "last 30 days" and ongoing spans; @defaultValue the time of the first render */
  readonly now?: number;
  /** @defaultValue window.localStorage */
  readonly lastLookStorage?: LastLookStorage;
}

const KIND_ORDER: readonly EventKind[] = [
  'inpatient',
  'emergency',
  'observation',
  'outpatient',
  'preadmission',
  'other',
  'lab',
];

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function TimelineScreen(props: TimelineScreenProps): ReactElement {
  const { source, patient, match, issuer } = props;
  const [now] = useState(() => props.now ?? Date.now());
  const patientIds = useMemo(
    () => [...new Set([...(patient !== undefined ? [patient] : []), ...match.records.map((r) => r.patient)])],
    [patient, match],
  );
  const everything = useEverything(source, patient);
  const inbox = useInbox(source, patient === undefined ? [] : patientIds);
  const ehrPatient = useEhrPatient(props.readEhrPatient, props.needPatientBanner);
  const model = useMemo(
    () => (everything.data === undefined ? undefined : buildTimeline(everything.data)),
    [everything.data],
  );
  const notices = useMemo(() => (inbox.data === undefined ? [] : inboxNotices(inbox.data)), [inbox.data]);
  const lastLook = useLastLook(
    lastLookKey(issuer, patient ?? 'none'),
    model !== undefined,
    props.lastLookStorage,
  );
  const filterState = useTimelineFilters();
  const [trendKey, setTrendKey] = useState<string | undefined>(undefined);
  const closeTrend = useCallback(() => setTrendKey(undefined), []);

  const facilities = useMemo(() => new Map((model?.facilities ?? []).map((f) => [f.key, f])), [model]);
  const filtered = useMemo(
    () => (model === undefined ? [] : applyFilters(model.events, filterState.filters, now)),
    [model, filterState.filters, now],
  );
  const attention = useMemo(
    () => buildAttentionList(model?.events ?? [], notices, { now }),
    [model, notices, now],
  );
  // A notice is about an Encounter or an Observation; an Observation is shown in its report.
  const itemByResource = useMemo(() => {
    const map = new Map<string, string>();
    for (const e of model?.events ?? []) {
      map.set(e.id, e.id);
      if (e.type === 'lab') for (const r of e.results) map.set(r.id, e.id);
    }
    return map;
  }, [model]);
  const itemOf = useCallback((resource: string) => itemByResource.get(resource), [itemByResource]);
  const kinds = useMemo(() => {
    const present = new Set(model?.events.map((e) => e.kind));
    return KIND_ORDER.filter((k) => present.has(k));
  }, [model]);

  const bannerPatient =
    ehrPatient.data !== undefined
      ? bannerFromEhr(ehrPatient.data)
      : model?.patients[0] !== undefined && (ehrPatient.isError || props.readEhrPatient === undefined)
        ? bannerFromRecord(model.patients[0])
        : undefined;
  const banner = props.needPatientBanner ? <PatientBanner patient={bannerPatient} /> : null;

  let body: ReactElement;
  if (patient === undefined) {
    body = (
      <StatusPanel kind="empty" title="No hospital records found for this patient">
        <p>
          None of the hospitals that send to the care-coordination engine has a record that matches this
          patient
          {match.reason !== undefined ? ` (${match.reason})` : ''}. Admissions, visits and results will show
          here once a hospital sends them.
        </p>
      </StatusPanel>
    );
  } else if (everything.isError) {
    body = endsSession(everything.error) ? (
      <SessionProblem error={everything.error} />
    ) : (
      <StatusPanel kind="error" title="The timeline could not be loaded">
        <p>{errorText(everything.error)}</p>
        <button type="button" onClick={() => void everything.refetch()}>
          Try again
        </button>
      </StatusPanel>
    );
  } else if (model === undefined) {
    body = <StatusPanel kind="loading" title="Loading the timeline…" />;
  } else {
    const newCount = countNewSince(model.events, lastLook.previous);
    body = (
      <>
        <p className="summary">
          {model.events.length === 1 ? '1 event' : `${model.events.length} events`} from{' '}
          {model.facilities.length === 1 ? '1 facility' : `${model.facilities.length} facilities`}.{' '}
          {lastLook.previous !== undefined ? (
            <>
              {newCount === 1 ? '1 new' : `${newCount} new`} since your last look (
              {formatFhirTime(lastLook.previous)}).{' '}
              {newCount > 0 ? (
                <button type="button" className="link-button" onClick={lastLook.markSeen}>
                  Mark all as seen
                </button>
              ) : null}
            </>
          ) : lastLook.available ? (
            'Your first look at this timeline in this browser.'
          ) : (
            'This browser cannot remember your last look.'
          )}
        </p>
        <FacilityLegend facilities={model.facilities} />
        <AttentionPanel
          attention={attention}
          facilities={facilities}
          inboxLoading={inbox.isPending && inbox.fetchStatus !== 'idle'}
          itemOf={itemOf}
          {...(inbox.isError ? { inboxProblem: errorText(inbox.error) } : {})}
        />
        {trendKey !== undefined ? (
          <TrendPanel
            model={model}
            facilities={facilities}
            testKey={trendKey}
            onChange={setTrendKey}
            onClose={closeTrend}
          />
        ) : null}
        <section className="events" aria-labelledby="timeline-heading">
          <div className="events-head">
            <h2 id="timeline-heading">Timeline</h2>
            {model.tests.length > 0 && trendKey === undefined ? (
              <button type="button" className="link-button" onClick={() => setTrendKey(model.tests[0]?.key)}>
                Show a trend
              </button>
            ) : null}
          </div>
          <FilterBar state={filterState} facilities={model.facilities} kinds={kinds} />
          <p className="count" role="status">
            {filtered.length === model.events.length
              ? `Showing all ${model.events.length} events, newest first.`
              : `Showing ${filtered.length} of ${model.events.length} events, newest first.`}
          </p>
          {model.events.length === 0 ? (
            <StatusPanel kind="empty" title="Nothing from the hospitals yet">
              <p>This patient is known to the engine, but no admission, visit or result has arrived.</p>
            </StatusPanel>
          ) : filtered.length === 0 ? (
            <StatusPanel kind="empty" title="No events match these filters">
              <button type="button" onClick={filterState.clear}>
                Clear filters
              </button>
            </StatusPanel>
          ) : (
            <TimelineList
              events={filtered}
              facilities={facilities}
              lastLook={lastLook.previous}
              onTrend={setTrendKey}
            />
          )}
        </section>
      </>
    );
  }

  return (
    <main className="page" id="main">
      {banner}
      <header className="page-head">
        <h1>Care timeline</h1>
      </header>
      {body}
    </main>
  );
}
