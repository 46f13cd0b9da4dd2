/**
 * A failed request shown where it happened: the engine's sentence, each issue it listed, and what
 * to do next when the kind of failure says so. An alert, so screen readers announce it.
 */
import type { ReactElement } from 'react';
import { isConsoleApiError } from '../api/api-error';
import { IssueLines } from './issue-lines';

export interface ApiErrorNoticeProps {
  readonly error: unknown;
  /** What was being done, e.g. "Could not load the message". */
  readonly title: string;
}

export function ApiErrorNotice({ error, title }: ApiErrorNoticeProps): ReactElement {
  const message = error instanceof Error ? error.message : String(error);
  const issues = isConsoleApiError(error)
    ? error.issues.filter((i) => i.diagnostics !== undefined && i.diagnostics !== message)
    : [];
  return (
    <div className="status status-error" role="alert">
      <p className="status-title">{title}</p>
      <p>{message}</p>
      {issues.length > 0 ? <IssueLines issues={issues} /> : null}
    </div>
  );
}
