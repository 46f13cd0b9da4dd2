/**
 * The console's root: one query cache and one API client for the page, the session gate (sign-in
 * until the engine says signed in), then the screen the address names. A 401 from any request
 * returns to sign-in with a note that the session ended.
 */
import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState, type ReactElement } from 'react';
import { ApiProvider } from './api/api-context';
import { isConsoleApiError } from './api/api-error';
import { createConsoleApi } from './api/console-api';
import type { ConsoleRole } from './api/api-types';
import { ApiErrorNotice } from './common/api-error-notice';
import { StatusPanel } from '../components/status-panel';
import { ErrorsScreen } from './errors/errors-screen';
import { MessageBrowser } from './messages/message-browser';
import { MessageView } from './messages/message-view';
import { OperationsScreen } from './operations/operations-screen';
import { useConsoleLocation } from './routing/console-navigation';
import { parseRoute, type ConsoleRoute } from './routing/console-route';
import { csrfTokenOf, SESSION_KEY, useConsoleSession } from './session/console-session';
import { ConsoleShell } from './shell/console-shell';
import { SignInScreen } from './sign-in/sign-in-screen';

/**
 * The workbench brings CodeMirror and the schema tooling, most of the console's weight: loaded
 * when an analyst opens it, so sign-in, messages and errors start without it (its one split).
 */
const MappingWorkbench = lazy(async () => ({
  default: (await import('./mappings/mapping-workbench')).MappingWorkbench,
}));

export interface ConsoleAppProps {
  /** For component tests; @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export function ConsoleApp({ fetch: fetchImpl }: ConsoleAppProps = {}): ReactElement {
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            // A refused request (403, 404, 422) will be refused again; only an unanswered one is retried.
            retry: (count, err) =>
              count < 2 && isConsoleApiError(err) && (err.kind === 'network' || err.kind === 'unavailable'),
          },
        },
      }),
  );
  const [ended, setEnded] = useState(false);
  const [api] = useState(() =>
    createConsoleApi({
      ...(fetchImpl !== undefined ? { fetch: fetchImpl } : {}),
      csrfToken: () => csrfTokenOf(client),
      onUnauthenticated: () => {
        if (client.getQueryData<{ signedIn: boolean }>(SESSION_KEY)?.signedIn === true) {
          setEnded(true);
          void client.invalidateQueries({ queryKey: SESSION_KEY });
        }
      },
    }),
  );
  return (
    <QueryClientProvider client={client}>
      <ApiProvider api={api}>
        <SessionGate ended={ended} />
      </ApiProvider>
    </QueryClientProvider>
  );
}

function SessionGate({ ended }: { readonly ended: boolean }): ReactElement {
  const session = useConsoleSession();
  const location = useConsoleLocation();
  const client = useQueryClient();
  if (session.isPending) return <StatusPanel kind="loading" title="Opening the console…" />;
  if (session.isError) {
    return (
      <main className="sign-in">
        <ApiErrorNotice error={session.error} title="The console could not reach the engine" />
        <button
          type="button"
          onClick={() => {
            void client.invalidateQueries({ queryKey: SESSION_KEY });
          }}
        >
          Try again
        </button>
      </main>
    );
  }
  if (!session.data.signedIn) return <SignInScreen methods={session.data.methods} ended={ended} />;
  const route = parseRoute(location.pathname, location.search);
  return (
    <ConsoleShell session={session.data} screen={route.screen}>
      <Screen route={route} role={session.data.user.role} />
    </ConsoleShell>
  );
}

function Screen({ route, role }: { readonly route: ConsoleRoute; readonly role: ConsoleRole }): ReactElement {
  switch (route.screen) {
    case 'messages':
      return <MessageBrowser filter={route.filter} />;
    case 'message':
      return <MessageView key={route.id} id={route.id} />;
    case 'errors':
      return <ErrorsScreen />;
    case 'mappings':
      return (
        <Suspense fallback={<StatusPanel kind="loading" title="Opening the workbench" />}>
          <MappingWorkbench path={route.path} messageId={route.messageId} role={role} />
        </Suspense>
      );
    case 'operations':
      return <OperationsScreen role={role} />;
    case 'not-found':
      return (
        <StatusPanel kind="error" title="No such page in the console">
          <p>Use the navigation above.</p>
        </StatusPanel>
      );
  }
}
