/**
 * Starting a bulk replay (`POST /api/messages/replay`) of chosen messages or of everything a
 * filter finds, e.g. a whole error group after its mapping was fixed.
 */
import { useMutation, type UseMutationResult } from '@tanstack/react-query';
import { useApi } from '../api/api-context';
import type { ReplayStarted } from '../api/api-types';

export type ReplayRequest =
  { readonly ids: readonly string[] } | { readonly filter: Readonly<Record<string, string>> };

/** A started replay with what it replays, in words for the progress list. */
export interface StartedReplay extends ReplayStarted {
  readonly label: string;
}

/**
 * @param onStarted - told on the hook, not per call: the caller (an error group) may be gone by
 *   the time the engine answers, and the start must still be followed.
 */
export function useReplay(
  onStarted: (started: ReplayStarted, request: ReplayRequest) => void,
): UseMutationResult<ReplayStarted, Error, ReplayRequest> {
  const api = useApi();
  return useMutation({
    mutationFn: async (request: ReplayRequest) =>
      (await api.request<ReplayStarted>('POST', '/api/messages/replay', { body: request })).body,
    onSuccess: onStarted,
  });
}
