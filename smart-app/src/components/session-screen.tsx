/**
 * The redirect page's screen: while the launch completes and the token is exchanged it says so;
 * if the launch cannot go on it says why; then it shows the timeline.
 */
import type { ReactElement } from 'react';
import { useAppSession } from '../hooks/use-app-session';
import { SessionProblem } from './session-problem';
import { StatusPanel } from './status-panel';
import { TimelineScreen } from './timeline-screen';

export function SessionScreen({ pageUrl }: { readonly pageUrl: string }): ReactElement {
  const session = useAppSession(pageUrl);
  if (session.isError) {
    return (
      <main className="page" id="main">
        <header className="page-head">
          <h1>Care timeline</h1>
        </header>
        <SessionProblem error={session.error} />
      </main>
    );
  }
  if (session.data === undefined) {
    return (
      <main className="page" id="main">
        <header className="page-head">
          <h1>Care timeline</h1>
        </header>
        <StatusPanel kind="loading" title="Connecting to your EHR and the hospitals…" />
      </main>
    );
  }
  const { ehr, grant, source } = session.data;
  return (
    <TimelineScreen
      source={source}
      patient={grant.patient}
      match={grant.match}
      issuer={ehr.issuer}
      needPatientBanner={ehr.needPatientBanner}
      readEhrPatient={ehr.readPatient}
    />
  );
}
