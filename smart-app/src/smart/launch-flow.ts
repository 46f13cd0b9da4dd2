/**
 * The launch, from the EHR's `launch.html?iss=...&launch=...` to the redirect back to `/app/`:
 * read the configuration, pick the scope syntax the EHR speaks, authorise. An EHR that answers
 * `invalid_scope` to a request carrying v2 scopes is asked once more with v1 scopes only; that
 * reuses its launch id, which an EHR that makes launch ids single-use refuses (the user then
 * relaunches, and the EHR's smart-configuration should say `permission-v1` so it works first time).
 */
import type { AppConfig } from '../app/app-config';
import type { AuthorizeRequest } from './smart-session';
import { LaunchRequiredError } from './session-errors';
import { scopeRequest, scopeSyntaxFor, type ScopeSyntax } from './smart-scopes';

export interface LaunchParams {
  readonly iss: string;
  /** Absent for a standalone launch. */
  readonly launch?: string;
}

export interface LaunchDeps {
  /** `<engine>/app/`: where config.json is and where the EHR redirects back to. */
  readonly appBase: URL;
  readonly loadConfig: (appBase: URL) => Promise<AppConfig>;
  readonly discover: (iss: string) => Promise<readonly string[] | undefined>;
  readonly authorize: (req: AuthorizeRequest) => Promise<void>;
  /** sessionStorage in the app; remembers the launch for the one scope retry. */
  readonly storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
}

export interface AuthorizationError {
  readonly error: string;
  readonly description?: string;
}

const SAVED_LAUNCH_KEY = 'care-timeline:launch';

interface SavedLaunch extends LaunchParams {
  readonly syntax: ScopeSyntax;
}

/** `iss` and `launch` of a launch URL (EHR launch: both; standalone: `iss` only), else undefined. */
export function readLaunchParams(url: URL): LaunchParams | undefined {
  const iss = url.searchParams.get('iss');
  if (iss === null || iss === '') return undefined;
  const launch = url.searchParams.get('launch');
  return launch === null || launch === '' ? { iss } : { iss, launch };
}

/** The OAuth error an authorization server put on the redirect, if any. */
export function authorizationErrorOf(url: URL): AuthorizationError | undefined {
  const error = url.searchParams.get('error');
  if (error === null) return undefined;
  const description = url.searchParams.get('error_description');
  return description === null ? { error } : { error, description };
}

function readSaved(storage: LaunchDeps['storage']): SavedLaunch | undefined {
  try {
    const raw = storage?.getItem(SAVED_LAUNCH_KEY) ?? null;
    const saved: unknown = raw === null ? undefined : JSON.parse(raw);
    if (typeof saved !== 'object' || saved === null) return undefined;
    const { iss, launch, syntax } = saved as Record<string, unknown>;
    if (typeof iss !== 'string' || (syntax !== 'both' && syntax !== 'v2' && syntax !== 'v1')) {
      return undefined;
    }
    return typeof launch === 'string' ? { iss, launch, syntax } : { iss, syntax };
  } catch {
    // Storage refused or the value is not ours: there is simply no launch to retry.
    return undefined;
  }
}

/**
 * Starts the authorisation for a launch.
 * @param params - from `readLaunchParams`; undefined throws LaunchRequiredError.
 * @param syntax - forces a scope syntax (the retry); otherwise chosen from the EHR's capabilities.
 */
export async function beginLaunch(
  params: LaunchParams | undefined,
  deps: LaunchDeps,
  syntax?: ScopeSyntax,
): Promise<void> {
  if (params === undefined) throw new LaunchRequiredError('The launch did not say which EHR (no iss).');
  const [config, capabilities] = await Promise.all([
    deps.loadConfig(deps.appBase),
    syntax === undefined ? deps.discover(params.iss) : Promise.resolve(undefined),
  ]);
  const chosen = syntax ?? scopeSyntaxFor(capabilities);
  const saved: SavedLaunch = { ...params, syntax: chosen };
  try {
    deps.storage?.setItem(SAVED_LAUNCH_KEY, JSON.stringify(saved));
  } catch {
    // Without storage the scope retry is unavailable; the launch itself does not need it.
  }
  await deps.authorize({
    clientId: config.clientId,
    scope: scopeRequest(config.scopes, chosen, params.launch === undefined ? 'standalone' : 'ehr'),
    iss: params.iss,
    ...(params.launch !== undefined ? { launch: params.launch } : {}),
    redirectUri: deps.appBase.href,
  });
}

/**
 * On the redirect page: when the EHR answered `invalid_scope` to a request that carried v2
 * scopes, authorises again with v1 scopes only. True when that started (the page is leaving).
 */
export async function retryWithV1Scopes(url: URL, deps: LaunchDeps): Promise<boolean> {
  if (authorizationErrorOf(url)?.error !== 'invalid_scope') return false;
  const saved = readSaved(deps.storage);
  if (saved === undefined || saved.syntax === 'v1') return false;
  const { syntax: _syntax, ...params } = saved;
  await beginLaunch(params, deps, 'v1');
  return true;
}
