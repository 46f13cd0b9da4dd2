/**
 * `GET /api/errors`: failed messages grouped by cause, for the console's errors view. Each group's
 * `key` lists its messages (`/api/messages?errorKey=`) and replays them (the replay filter). The
 * groups name message ids, so reading them is a search of the archive, scoped and audited so.
 */
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { allowsResource, getAccessContext } from '../auth/access-context';
import type { AuditEvent } from '../auth/audit-log';
import type { Queryable } from '../store/db';
import { groupFailedMessages } from '../store/error-groups';
import { UNTIL_AFTER_SINCE, untilAfterSince } from './message-filter-params';
import { outcome, sendOutcome } from './operation-outcome';
import { isoInstant, MAX_FILTER_LENGTH, parseParams, safeText } from './request-params';

export interface ErrorsRouterDeps {
  readonly db: Queryable;
  /** Verifies the caller and leaves the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  readonly audit: (event: AuditEvent) => Promise<void>;
}

const errorsQuery = z
  .strictObject({
    sender: safeText(MAX_FILTER_LENGTH).optional(),
    since: isoInstant.optional(),
    until: isoInstant.optional(),
  })
  .refine(untilAfterSince, UNTIL_AFTER_SINCE);

/** Routes mounted at `/api/errors`. */
export function createErrorsRouter(deps: ErrorsRouterDeps): Router {
  const router = express.Router();
  router.use(deps.authorize);
  router.get('/', async (req, res) => {
    const ctx = getAccessContext(res);
    if (!allowsResource(ctx, 'Message', 's')) {
      sendOutcome(res, outcome('forbidden', 'scope does not allow Message.s'));
      return;
    }
    const q = parseParams(res, errorsQuery, req.query);
    if (q === undefined) return;
    const groups = await groupFailedMessages(deps.db, {
      ...(q.sender !== undefined ? { sender: q.sender } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
    });
    await deps.audit({
      clientId: ctx.clientId,
      ...(ctx.subject !== undefined ? { subject: ctx.subject } : {}),
      action: 'search',
      resourceType: 'Message',
      query: new URLSearchParams(req.query as Record<string, string>).toString(),
      outcome: 'success',
      detail: { view: 'errors', groups: groups.length },
    });
    res.json({ groups });
  });
  return router;
}
