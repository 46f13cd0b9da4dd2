/**
 * A bulk replay's progress, asked of the engine every half second until the job is done; then the
 * lists that show message states are refreshed, since the replayed messages have moved on.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, type ReactElement } from 'react';
import { useApi } from '../api/api-context';
import type { ReplayJob } from '../api/api-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { replayFinished, replayFraction, replayProgressText } from './replay-job';

const POLL_MS = 500;
/** When the replayed messages have usually been processed, for a second refresh. */
const SETTLE_MS = 2_000;

export function ReplayProgress({ jobId }: { readonly jobId: string }): ReactElement {
  const api = useApi();
  const client = useQueryClient();
  const job = useQuery({
    queryKey: ['replay-job', jobId],
    queryFn: ({ signal }) => api.get<ReplayJob>(`/api/messages/replay/${encodeURIComponent(jobId)}`, signal),
    refetchInterval: (q) => (q.state.data !== undefined && replayFinished(q.state.data) ? false : POLL_MS),
  });
  const done = job.data !== undefined && replayFinished(job.data);

  useEffect(() => {
    if (!done) return undefined;
    const refresh = (): void => {
      void client.invalidateQueries({ queryKey: ['errors'] });
      void client.invalidateQueries({ queryKey: ['messages'] });
      void client.invalidateQueries({ queryKey: ['message'] });
    };
    refresh();
    // "Done" means queued again; the workers finish them moments later, so look once more then.
    const later = setTimeout(refresh, SETTLE_MS);
    return () => {
      clearTimeout(later);
    };
  }, [done, client]);

  if (job.isError) return <ApiErrorNotice error={job.error} title="Could not follow the replay" />;
  const fraction = job.data === undefined ? 0 : replayFraction(job.data);
  return (
    <div className="replay-progress">
      <progress
        max={1}
        value={fraction}
        aria-label="Replay progress"
        aria-valuetext={`${Math.round(fraction * 100)}%`}
      />
      <p role="status" aria-live="polite" className="replay-text" data-state={job.data?.state ?? 'waiting'}>
        {job.data === undefined ? 'Starting the replay…' : replayProgressText(job.data)}
      </p>
    </div>
  );
}
