/**
 * A failed request shown where it happened: the engine's sentence, each issue it listed, and what
 * to do next when the kind of failure says so. An alert, so screen readers announce it.
 */
import type { ReactElement } from 'react';
import { isConsoleApiError } from '../api/api-error';

export interface ApiErrorNoticeProps {
  readonly error: unknown;
  /** What was being done, e.g. "Could not load the message". */
  readonly title: string;
}

export function ApiErrorNotice({ error, title }: ApiErrorNoticeProps): ReactElement {
  const apiError = isConsoleApiError(error) ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const issues =
    apiError?.issues.filter((i) => i.diagnostics !== undefined && i.diagnostics !== message) ?? [];
  return (
    <div className="status status-error" role="alert">
      <p className="status-title">{title}</p>
      <p>{message}</p>
      {issues.length > 0 ? (
        <ul className="issue-lines">
          {issues.map((i, n) => (
            <li key={n}>
              {[...(i.location ?? []), ...(i.expression ?? [])].length > 0 ? (
                <code>{[...(i.location ?? []), ...(i.expression ?? [])].join(', ')}</code>
              ) : null}{' '}
              {i.diagnostics}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
