/**
 * "Why did it fail?" across the archive: failed messages grouped by cause, the commonest first,
 * optionally for one sender or a period. Each group replays from here once its cause is fixed.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type SubmitEvent, type ReactElement } from 'react';
import { useApi } from '../api/api-context';
import type { ErrorGroup } from '../api/api-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { plural } from '../common/console-format';
import { Field } from '../common/field';
import { StatusPanel } from '../../components/status-panel';
import { dayBoundary } from '../messages/message-filter';
import { ErrorGroupCard } from './error-group-card';
import { ReplayProgress } from './replay-progress';
import type { StartedReplay } from './use-replay';

interface ErrorsFilter {
  readonly sender: string;
  readonly from: string;
}

function errorsQuery(f: ErrorsFilter): string {
  const params = new URLSearchParams();
  if (f.sender.trim() !== '') params.set('sender', f.sender.trim());
  const since = f.from === '' ? undefined : dayBoundary(f.from, 'start');
  if (since !== undefined) params.set('since', since);
  const text = params.toString();
  return `/api/errors${text === '' ? '' : `?${text}`}`;
}

export function ErrorsScreen(): ReactElement {
  const api = useApi();
  const [form, setForm] = useState<ErrorsFilter>({ sender: '', from: '' });
  const [applied, setApplied] = useState<ErrorsFilter>(form);
  const url = errorsQuery(applied);
  const query = useQuery({
    queryKey: ['errors', url],
    queryFn: ({ signal }) => api.get<{ groups: readonly ErrorGroup[] }>(url, signal),
  });
  const onSubmit = (e: SubmitEvent<HTMLFormElement>): void => {
    e.preventDefault();
    setApplied(form);
  };
  // Replays started here, followed at the screen's level: a group whose messages all succeed
  // leaves the list, and its replay's progress must not leave with it.
  const [replays, setReplays] = useState<readonly StartedReplay[]>([]);
  const groups = query.data?.groups ?? [];
  const total = groups.reduce((n, g) => n + g.count, 0);

  return (
    <section aria-labelledby="errors-heading">
      <h1 id="errors-heading">Errors</h1>
      <form className="filter-form inline" role="search" aria-label="Filter errors" onSubmit={onSubmit}>
        <Field
          id="errors-sender"
          label="Sender"
          value={form.sender}
          onChange={(sender) => {
            setForm((f) => ({ ...f, sender }));
          }}
        />
        <Field
          id="errors-from"
          label="Since"
          type="date"
          value={form.from}
          onChange={(from) => {
            setForm((f) => ({ ...f, from }));
          }}
        />
        <div className="actions">
          <button type="submit">Apply</button>
          <button
            type="button"
            onClick={() => {
              void query.refetch();
            }}
          >
            Refresh
          </button>
        </div>
      </form>
      {query.isPending ? <StatusPanel kind="loading" title="Grouping failed messages…" /> : null}
      {query.isError ? <ApiErrorNotice error={query.error} title="Could not load the errors" /> : null}
      {query.isSuccess ? (
        <p className="count" role="status">
          {groups.length === 0
            ? 'No failed messages.'
            : `${plural(total, 'failed message')} in ${plural(groups.length, 'group')}.`}
        </p>
      ) : null}
      {replays.length > 0 ? (
        <section className="replays" aria-labelledby="replays-heading">
          <h2 id="replays-heading">Replays</h2>
          <ul>
            {replays.map((r) => (
              <li key={r.jobId} data-job-id={r.jobId}>
                <p className="replay-label">{r.label}</p>
                <ReplayProgress jobId={r.jobId} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <ul className="error-groups">
        {groups.map((g, i) => (
          <ErrorGroupCard
            key={g.key}
            group={g}
            index={i}
            onReplayStarted={(job) => {
              setReplays((rs) => [job, ...rs]);
            }}
          />
        ))}
      </ul>
    </section>
  );
}
