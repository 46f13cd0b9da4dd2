/**
 * Every failed console request as one typed value: the engine answers failures with an
 * OperationOutcome, and the screens decide by `kind` (sign in again, wait, reload, fix the file)
 * rather than by parsing status codes or message text.
 */

import { outcomeIssues, outcomeText, type OutcomeIssue } from '../../fhir/operation-outcome';

/** One OperationOutcome issue as the console reads it. */
export type ApiIssue = OutcomeIssue;

/** What a failure means for the person at the console. */
export type ApiErrorKind =
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'stale'
  | 'precondition-required'
  | 'invalid'
  | 'rate-limited'
  | 'unavailable'
  | 'network'
  | 'server';

/** A console request the engine refused or could not answer. */
export class ConsoleApiError extends Error {
  override readonly name = 'ConsoleApiError';
  readonly kind: ApiErrorKind;
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  readonly issues: readonly ApiIssue[];
  /** Seconds to wait before trying again (429, 503 with `Retry-After`). */
  readonly retryAfterSec: number | undefined;

  constructor(
    message: string,
    o: { kind: ApiErrorKind; status: number; issues?: readonly ApiIssue[]; retryAfterSec?: number },
  ) {
    super(message);
    this.kind = o.kind;
    this.status = o.status;
    this.issues = o.issues ?? [];
    this.retryAfterSec = o.retryAfterSec;
  }
}

/** True for a ConsoleApiError, checked by name so it survives a second copy of this module. */
export function isConsoleApiError(e: unknown): e is ConsoleApiError {
  return e instanceof Error && e.name === 'ConsoleApiError';
}

function kindOf(status: number): ApiErrorKind {
  switch (status) {
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 409:
      return 'conflict';
    case 412:
      return 'stale';
    case 428:
      return 'precondition-required';
    case 400:
    case 415:
    case 422:
      return 'invalid';
    case 429:
      return 'rate-limited';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return 'server';
  }
}

/** `Retry-After` as seconds: a number of seconds or an HTTP date; undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The sentence a person reads for a failure of this kind, when the engine gave none. */
function fallbackMessage(kind: ApiErrorKind, status: number, retryAfterSec: number | undefined): string {
  switch (kind) {
    case 'unauthenticated':
      return 'Your session has ended. Sign in again.';
    case 'forbidden':
      return 'Your role does not allow this.';
    case 'not-found':
      return 'Not found.';
    case 'stale':
      return 'Someone else changed this since you opened it.';
    case 'rate-limited':
      return retryAfterSec !== undefined
        ? `Too many attempts. Try again in ${formatWait(retryAfterSec)}.`
        : 'Too many attempts. Try again later.';
    case 'unavailable':
      return 'The engine is unavailable. Try again in a moment.';
    case 'network':
      return 'The engine could not be reached.';
    case 'conflict':
    case 'precondition-required':
    case 'invalid':
    case 'server':
      return `The engine answered HTTP ${status}.`;
  }
}

/** "45 seconds", "3 minutes". */
export function formatWait(seconds: number): string {
  if (seconds < 90) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

/**
 * The typed error for a failed answer. `bodyText` is the raw body: a proxy's HTML page or an empty
 * body yields an error with the status alone.
 */
export function apiErrorFromResponse(status: number, headers: Headers, bodyText: string): ConsoleApiError {
  let body: unknown;
  try {
    body = bodyText === '' ? undefined : JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  const issues = outcomeIssues(body);
  const kind = kindOf(status);
  const retryAfterSec = parseRetryAfter(headers.get('retry-after'));
  const said = outcomeText(body);
  // A wait the person can act on beats the engine's generic words.
  const message =
    kind === 'rate-limited' || said === undefined ? fallbackMessage(kind, status, retryAfterSec) : said;
  return new ConsoleApiError(message, {
    kind,
    status,
    issues,
    ...(retryAfterSec !== undefined ? { retryAfterSec } : {}),
  });
}

/** The error for a request that got no answer (offline, engine down, aborted). */
export function networkError(cause: unknown): ConsoleApiError {
  const err = new ConsoleApiError(fallbackMessage('network', 0, undefined), { kind: 'network', status: 0 });
  err.cause = cause;
  return err;
}
