/**
 * The app's last error handler. A request express itself could not read (a path segment that is
 * not valid percent-encoding, a body too large) is the client's mistake: 4xx. Anything else is a
 * bug or an outage: logged with the request's context (method, path, parameter names, the error's
 * code and message and where it was thrown; never parameter values, which may name a patient) and
 * answered 500, or 503 when transient.
 * No error text from inside reaches the caller.
 */
import { isStoreOutage } from '../store/sql-errors';
import type { ErrorRequestHandler, Request } from 'express';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import { outcome, sendOutcome } from './operation-outcome';

/**
 * The 4xx status express, its router or body-parser put on an error they raised: those set both
 * `status` and `statusCode` (http-errors style). Our own errors never carry both.
 */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('status' in err) || !('statusCode' in err)) {
    return undefined;
  }
  const { status, statusCode } = err;
  return typeof status === 'number' && status === statusCode && status >= 400 && status < 500
    ? status
    : undefined;
}

/**
 * A store or queue that is away or too slow (answer 503, try again), as opposed to a bug (500).
 * Unknown errors are bugs here: calling them unavailable would hide them.
 */
function isUnavailable(err: unknown): boolean {
  if (isStoreOutage(err)) return true;
  const e = err as { name?: unknown; message?: unknown } | null;
  // ioredis says so in words: a command timeout or a closed connection carries no code.
  return (
    e?.name === 'MaxRetriesPerRequestError' ||
    (typeof e?.message === 'string' && /^(Command timed out|Connection is closed)/.test(e.message))
  );
}

/**
 * Where an error was thrown: its top stack frames, code locations only (the first stack line is
 * the message, which describeError already gives on one line).
 */
function framesOf(err: unknown): string[] {
  if (!(err instanceof Error) || err.stack === undefined) return [];
  return err.stack
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at '))
    .slice(0, 8);
}

/** Method, path (ids only) and the names of the query parameters. */
function requestContext(req: Request): Record<string, unknown> {
  const query: unknown = req.query;
  return {
    method: req.method,
    path: new URL(req.originalUrl, 'http://request.invalid').pathname,
    params: typeof query === 'object' && query !== null ? Object.keys(query) : [],
  };
}

/** Mount last: `app.use(createErrorHandler(logger))`. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const status = clientErrorStatus(err);
    if (status !== undefined) {
      logger.info({ status, ...requestContext(req) }, 'HTTP request refused as unreadable');
      if (res.headersSent) return;
      const o =
        status === 413
          ? outcome('too-costly', 'the request is too large')
          : outcome('invalid', 'the request could not be read (malformed percent-encoding or body)');
      sendOutcome(res, o, status);
      return;
    }
    logger.error(
      { err: describeError(err), at: framesOf(err), ...requestContext(req) },
      'HTTP handler failed',
    );
    if (res.headersSent) return;
    const transient = isUnavailable(err);
    sendOutcome(
      res,
      outcome(
        transient ? 'transient' : 'exception',
        transient ? 'store or queue unavailable, retry' : 'internal error',
      ),
    );
  };
}
