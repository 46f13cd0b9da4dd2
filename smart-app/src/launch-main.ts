/**
 * Entry of `launch.html`, the URL the EHR opens: `?iss=...&launch=...` (EHR launch) or `?iss=...`
 * (standalone). No React here: the page only redirects, so it loads as little as it can.
 */
import { browserLaunchDeps } from './app/app-session';
import { beginLaunch, readLaunchParams } from './smart/launch-flow';
import { isSessionError } from './smart/session-errors';
import './styles/app.css';

function show(title: string, detail: string): void {
  const status = document.getElementById('launch-status');
  const more = document.getElementById('launch-detail');
  if (status !== null) status.textContent = title;
  if (more !== null) more.textContent = detail;
  status?.parentElement?.classList.add('status-error');
}

const url = new URL(window.location.href);
beginLaunch(readLaunchParams(url), browserLaunchDeps(url.href)).catch((err: unknown) => {
  if (isSessionError(err, 'LaunchRequiredError')) {
    show(
      'Open this app from your EHR',
      'This page is the launch address the EHR opens with the patient in context; opened directly it has no patient.',
    );
    return;
  }
  show(
    'The app could not be launched',
    `${err instanceof Error ? err.message : String(err)}. Open it from your EHR again.`,
  );
});
