/** The console's API client, handed to every screen through context rather than a module global. */
import { createContext, useContext, type ReactElement, type ReactNode } from 'react';
import type { ConsoleApi } from './console-api';

const ApiContext = createContext<ConsoleApi | undefined>(undefined);

export function ApiProvider({
  api,
  children,
}: {
  readonly api: ConsoleApi;
  readonly children: ReactNode;
}): ReactElement {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

/** The API client; only inside ApiProvider. */
export function useApi(): ConsoleApi {
  const api = useContext(ApiContext);
  if (api === undefined) throw new Error('useApi outside ApiProvider');
  return api;
}
