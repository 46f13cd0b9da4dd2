/**
 * Everything the redirect page does before the timeline can load: retry a scope refusal, finish
 * the EHR launch, exchange the EHR token for an engine token, and build the data source on it.
 * One async function, so the screen has one loading state and one error to explain.
 */
import type { EngineGrant } from '../engine/exchange-response';
import { createEngineFhirSource } from '../engine/engine-fhir-source';
import { createEngineSession } from '../engine/engine-session';
import type { TimelineSource } from '../engine/timeline-source';
import { authorizationErrorOf, retryWithV1Scopes, type LaunchDeps } from '../smart/launch-flow';
import { LaunchFailedError } from '../smart/session-errors';
import { discoverCapabilities } from '../smart/smart-discovery';
import { authorizeAtEhr, completeEhrLaunch, type EhrSession } from '../smart/smart-session';
import { loadAppConfig } from './app-config';
import { appBaseUrl, engineBaseUrl, engineUrlsOf } from './app-urls';

export interface AppSession {
  readonly ehr: EhrSession;
  /** The first exchange's answer: which engine patient, and how the match went. */
  readonly grant: EngineGrant;
  readonly source: TimelineSource;
}

/** The browser's session storage, or undefined where a sandboxed frame refuses it. */
export function sessionStorageOrUndefined(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    // A sandboxed iframe without allow-same-origin throws on access: run without it.
    return undefined;
  }
}

/** The launch dependencies of the real browser (launch.html and the scope retry here). */
export function browserLaunchDeps(pageUrl: string): LaunchDeps {
  return {
    appBase: appBaseUrl(pageUrl),
    loadConfig: (base) => loadAppConfig(base),
    discover: (iss) => discoverCapabilities(iss),
    authorize: authorizeAtEhr,
    storage: sessionStorageOrUndefined(),
  };
}

/** Starts the session for the page at `pageUrl` (the redirect page, `/app/`). */
export async function startAppSession(pageUrl: string): Promise<AppSession> {
  const url = new URL(pageUrl);
  const deps = browserLaunchDeps(pageUrl);
  if (await retryWithV1Scopes(url, deps)) {
    // The browser is on its way to the EHR again; this page is done.
    return new Promise<never>(() => undefined);
  }
  const refused = authorizationErrorOf(url);
  if (refused !== undefined) {
    const why = refused.description !== undefined ? `: ${refused.description}` : '';
    throw new LaunchFailedError(`The EHR did not authorise the app (${refused.error}${why}).`);
  }
  const ehr = await completeEhrLaunch();
  const urls = engineUrlsOf(engineBaseUrl(deps.appBase));
  const engine = createEngineSession({
    tokenUrl: urls.tokenUrl,
    issuer: ehr.issuer,
    ...(ehr.clientId !== undefined ? { clientId: ehr.clientId } : {}),
    subjectToken: () => ehr.accessToken(),
  });
  const grant = await engine.grant();
  return { ehr, grant, source: createEngineFhirSource({ fhirBase: urls.fhirBase, session: engine }) };
}
