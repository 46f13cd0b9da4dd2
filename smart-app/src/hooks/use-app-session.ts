/**
 * The launch as a query: started once per page, never refetched (a second `ready()` would find
 * the code already spent), retried only when the engine could not be reached.
 */
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { startAppSession, type AppSession } from '../app/app-session';

const MAX_TRANSIENT_RETRIES = 2;

/** Only an unreachable or failing engine is worth another try; a refused launch is final. */
export function isTransient(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ExchangeError' || err.name === 'TypeError');
}

export function useAppSession(pageUrl: string): UseQueryResult<AppSession> {
  return useQuery({
    queryKey: ['app-session', pageUrl],
    queryFn: () => startAppSession(pageUrl),
    retry: (count, err) => count < MAX_TRANSIENT_RETRIES && isTransient(err),
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });
}
