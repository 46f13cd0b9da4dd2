/**
 * The console's one way to talk to the engine: same-origin requests carrying the session cookie,
 * the session's CSRF token on every change, and failures turned into ConsoleApiError. Screens call
 * this and never `fetch` directly, so no request can forget the token or mistake an
 * OperationOutcome for data.
 */
import { apiErrorFromResponse, networkError, type ConsoleApiError } from './api-error';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  /** Undefined for a 204. */
  readonly body: T;
}

export interface ConsoleApi {
  /** GETs JSON; throws ConsoleApiError on any failure. */
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  /** Any method with a JSON body; throws ConsoleApiError on any failure. */
  request<T>(method: HttpMethod, path: string, o?: ApiRequest): Promise<ApiResponse<T>>;
}

export interface ConsoleApiOptions {
  /** The session's CSRF token, read at each request: signing in again replaces it. */
  readonly csrfToken: () => string | undefined;
  /** Told of every 401, so the console returns to sign-in wherever the session ended. */
  readonly onUnauthenticated?: (error: ConsoleApiError) => void;
  /** @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Headers of one request: JSON in and out, and the CSRF token on anything that changes state. */
export function requestHeaders(
  method: HttpMethod,
  csrfToken: string | undefined,
  hasBody: boolean,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    accept: 'application/json, application/fhir+json',
    ...(hasBody ? { 'content-type': 'application/json' } : {}),
    ...(method !== 'GET' && csrfToken !== undefined ? { 'x-csrf-token': csrfToken } : {}),
    ...extra,
  };
}

/**
 * A path on this origin. Links the engine hands out (`next`) may carry its PUBLIC_URL's host,
 * which can differ from the page's (127.0.0.1 and localhost); only the path and query are kept, so
 * the cookie never goes elsewhere.
 */
export function sameOriginPath(link: string): string {
  const url = new URL(link, 'http://console.invalid');
  return `${url.pathname}${url.search}`;
}

export function createConsoleApi(options: ConsoleApiOptions): ConsoleApi {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);

  const request = async <T>(
    method: HttpMethod,
    path: string,
    o: ApiRequest = {},
  ): Promise<ApiResponse<T>> => {
    const hasBody = o.body !== undefined;
    let res: Response;
    try {
      res = await fetchImpl(sameOriginPath(path), {
        method,
        credentials: 'same-origin',
        headers: requestHeaders(method, options.csrfToken(), hasBody, o.headers),
        ...(hasBody ? { body: JSON.stringify(o.body) } : {}),
        ...(o.signal !== undefined ? { signal: o.signal } : {}),
      });
    } catch (err) {
      throw networkError(err);
    }
    const text = await res.text();
    if (!res.ok) {
      const error = apiErrorFromResponse(res.status, res.headers, text);
      if (error.kind === 'unauthenticated') options.onUnauthenticated?.(error);
      throw error;
    }
    // The contract fixes each answer's shape; the engine is this page's own origin.
    const body = (text === '' ? undefined : JSON.parse(text)) as T;
    return { status: res.status, headers: res.headers, body };
  };

  return {
    request,
    async get<T>(path: string, signal?: AbortSignal): Promise<T> {
      const res = await request<T>('GET', path, signal !== undefined ? { signal } : {});
      return res.body;
    },
  };
}
