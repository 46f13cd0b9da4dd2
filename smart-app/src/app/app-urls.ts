/**
 * Where the app and the engine are. The engine serves the app at `<engine>/app/`, so the engine's
 * token endpoint and FHIR API are found from the page's own address and no URL is configured.
 */

/** `<engine>/app/` for a page of the app (Vite's `base`, `/app/` in a build). */
export function appBaseUrl(pageUrl: string, base: string = import.meta.env.BASE_URL): URL {
  return new URL(base, pageUrl);
}

/** `<engine>/`: the directory above the app's. */
export function engineBaseUrl(appBase: URL): URL {
  return new URL('../', appBase);
}

/** The engine endpoints the app uses. */
export interface EngineUrls {
  readonly tokenUrl: string;
  /** Ends with `/`. */
  readonly fhirBase: string;
}

export function engineUrlsOf(engineBase: URL): EngineUrls {
  return { tokenUrl: new URL('auth/token', engineBase).href, fhirBase: new URL('fhir/', engineBase).href };
}
