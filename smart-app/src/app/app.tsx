/** The app's root: one QueryClient for the page, then the session screen. */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactElement } from 'react';
import { SessionScreen } from '../components/session-screen';

export function App({ pageUrl }: { readonly pageUrl: string }): ReactElement {
  const [client] = useState(() => new QueryClient());
  return (
    <QueryClientProvider client={client}>
      <SessionScreen pageUrl={pageUrl} />
    </QueryClientProvider>
  );
}
