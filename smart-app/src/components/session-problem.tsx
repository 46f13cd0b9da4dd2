/**
 * What the PCP reads when the session cannot start or has ended. A SMART app has no login of its
 * own, so every ending comes down to "open it from the EHR again", said plainly.
 */
import type { ReactElement } from 'react';
import { isSessionError } from '../smart/session-errors';
import { StatusPanel } from './status-panel';

export const OPEN_FROM_EHR = 'Open this app from your EHR';

/** Whether `err` ends the session (rather than failing one request). */
export function endsSession(err: unknown): boolean {
  return (
    isSessionError(err, 'LaunchRequiredError') ||
    isSessionError(err, 'SessionExpiredError') ||
    isSessionError(err, 'LaunchFailedError')
  );
}

export function SessionProblem({ error }: { readonly error: unknown }): ReactElement {
  if (isSessionError(error, 'LaunchRequiredError')) {
    return (
      <StatusPanel kind="error" title={OPEN_FROM_EHR}>
        <p>
          This timeline opens from a patient&apos;s chart in your EHR, which tells it who the patient is and
          who you are. Open the patient in the EHR and choose the care timeline app there.
        </p>
      </StatusPanel>
    );
  }
  if (isSessionError(error, 'SessionExpiredError')) {
    return (
      <StatusPanel kind="error" title="Your session has ended">
        <p>{OPEN_FROM_EHR} again to continue.</p>
      </StatusPanel>
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  if (isSessionError(error, 'LaunchFailedError')) {
    return (
      <StatusPanel kind="error" title="The app could not be launched">
        <p>{message}</p>
        <p>{OPEN_FROM_EHR} again; if this keeps happening, tell whoever supports your EHR integration.</p>
      </StatusPanel>
    );
  }
  return (
    <StatusPanel kind="error" title="The app could not start">
      <p>{message}</p>
      <p>{OPEN_FROM_EHR} again to retry.</p>
    </StatusPanel>
  );
}
