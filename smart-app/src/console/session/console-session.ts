/**
 * The console session as the query cache holds it: read from `GET /console/auth/session`, set by
 * sign-in, cleared by sign-out. The CSRF token every change carries comes from here.
 */
import {
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
  type UseQueryResult,
} from '@tanstack/react-query';
import { useApi } from '../api/api-context';
import type { ConsoleApi } from '../api/console-api';
import type { ConsoleRole, ConsoleSession, SignInMethods } from '../api/api-types';

export const SESSION_KEY = ['console-session'] as const;

/** The signed-in user, or undefined. */
export type SignedInSession = Extract<ConsoleSession, { signedIn: true }>;

/** The session's CSRF token, when signed in. */
export function csrfTokenOf(client: QueryClient): string | undefined {
  const s = client.getQueryData<ConsoleSession>(SESSION_KEY);
  return s?.signedIn === true ? s.csrfToken : undefined;
}

export function useConsoleSession(): UseQueryResult<ConsoleSession> {
  const api = useApi();
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: ({ signal }) => api.get<ConsoleSession>('/console/auth/session', signal),
    staleTime: 5 * 60_000,
    retry: 1,
  });
}

interface LoginAnswer {
  readonly signedIn: true;
  readonly user: { readonly name: string; readonly role: ConsoleRole };
  readonly csrfToken: string;
  readonly expiresAt: string;
}

/** Sign-in with a name and password; the session lands in the cache on success. */
export function useSignIn(methods: SignInMethods) {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (credentials: { username: string; password: string }) => {
      const res = await api.request<LoginAnswer>('POST', '/console/auth/login', { body: credentials });
      return res.body;
    },
    onSuccess: (answer) => {
      client.setQueryData<ConsoleSession>(SESSION_KEY, { ...answer, methods });
    },
  });
}

/** Sign-out: the session ends at the engine and nothing read under it stays in the page. */
async function signOut(api: ConsoleApi, client: QueryClient): Promise<void> {
  const before = client.getQueryData<ConsoleSession>(SESSION_KEY);
  await api.request('POST', '/console/auth/logout');
  const methods = before?.methods ?? { password: true, oidc: false };
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
  client.setQueryData<ConsoleSession>(SESSION_KEY, { signedIn: false, methods });
}

export function useSignOut() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({ mutationFn: () => signOut(api, client) });
}
