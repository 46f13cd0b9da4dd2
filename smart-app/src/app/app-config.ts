/**
 * The app's registration at the EHR, from the engine (`GET /app/config.json`): the client id
 * (`SMART_APP_CLIENT_ID`) and the scopes. Served rather than built in, so one build works for
 * every deployment.
 */
import { DEFAULT_APP_SCOPES } from '../smart/smart-scopes';

export interface AppConfig {
  readonly clientId: string;
  readonly scopes: readonly string[];
}

/** Thrown when the engine does not serve a usable configuration. */
export class AppConfigError extends Error {
  override readonly name = 'AppConfigError';
}

/** Checks the JSON of `config.json`. */
export function parseAppConfig(json: unknown): AppConfig {
  if (typeof json !== 'object' || json === null) throw new AppConfigError('config.json is not an object');
  const { clientId, scopes } = json as Record<string, unknown>;
  if (typeof clientId !== 'string' || clientId === '') {
    throw new AppConfigError('config.json has no clientId');
  }
  const list =
    Array.isArray(scopes) && scopes.every((s): s is string => typeof s === 'string') && scopes.length > 0
      ? scopes
      : typeof scopes === 'string' && scopes.trim() !== ''
        ? scopes.trim().split(/\s+/)
        : DEFAULT_APP_SCOPES;
  return { clientId, scopes: list };
}

/** Fetches `config.json` next to the app's pages. */
export async function loadAppConfig(appBase: URL, fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  const res = await fetchImpl(new URL('config.json', appBase), { headers: { accept: 'application/json' } });
  if (!res.ok) throw new AppConfigError(`config.json answered ${res.status}`);
  const json: unknown = await res.json();
  return parseAppConfig(json);
}
