/**
 * The timeline's two reads through TanStack Query: `$everything` (kept fresh for five minutes,
 * refetched when the PCP comes back to the tab) and the inbox (polled each minute, so a notice
 * that arrives while the app is open shows up, and the session's tokens keep being renewed).
 */
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import type { TimelineSource } from '../engine/timeline-source';
import type { Bundle } from '../fhir/fhir-resources';

const EVERYTHING_STALE_MS = 5 * 60_000;
const INBOX_POLL_MS = 60_000;

/** A session that ended is not retried: the screen says to relaunch. */
function retryUnlessSessionOver(count: number, err: Error): boolean {
  const over = err.name === 'SessionExpiredError' || err.name === 'LaunchFailedError';
  // The engine answered (4xx, 5xx with an outcome): asking again at once changes nothing.
  const refused = err.name === 'EngineRequestError' && (err as { status?: number }).status !== 0;
  return !over && !refused && count < 2;
}

export function useEverything(source: TimelineSource, patientId: string | undefined): UseQueryResult<Bundle> {
  return useQuery({
    queryKey: ['everything', patientId],
    queryFn: ({ signal }) => source.everything(patientId ?? '', signal),
    enabled: patientId !== undefined,
    staleTime: EVERYTHING_STALE_MS,
    retry: retryUnlessSessionOver,
  });
}

export function useInbox(source: TimelineSource, patientIds: readonly string[]): UseQueryResult<Bundle> {
  return useQuery({
    queryKey: ['inbox', ...patientIds],
    queryFn: ({ signal }) => source.inbox(patientIds, signal),
    enabled: patientIds.length > 0,
    refetchInterval: INBOX_POLL_MS,
    retry: retryUnlessSessionOver,
  });
}
